"""Two CRL publications at once, each on its own PostgreSQL connection (STYLE 19): the number, the
time and the revoked rows are taken under the CA row's lock, so the second waits for the first and
a higher number never lists less than a lower one (ramis.ca.services.crl_publish)."""

from __future__ import annotations

import threading
import time
import types

import pytest
from cryptography import x509
from django.db import connection

from ramis.ca import responder, services, tasks
from ramis.ca.models import CRL, IssuedCertificate

from .test_services import issue

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL (DATABASE_URL=postgres://…); CI runs them there")


def _backend_pid() -> int:
    with connection.cursor() as cur:
        cur.execute("select pg_backend_pid()")
        return cur.fetchone()[0]


def _waits_on_a_lock(pid: int, thread: threading.Thread, seconds: float = 10.0) -> bool:
    """Whether the backend ``pid`` is seen waiting on a lock while ``thread`` still runs."""
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute("select wait_event_type from pg_stat_activity where pid = %s", [pid])
            row = cur.fetchone()
        if row and row[0] == "Lock":
            return thread.is_alive()
        time.sleep(0.02)
    return False


def _serials(row: CRL) -> set[int]:
    return {entry.serial_number for entry in x509.load_der_x509_crl(bytes(row.der))}


def _in_thread(results: dict, name: str, call) -> threading.Thread:
    def run():
        try:
            results[name] = call()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[name] = exc
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run, name=f"crl-{name}")
    thread.start()
    return thread


def test_a_second_publication_waits_for_the_first_and_lists_no_less(monkeypatch):
    responder.clear_cache()
    services.ca_init(actor=None)
    # Only this test's two publications: no CRL published by a revocation's own task.
    monkeypatch.setattr(tasks.revocation_publish, "delay", lambda *args, **kwargs: None)
    early, late = issue(), issue()
    services.certificate_revoke(serial=early.serial_hex, reason="key_compromise", actor=None)

    # Publisher A is held where it reads the clock: after it took its number (CA row updated), before
    # it reads the revoked rows. In crl_publish that is still under the CA row's lock.
    a_holds, a_goes = threading.Event(), threading.Event()
    held = []
    real_now = services.timezone.now

    def now():
        if threading.current_thread().name == "crl-A" and not held:
            held.append(True)
            a_holds.set()
            a_goes.wait(30)
        return real_now()

    monkeypatch.setattr(services, "timezone", types.SimpleNamespace(now=now))
    results: dict = {}
    b_pid: list[int] = []
    b_started = threading.Event()

    def publish_b():
        b_pid.append(_backend_pid())
        b_started.set()
        return services.crl_publish(ca_slug="issuing")

    threads = []
    try:
        threads.append(_in_thread(results, "A", lambda: services.crl_publish(ca_slug="issuing")))
        assert a_holds.wait(30), "publisher A never took its number"
        threads.append(_in_thread(results, "B", publish_b))
        assert b_started.wait(30)
        b_waited = _waits_on_a_lock(b_pid[0], threads[1])
        # Meanwhile a revocation commits (its own connection, as a clerk's request would be).
        threads.append(_in_thread(results, "revoke", lambda: services.certificate_revoke(
            serial=late.serial_hex, reason="key_compromise", actor=None)))
        threads[-1].join(30)
        assert not threads[-1].is_alive(), "the revocation waited for the CRL publication"
    finally:
        a_goes.set()
        for thread in threads:
            thread.join(60)

    assert results["revoke"].status == IssuedCertificate.Status.REVOKED, results
    a, b = results["A"], results["B"]
    assert isinstance(a, CRL) and isinstance(b, CRL), results
    low, high = sorted((a, b), key=lambda row: row.number)
    assert high.number == low.number + 1
    assert int(early.serial_hex, 16) in _serials(low)
    assert _serials(high) >= _serials(low), (
        f"CRL {high.number} lists {sorted(_serials(high))}, CRL {low.number} lists {sorted(_serials(low))}")
    assert b_waited, "publisher B did not wait for A, which had taken its number but not read its rows"
    assert (a.number, b.number) == (low.number, high.number)  # numbered in the order the lock was taken
    assert _serials(high) == {int(early.serial_hex, 16), int(late.serial_hex, 16)}  # B read after the commit
