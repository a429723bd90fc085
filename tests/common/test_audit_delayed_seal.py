"""The delayed on-commit sealer (``AUDIT_SEAL_DELAY_MS`` > 0, the default outside the tests): the
writer's commit only wakes its process's sealer thread, which seals every entry committed in the
window in one round, on a connection of its own; the chain is the same as with the hook."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from ramis.common import audit
from ramis.common.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def delayed(settings, monkeypatch):
    settings.AUDIT_SEAL_ON_COMMIT = True
    settings.AUDIT_SEAL_DELAY_MS = 300
    rounds: list[int | None] = []
    real = audit._seal_round_in_transaction

    def counted(**kw):  # the real round, its result noted
        done = real(**kw)
        rounds.append(done)
        return done

    monkeypatch.setattr(audit, "_seal_round_in_transaction", counted)
    yield rounds
    audit.stop_delayed_sealer()


def wait_sealed(count: int, timeout: float = 20) -> list[AuditEntry]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            entries = list(AuditEntry.objects.filter(seq__isnull=False).order_by("seq"))
        except OperationalError as exc:  # the suite's in-memory SQLite (shared cache): a read of a table
            if "locked" not in str(exc):  # the sealer is writing fails at once instead of waiting
                raise
            entries = []
        if len(entries) >= count:
            return entries
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} entries sealed after {timeout} s")


def test_commits_in_one_window_are_sealed_together_by_the_thread(company, seo_reviewer, delayed):
    t0 = time.monotonic()
    entries = [audit.record(actor=seo_reviewer, target=company, event=f"test.w{i}") for i in range(3)]
    assert audit.unsealed_count() == 3  # the writers did not seal: the thread will, after the delay
    sealed = wait_sealed(3)
    assert time.monotonic() - t0 >= 0.25
    assert [e.pk for e in sealed] == [e.pk for e in entries]  # commit order
    assert [e.seq for e in sealed] == [1, 2, 3]
    assert 3 in delayed  # one round sealed all three commits
    assert delayed.count(0) <= 1 and len([r for r in delayed if r]) == 1
    assert audit.verify_chain() == (3, [])


def test_stopping_the_thread_seals_what_is_pending(company, seo_reviewer, settings, delayed):
    settings.AUDIT_SEAL_DELAY_MS = 60_000  # far longer than the test: only the stop can seal it
    audit.record(actor=seo_reviewer, target=company, event="test.pending")
    time.sleep(0.2)
    assert audit.unsealed_count() == 1
    thread = audit._DelayedSealer._thread
    assert thread.is_alive() and thread.name == "audit-sealer"
    audit.stop_delayed_sealer()
    assert not thread.is_alive()
    assert AuditEntry.objects.get(event="test.pending").seq == 1
    assert delayed[0] == 1


def test_a_later_commit_wakes_the_thread_again(company, seo_reviewer, delayed):
    audit.record(actor=seo_reviewer, target=company, event="test.first")
    wait_sealed(1)
    audit.record(actor=seo_reviewer, target=company, event="test.second")
    assert AuditEntry.objects.get(event="test.second").seq is None
    sealed = wait_sealed(2)
    assert [e.event for e in sealed] == ["test.first", "test.second"]
    assert audit.verify_chain() == (2, [])


def test_the_delayed_sealer_stops_at_a_round_shorter_than_a_batch(company, seo_reviewer, settings, delayed):
    """``seal(while_full=True)``, as the thread calls it: rounds go on while one sealed a whole
    batch and stop at the first shorter one (a commit after it wakes the thread again), where a
    plain ``seal`` goes on until a round finds nothing — which, with writers committing all the
    time, meant rounds of one entry or none after every real one."""
    settings.AUDIT_SEAL_ON_COMMIT = False  # the thread stays out of it: the rounds here are the test's
    for i in range(5):
        audit.record(actor=seo_reviewer, target=company, event=f"test.batch{i}")
    assert audit.seal(batch=2, while_full=True) == 5
    assert delayed == [2, 2, 1]
    for i in range(4):
        audit.record(actor=seo_reviewer, target=company, event=f"test.more{i}")
    delayed.clear()
    assert audit.seal(batch=2, while_full=True) == 4
    assert delayed == [2, 2, 0]
    audit.record(actor=seo_reviewer, target=company, event="test.plain")
    delayed.clear()
    assert audit.seal(batch=2) == 1 and delayed == [1, 0]  # the plain call: until a round finds nothing
    assert audit.verify_chain() == (10, [])


WRITER = """
import django
django.setup()
from django.contrib.auth.models import Group
from django.db import transaction
from ramis.common import audit
target = Group.objects.get_or_create(name="audit-exit-test")[0]
for i in range(5):
    with transaction.atomic():
        audit.record(actor=None, target=target, event="test.exit", new=str(i))
print(audit.unsealed_count())
"""

CHECKER = """
import json
import django
django.setup()
from ramis.common import audit
from ramis.common.models import AuditEntry
print(json.dumps([audit.unsealed_count(), list(AuditEntry.objects.filter(event="test.exit").order_by("seq")
                  .values_list("new", flat=True)), audit.verify_chain(seal_first=False)]))
"""


def test_a_process_that_exits_normally_seals_its_pending_entries(transactional_db, tmp_path):
    """A command or a server stopping: the sealer thread seals at exit (atexit), long before its
    delay (a minute here) and without waiting for beat. Then another process finds every entry
    sealed and the chain whole. The processes use the test database on PostgreSQL, and a database
    file of their own on SQLite (the suite's SQLite database is in memory, this process's alone)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    elif connection.is_in_memory_db():
        url = f"sqlite:///{tmp_path / 'exit.sqlite3'}"
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "ramis.settings", "AUDIT_SEAL_DELAY_MS": "60000",
           "RAMIS_VAR_DIR": str(tmp_path), "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    env.pop("REDIS_URL", None)

    def python(*args: str) -> str:
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    if url.startswith("sqlite:") and connection.is_in_memory_db():
        python("manage.py", "migrate", "--noinput", "-v", "0")
    t0 = time.monotonic()
    assert python("-c", WRITER).strip() == "5"  # not sealed while it ran
    assert time.monotonic() - t0 < 50
    unsealed, values, (verified, problems) = json.loads(python("-c", CHECKER))
    assert unsealed == 0  # sealed as it exited
    assert values == ["0", "1", "2", "3", "4"]
    assert verified >= 5 and problems == []


def test_with_conn_max_age_0_the_thread_keeps_its_connection_while_commits_come(
        company, seo_reviewer, settings, monkeypatch):
    """CONN_MAX_AGE 0 (the embedded setup): rounds close together share the thread's connection,
    instead of opening one each (a PostgreSQL backend forked every 100 ms under load); once no
    commit came for ``IDLE_SECONDS`` the connection is let go, and the next round opens another
    (Django never closes an in-memory SQLite database, the suite's on SQLite: there the thread
    is seen asking)."""
    import threading

    from django.db import connections

    settings.AUDIT_SEAL_ON_COMMIT = True
    settings.AUDIT_SEAL_DELAY_MS = 50
    monkeypatch.setattr(audit._DelayedSealer, "IDLE_SECONDS", 1.0)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    sealing = []  # (the thread's Django connection, its DB-API connection) of each round that sealed
    closes = []  # when the thread closed its connection
    backend = type(connections["default"])
    real_round, real_close = audit._seal_round_in_transaction, backend.close

    def noted(**kw):
        done = real_round(**kw)
        if done:
            wrapper = connections["default"]
            sealing.append((wrapper, wrapper.connection))  # kept alive: an id is not reused
        return done

    def close(self):
        if threading.current_thread().name == "audit-sealer":
            closes.append(len(sealing))
        return real_close(self)

    def rounds(count: int) -> list:
        deadline = time.monotonic() + 20
        while len(sealing) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(sealing) >= count
        return [raw for _, raw in sealing]

    monkeypatch.setattr(audit, "_seal_round_in_transaction", noted)
    monkeypatch.setattr(backend, "close", close)
    try:
        audit.record(actor=seo_reviewer, target=company, event="test.a")
        rounds(1)
        audit.record(actor=seo_reviewer, target=company, event="test.b")
        first, second = rounds(2)
        assert second is first and not closes  # the second round on the first one's connection
        deadline = time.monotonic() + 10
        while not closes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert closes == [2]  # idle for IDLE_SECONDS after the second round: let go
        assert in_memory or sealing[-1][0].connection is None
        audit.record(actor=seo_reviewer, target=company, event="test.c")
        third = rounds(3)[2]
        assert third is not None and (in_memory or third is not first)  # a new one for the next round
        assert [e.event for e in wait_sealed(3)] == ["test.a", "test.b", "test.c"]
        assert audit.verify_chain() == (3, [])
    finally:
        audit.stop_delayed_sealer()
