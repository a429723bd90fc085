import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ramis.common import audit
from ramis.common.models import AuditEntry


@pytest.fixture
def entries(company, seo_reviewer):
    for i in range(3):
        audit.record(actor=seo_reviewer, target=company, event="test.event", old=str(i), new=str(i + 1))
    return list(AuditEntry.objects.order_by("id"))


def test_entries_are_chained(entries, capsys):
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    call_command("audit", "verify")
    assert "3 entries verified" in capsys.readouterr().out


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


def test_tampering_with_sql_is_detected(entries):
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET new = %s WHERE id = %s", ["99", entries[1].pk])  # noqa: S608
    with pytest.raises(CommandError, match="audit trail broken"):
        call_command("audit", "verify")


def test_deleting_a_row_is_detected(entries):
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entries[1].pk])  # noqa: S608
    count, problems = audit.verify_chain()
    assert count == 2
    assert any("link broken" in p for p in problems)
