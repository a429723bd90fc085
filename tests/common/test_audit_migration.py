"""The migration to the sealed chain keeps a trail written under the old global lock valid."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ramis.common import audit
from ramis.common.models import AuditEntry

BEFORE = [("common", "0002_outbox_redacted_body")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_rows_chained_before_the_migration_stay_valid_and_the_chain_goes_on(company):
    old_apps = migrate(BEFORE)
    try:
        OldEntry = old_apps.get_model("common", "AuditEntry")
        prev = audit.GENESIS
        for i in range(3):
            fields = {
                "created_at": dt.datetime(2026, 1, 1, 10, i, tzinfo=dt.UTC), "actor_repr": "system",
                "target_type": "registry.company", "target_id": str(company.pk), "target_repr": str(company),
                "event": "old.event", "old": str(i), "new": str(i + 1), "reason": "", "extra": {"i": i},
                "ip": None, "prev_hash": prev,
            }
            prev = AuditEntry(**fields).compute_hash()  # the hash the old record() wrote
            OldEntry.objects.create(entry_hash=prev, **fields)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    entries = list(AuditEntry.objects.order_by("id"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[-1].entry_hash == prev  # hashes kept as they were
    assert audit.verify_chain() == (3, [])
    audit.record(actor=None, target=company, event="new.event")
    audit.seal()
    new = AuditEntry.objects.get(event="new.event")
    assert (new.seq, new.prev_hash) == (4, prev)
    assert audit.verify_chain() == (4, [])
