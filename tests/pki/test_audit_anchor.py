"""The audit trail anchored on the HSM (issue 12): checkpoints of the chain's length and head
signed with a key on its own SoftHSM token; truncation and rewrites detected; exported
checkpoints checked with openssl as an auditor would, off the machine."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ramis.ca import audit_anchor, tasks
from ramis.ca.models import AuditCheckpoint, AuditKey
from ramis.common import audit
from ramis.common.models import AuditEntry
from tests.common.test_audit import rehash_from, sql
from tokens.conf import get_manager

from .conftest import run
from .test_commands import manage, one_line_failure  # noqa: F401 - the fixture

TABLE = AuditEntry._meta.db_table
AUDIT_TOKEN = "test-audit"


@pytest.fixture
def audit_key(db, settings):
    settings.AUDIT_TOKEN = AUDIT_TOKEN
    settings.AUDIT_PIN = "1234"
    audit_anchor.clear_caches()
    key, _created = audit_anchor.key_ensure(actor=None)
    yield key
    audit_anchor.clear_caches()


@pytest.fixture
def trail(audit_key, company, seo_reviewer):
    def write(n: int, event: str = "test.event") -> None:
        for i in range(n):
            audit.record(actor=seo_reviewer, target=company, event=event, new=str(i))
        audit.seal()

    write(5)
    return write


def verify_problems(**kw) -> list[str]:
    return audit_anchor.verify(**kw).report.problems


def test_the_audit_key_is_on_its_own_token_and_never_extractable(audit_key, settings):
    assert audit_key.token_label == AUDIT_TOKEN
    token = get_manager().open(label=AUDIT_TOKEN, pin=settings.AUDIT_PIN)
    attrs = token.key_attributes(bytes.fromhex(audit_key.key_id))
    assert attrs["SENSITIVE"] and attrs["NEVER_EXTRACTABLE"] and not attrs["EXTRACTABLE"]
    again, created = audit_anchor.key_ensure(actor=None)  # idempotent
    assert (again.pk, created) == (audit_key.pk, False)
    assert AuditEntry.objects.filter(event="audit.key_created", target_id=str(audit_key.pk)).count() == 1


def test_a_checkpoint_signs_the_sealed_chain(trail, capsys, tmp_path):
    call_command("audit", "checkpoint", "--out", str(tmp_path))
    out = capsys.readouterr().out
    cp = AuditCheckpoint.objects.get()
    length, head = audit.chain_head()
    assert (cp.length, cp.head_hash) == (length, head)
    doc = json.loads(cp.payload)
    assert doc == {"type": "ramis-audit-checkpoint", "version": 1, "length": length, "head": head,
                   "at": doc["at"], "key": cp.key.sha256}
    assert cp.payload.rstrip("\n") in out
    assert base64.b64encode(bytes(cp.signature)).decode() in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"checkpoint-{length:010d}-{cp.pk}.json", f"checkpoint-{length:010d}-{cp.pk}.sig",
         f"audit-key-{cp.key.sha256[:16]}.pem"])
    result = audit_anchor.verify()
    assert result.report.problems == [] and result.latest.length == length and result.uncovered == 0


def test_verify_reports_entries_not_covered_since_the_latest_checkpoint(trail, capsys):
    audit_anchor.checkpoint_create()
    trail(3)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "9 entries verified" in out  # key creation + 5 + 3
    assert "latest signed checkpoint: 6 entries" in out
    assert "3 entries since the latest checkpoint are not covered" in out
    assert f"signed by audit key(s) {AuditKey.objects.get().sha256} " in out


def test_truncation_is_detected(trail):
    audit_anchor.checkpoint_create()
    trail(2)
    newest = AuditEntry.objects.filter(seq__gte=5).values_list("pk", flat=True)
    sql(f"DELETE FROM {TABLE} WHERE id IN ({','.join(map(str, newest))})")  # noqa: S608
    # The remaining chain is consistent: without the checkpoint nothing shows.
    assert audit.verify_chain() == (4, [])
    problems = verify_problems()
    assert any("covers 6 entries but the chain has 4" in p and "truncation" in p for p in problems), problems
    with pytest.raises(CommandError, match="audit trail broken"):
        call_command("audit", "verify")


def test_a_rewrite_with_every_later_hash_recomputed_is_detected(trail):
    audit_anchor.checkpoint_create()
    trail(2)
    rehash_from(3, reason="rewritten")
    assert audit.verify_chain() == (8, [])  # every link holds again
    problems = verify_problems()
    assert any("entry 6: hash differs from the signed checkpoint of length 6" in p for p in problems), problems


def test_a_rewrite_after_the_latest_checkpoint_is_not_covered_but_reported_as_such(trail, capsys):
    audit_anchor.checkpoint_create()
    trail(2)
    rehash_from(7, reason="rewritten")
    assert verify_problems() == []
    call_command("audit", "verify")
    assert "2 entries since the latest checkpoint are not covered" in capsys.readouterr().out


def test_a_checkpoint_is_refused_when_the_trail_changed_since_the_last_one(trail):
    audit_anchor.checkpoint_create()
    trail(2)
    sql(f"UPDATE {TABLE} SET new = 'x' WHERE seq = 7")  # noqa: S608
    with pytest.raises(audit_anchor.AuditAnchorError, match="nothing signed"):
        audit_anchor.checkpoint_create()
    assert AuditCheckpoint.objects.count() == 1


def test_a_forged_or_edited_checkpoint_row_is_reported(trail):
    cp = audit_anchor.checkpoint_create()
    forged = cp.payload.replace(cp.head_hash, "f" * 64)
    table = AuditCheckpoint._meta.db_table
    sql(f"UPDATE {table} SET payload = %s, head_hash = %s WHERE id = %s", [forged, "f" * 64, cp.pk])  # noqa: S608
    problems = verify_problems()
    assert any(f"checkpoint {cp.pk}: bad signature" in p for p in problems), problems


def test_a_checkpoint_by_a_key_not_pinned_is_refused(trail, settings):
    audit_anchor.checkpoint_create()
    settings.AUDIT_KEY_SHA256 = ["0" * 64]
    problems = verify_problems()
    assert any("AUDIT_KEY_SHA256 does not list" in p for p in problems), problems


def test_beat_checkpoints_only_when_the_chain_grew(trail, settings):
    assert tasks.audit_checkpoint() == 6
    assert tasks.audit_checkpoint() is None
    trail(1)
    assert tasks.audit_checkpoint() == 7
    assert AuditCheckpoint.objects.count() == 2
    settings.AUDIT_PIN = ""
    assert tasks.audit_checkpoint() is None  # no PIN in this process: skipped, never a crash


def test_export_checkpoints_and_an_auditor_checks_them_with_openssl(trail, tmp_path, openssl):
    first = audit_anchor.checkpoint_create()
    trail(2)
    second = audit_anchor.checkpoint_create()
    call_command("audit", "export-checkpoints", "--out", str(tmp_path))
    key_pem = tmp_path / f"audit-key-{first.key.sha256[:16]}.pem"
    for cp in (first, second):
        stem = tmp_path / f"checkpoint-{cp.length:010d}-{cp.pk}"
        ok = run(openssl, "dgst", "-sha256", "-verify", str(key_pem), "-signature", f"{stem}.sig", f"{stem}.json")
        assert ok.stdout.strip() == "Verified OK"
    # The key's fingerprint as the auditor computes it, to compare with the one recorded at key creation.
    der = subprocess.run([openssl, "pkey", "-pubin", "-in", str(key_pem), "-outform", "DER"],
                         capture_output=True, check=True, timeout=30).stdout
    assert hashlib.sha256(der).hexdigest() == first.key.sha256
    # A changed byte fails.
    stem = tmp_path / f"checkpoint-{second.length:010d}-{second.pk}"
    stem.with_suffix(".json").write_text(second.payload.replace(f'"length":{second.length}', '"length":99'))
    bad = run(openssl, "dgst", "-sha256", "-verify", str(key_pem), "-signature", f"{stem}.sig", f"{stem}.json",
              check=False)
    assert bad.returncode != 0 and "Verification failure" in bad.stdout


def test_an_exported_checkpoint_catches_a_truncation_that_also_removed_the_stored_ones(trail, tmp_path, capsys):
    cp = audit_anchor.checkpoint_create()
    audit_anchor.export(cp, tmp_path)
    exported = tmp_path / f"checkpoint-{cp.length:010d}-{cp.pk}.json"
    sql(f"DELETE FROM {AuditCheckpoint._meta.db_table}")  # noqa: S608
    sql(f"DELETE FROM {TABLE} WHERE seq >= 5")  # noqa: S608
    call_command("audit", "verify")  # the database alone looks fine
    assert "no signed checkpoint yet" in capsys.readouterr().out
    with pytest.raises(CommandError, match="audit trail broken"):
        call_command("audit", "verify", "--checkpoint", str(exported))
    assert "truncation" in capsys.readouterr().out


def test_checkpoint_without_a_pin_or_key_is_one_line(db, settings, capsys):
    settings.AUDIT_PIN = ""
    with pytest.raises(CommandError, match="no AUDIT_PIN configured"):
        call_command("audit", "checkpoint")
    with pytest.raises(CommandError, match="no AUDIT_PIN configured"):
        call_command("audit", "init-key")
    assert AuditKey.objects.count() == 0


def test_the_operator_journey_in_processes_of_their_own(manage, tmp_path, openssl):  # noqa: F811
    """`ca init` creates the audit key on its own token; `audit checkpoint --out` writes the files;
    openssl verifies them; deleting the newest rows of the (SQLite) database is then caught."""
    assert manage("migrate", "-v", "0").returncode == 0
    init = manage("ca", "init")
    assert init.returncode == 0, init.stderr
    assert "audit key 'audit-checkpoint' on token 'ramis-audit': public key SHA-256" in init.stdout
    out_dir = tmp_path / "export"
    cp = manage("audit", "checkpoint", "--out", str(out_dir))
    assert cp.returncode == 0, cp.stderr
    sigs = list(out_dir.glob("checkpoint-*.sig"))
    assert len(sigs) == 1
    (key_pem,) = out_dir.glob("audit-key-*.pem")
    ok = run(openssl, "dgst", "-sha256", "-verify", str(key_pem), "-signature", str(sigs[0]),
             str(sigs[0].with_suffix(".json")))
    assert ok.stdout.strip() == "Verified OK"
    verify = manage("audit", "verify")
    assert verify.returncode == 0 and "0 entries since the latest checkpoint" in verify.stdout, verify
    length = json.loads(sigs[0].with_suffix(".json").read_text())["length"]
    assert length >= 3  # the CAs' and the key's creation
    with sqlite3.connect(tmp_path / "var" / "ramis.sqlite3") as db:
        db.execute(f"DELETE FROM {TABLE} WHERE seq = ?", (length,))  # noqa: S608
    one_line_failure(manage("audit", "verify"), "audit trail broken")
    one_line_failure(manage("audit", "checkpoint"), "nothing signed")
