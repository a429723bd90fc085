import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from ramis.common import audit
from ramis.common.models import AuditEntry

TABLE = AuditEntry._meta.db_table


@pytest.fixture
def entries(company, seo_reviewer):
    for i in range(3):
        audit.record(actor=seo_reviewer, target=company, event="test.event", old=str(i), new=str(i + 1))
    audit.seal()
    return list(AuditEntry.objects.order_by("id"))


def sql(statement: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def test_writers_insert_unsealed_and_the_sealer_chains_in_order(company, seo_reviewer):
    audit.record(actor=seo_reviewer, target=company, event="test.event")
    entry = AuditEntry.objects.get()
    assert (entry.seq, entry.prev_hash, entry.entry_hash) == (None, "", None)
    assert audit.unsealed_count() == 1
    assert audit.seal() == 1
    assert audit.seal() == 0  # sealed once, never again
    entry.refresh_from_db()
    assert (entry.seq, entry.prev_hash) == (1, audit.GENESIS)
    assert entry.entry_hash == entry.compute_hash()
    assert audit.chain_head() == (1, entry.entry_hash)


def test_entries_are_chained(entries, capsys):
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "3 entries verified" in out
    assert "no signed checkpoint yet" in out


def test_verify_seals_first_and_no_seal_reports_what_is_left(entries, company, seo_reviewer, capsys):
    audit.record(actor=seo_reviewer, target=company, event="test.later")
    call_command("audit", "verify", "--no-seal")
    out = capsys.readouterr().out
    assert "3 entries verified" in out and "1 entries not sealed yet" in out
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "4 entries verified" in out and "not sealed" not in out
    assert AuditEntry.objects.get(event="test.later").seq == 4


def test_a_transaction_is_sealed_right_after_it_commits(company, seo_reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            audit.record(actor=seo_reviewer, target=company, event="test.one")
            audit.record(actor=seo_reviewer, target=company, event="test.two")
            assert audit.unsealed_count() == 2
    assert callbacks, "record() hooks the sealer on commit"
    assert audit.unsealed_count() == 0
    assert list(AuditEntry.objects.order_by("seq").values_list("event", flat=True)) == ["test.one", "test.two"]


def test_seal_on_commit_can_be_turned_off(company, seo_reviewer, settings, django_capture_on_commit_callbacks):
    settings.AUDIT_SEAL_ON_COMMIT = False
    with django_capture_on_commit_callbacks(execute=True):
        audit.record(actor=seo_reviewer, target=company, event="test.one")
    assert audit.unsealed_count() == 1
    call_command("audit", "seal")
    assert audit.unsealed_count() == 0


def test_rolled_back_entries_never_enter_the_chain(entries, company, seo_reviewer):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(actor=seo_reviewer, target=company, event="test.rolled_back")
        raise RuntimeError
    audit.seal()
    count, problems = audit.verify_chain()
    assert (count, problems) == (3, [])


def test_orm_refuses_changes(entries):
    entry = entries[0]
    entry.reason = "changed"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()


def test_the_sealer_never_touches_a_sealed_row(entries):
    before = [(e.seq, e.prev_hash, e.entry_hash) for e in entries]
    sql(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["edited", entries[0].pk])  # noqa: S608
    audit.seal()
    after = list(AuditEntry.objects.order_by("id").values_list("seq", "prev_hash", "entry_hash"))
    assert after == before


def test_tampering_with_sql_is_detected(entries):
    sql(f"UPDATE {TABLE} SET new = %s WHERE id = %s", ["99", entries[1].pk])  # noqa: S608
    with pytest.raises(CommandError, match="audit trail broken"):
        call_command("audit", "verify")


def test_deleting_a_row_is_detected(entries):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])  # noqa: S608
    count, problems = audit.verify_chain()
    assert count == 2
    assert any("entries 2..2 of the chain are missing" in p for p in problems)
    assert any("link broken" in p for p in problems)


def test_without_a_checkpoint_a_rewrite_with_every_hash_recomputed_passes(entries):
    """Why checkpoints exist (tests/pki/test_audit_anchor.py catches this): the chain alone
    cannot tell a consistent rewrite from the original."""
    rehash_from(entries[1].seq, new="rewritten")
    count, problems = audit.verify_chain()
    assert (count, problems) == (3, [])
    assert AuditEntry.objects.get(seq=2).new == "rewritten"


def rehash_from(seq: int, **changes) -> None:
    """What an attacker with write access to the database does: change one entry, then
    recompute its hash and every later one so that every link holds again."""
    target = AuditEntry.objects.get(seq=seq)
    for name, value in changes.items():
        sql(f"UPDATE {TABLE} SET {name} = %s WHERE id = %s", [value, target.pk])  # noqa: S608
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else audit.GENESIS
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        entry.prev_hash = prev
        prev = entry.compute_hash()
        sql(f"UPDATE {TABLE} SET prev_hash = %s, entry_hash = %s WHERE id = %s",  # noqa: S608
            [entry.prev_hash, prev, entry.pk])


def test_the_beat_task_seals_what_no_hook_did(company, seo_reviewer):
    from ramis.common import tasks

    audit.record(actor=seo_reviewer, target=company, event="test.one")
    assert tasks.audit_seal() == 1
    assert audit.unsealed_count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_seal_after_commit_waits_for_no_disk_flush_of_its_own(django_user_model):
    """Issue 16: the writer's commit is durable; the seal that follows it is not flushed on its own
    (PostgreSQL: synchronous_commit off; SQLite in WAL: synchronous NORMAL for that commit, the
    connection's setting restored at once); the next durable commit carries it."""
    from django.test.utils import CaptureQueriesContext

    user = django_user_model.objects.create(username="seal-sync")

    def synchronous():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            return cursor.fetchone()[0]

    before = synchronous() if connection.vendor == "sqlite" else None
    with CaptureQueriesContext(connection) as ctx:
        with transaction.atomic():
            audit.record(actor=None, target=user, event="test.sync")
    assert audit.unsealed_count() == 0  # sealed right after the commit, outside any transaction
    sqls = [q["sql"] for q in ctx.captured_queries]
    if connection.vendor == "sqlite":
        assert before == 2  # FULL, the embedded default
        assert "PRAGMA synchronous = NORMAL" in sqls and sqls[-1] == "PRAGMA synchronous = 2"
        assert synchronous() == before
    else:
        assert any("synchronous_commit" in s for s in sqls)
        assert not any("PRAGMA" in s for s in sqls)
