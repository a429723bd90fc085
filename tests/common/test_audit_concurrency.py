"""Audited writers run side by side on PostgreSQL (issue 12): no global lock for writers,
one sealer at a time chains what they committed, and the chain stays whole."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import close_old_connections, connection, connections, transaction

from ramis.common import audit
from ramis.common.models import AuditEntry

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (DATABASE_URL=postgres://…); CI runs them there")


def in_thread(fn, *args):
    """Run fn in a thread with its own connection; return (thread, result holder)."""
    result: dict = {}

    def run():
        try:
            result["value"] = fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            result["error"] = exc
        finally:
            close_old_connections()
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_concurrent_writers_produce_one_valid_chain(company, seo_reviewer):
    writers, per_writer = 4, 25
    barrier = threading.Barrier(writers)

    def write(n):
        barrier.wait(timeout=30)
        for i in range(per_writer):
            with transaction.atomic():  # a service's transaction: two entries, sealed after commit
                audit.record(actor=seo_reviewer, target=company, event="test.race", new=f"{n}-{i}-a")
                audit.record(actor=seo_reviewer, target=company, event="test.race", new=f"{n}-{i}-b")
        return per_writer

    started = [in_thread(write, n) for n in range(writers)]
    for thread, result in started:
        thread.join(timeout=120)
        assert not thread.is_alive() and "error" not in result, result
    total = writers * per_writer * 2
    count, problems = audit.verify_chain()
    assert problems == []
    assert count == total
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    # A writer's entries keep their order in the chain (sealed in id order once committed).
    for writer in range(writers):
        seqs = [AuditEntry.objects.get(new=f"{writer}-{i}-{s}").seq for i in range(per_writer) for s in "ab"]
        assert seqs == sorted(seqs)


def test_a_writer_holding_its_transaction_open_blocks_no_other_writer(company, seo_reviewer):
    """The open writer takes no advisory lock (pg_locks) and the second writer commits and is
    sealed while the first is still open; the first is sealed after it commits, later in the chain."""
    opened, release = threading.Event(), threading.Event()
    slow_pid: list[int] = []

    def slow_writer():
        with transaction.atomic():
            audit.record(actor=seo_reviewer, target=company, event="test.slow")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                slow_pid.append(cursor.fetchone()[0])
            opened.set()
            assert release.wait(timeout=60)

    slow, slow_result = in_thread(slow_writer)
    assert opened.wait(timeout=30)
    fast, fast_result = in_thread(
        lambda: audit.record(actor=seo_reviewer, target=company, event="test.fast").pk)
    fast.join(timeout=30)
    try:
        assert not fast.is_alive(), "the second writer waited for the first one's transaction"
        assert "error" not in fast_result, fast_result
        with connection.cursor() as cursor:
            cursor.execute("SELECT locktype FROM pg_locks WHERE pid = %s AND granted", slow_pid)
            held = {row[0] for row in cursor.fetchall()}
            assert "transactionid" in held  # it really is inside its open transaction
            assert "advisory" not in held
        fast_entry = AuditEntry.objects.get(event="test.fast")
        assert fast_entry.seq == 1  # sealed by its own after-commit hook, the slow one still open
        assert not AuditEntry.objects.filter(event="test.slow").exists()  # not committed: invisible
    finally:
        release.set()
        slow.join(timeout=30)
    assert "error" not in slow_result, slow_result
    assert AuditEntry.objects.get(event="test.slow").seq == 2  # chained in commit order, not id order
    assert AuditEntry.objects.get(event="test.slow").pk < fast_entry.pk
    assert audit.verify_chain() == (2, [])


def test_sealers_take_turns_on_their_own_lock(company, seo_reviewer, settings):
    """While one sealer holds the sealing lock, a writer's after-commit sealer gives up at
    once (the writer does not wait) and a waiting sealer seals after it."""
    settings.AUDIT_SEAL_ON_COMMIT = True
    held, release = threading.Event(), threading.Event()

    def hold_sealing_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [audit.SEAL_LOCK_KEY])
            held.set()
            assert release.wait(timeout=60)

    holder, holder_result = in_thread(hold_sealing_lock)
    assert held.wait(timeout=30)
    try:
        writer, writer_result = in_thread(
            lambda: audit.record(actor=seo_reviewer, target=company, event="test.write").pk)
        writer.join(timeout=30)
        assert not writer.is_alive(), "a writer waited for the sealers' lock"
        assert "error" not in writer_result, writer_result
        assert audit.unsealed_count() == 1
    finally:
        release.set()
        holder.join(timeout=30)
    assert "error" not in holder_result, holder_result
    assert audit.seal(wait=True) == 1
    assert audit.verify_chain() == (1, [])


WRITER = """
import sys
import django
django.setup()
from django.db import transaction
from ramis.common import audit
from ramis.registry.models import Company
company = Company.objects.get(pk=int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    with transaction.atomic():
        audit.record(actor=None, target=company, event="test.process", new=sys.argv[3] + "-" + str(i))
"""


def test_writer_processes_produce_one_valid_chain(company, tmp_path):
    """Processes (as gunicorn and Celery run them), each with its own connection and its own
    after-commit sealer, on the test database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "ramis.settings",
           "RAMIS_VAR_DIR": str(tmp_path), "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    env.pop("REDIS_URL", None)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(company.pk), "40", f"p{n}"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(3)]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    assert audit.verify_chain() == (120, [])
    for n in range(3):
        seqs = list(AuditEntry.objects.filter(new__startswith=f"p{n}-").order_by("id").values_list("seq", flat=True))
        assert len(seqs) == 40 and seqs == sorted(seqs)
