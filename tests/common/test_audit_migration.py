"""The audit trail's migrations keep a trail already written valid: the sealed chain (0003) one
written under the old global lock, the User-Agent and request id columns (0004) every entry
sealed before them."""

import datetime as dt
import hashlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ramis.common import audit
from ramis.common.context import AuditContext
from ramis.common.models import AuditEntry

BEFORE = [("common", "0002_outbox_redacted_body")]
BEFORE_ORIGIN = [("common", "0003_audit_sealed_chain")]


def old_entry_hash(row: dict) -> str:
    """``entry_hash`` as the code before migration 0004 computed it (``AuditEntry.canonical`` then),
    from a row's columns (``actor_id``, ``prev_hash``, …): no user agent, no request id."""
    payload = {
        "prev": row["prev_hash"],
        "at": row["created_at"].isoformat(),
        "actor": row["actor_id"],
        "actor_repr": row["actor_repr"],
        "target": [row["target_type"], row["target_id"], row["target_repr"]],
        "event": row["event"],
        "old": row["old"],
        "new": row["new"],
        "reason": row["reason"],
        "extra": row["extra"],
        "ip": row["ip"],
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


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


@pytest.mark.django_db(transaction=True)
def test_entries_sealed_before_the_user_agent_and_request_id_columns_verify_unchanged(company, seo_reviewer):
    old_apps = migrate(BEFORE_ORIGIN)
    try:
        OldEntry = old_apps.get_model("common", "AuditEntry")
        assert "user_agent" not in {f.name for f in OldEntry._meta.get_fields()}
        prev = audit.GENESIS
        for i in range(3):  # sealed as the code of 0003 sealed them: seq, previous hash, its hash
            row = {
                "created_at": dt.datetime(2026, 11, 1, 9, i, tzinfo=dt.UTC), "actor_id": seo_reviewer.pk if i else None,
                "actor_repr": str(seo_reviewer) if i else "system", "target_type": "registry.company",
                "target_id": str(company.pk), "target_repr": str(company), "event": "old.event", "old": str(i),
                "new": str(i + 1), "reason": "دلیل" if i else "", "extra": {"i": i},
                "ip": "198.51.100.7" if i else None, "seq": i + 1, "prev_hash": prev,
            }
            prev = old_entry_hash(row)
            OldEntry.objects.create(entry_hash=prev, **row)
        columns = [f.attname for f in OldEntry._meta.concrete_fields]
        before = list(OldEntry.objects.order_by("id").values(*columns))
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert list(AuditEntry.objects.order_by("id").values(*columns)) == before  # not one column rewritten
    assert set(AuditEntry.objects.values_list("user_agent", "request_id")) == {("", "")}
    assert audit.verify_chain() == (3, [])

    ctx = AuditContext(actor=seo_reviewer, ip="203.0.113.9", user_agent="Firefox/128", request_id="nginx-after")
    audit.record(actor=seo_reviewer, target=company, event="new.event", ctx=ctx)
    audit.seal()
    new = AuditEntry.objects.get(event="new.event")
    assert (new.seq, new.prev_hash, new.user_agent, new.request_id) == (4, prev, "Firefox/128", "nginx-after")
    assert audit.verify_chain() == (4, [])
