"""Backups (ramis/common/backup.py): `manage.py backup` / `manage.py restore`.

The drill: a request with an issued certificate and its uploads, and an e-Namad seal, are backed up,
restored into a fresh database (a new PostgreSQL database when the suite runs on PostgreSQL, a new
SQLite file otherwise) and a fresh media directory by a separate process, and there `manage.py audit
verify` passes, the certificate's OCSP answer has the same status and the seal page the same content.
No private key and no token store is ever in the backup. Bad input is one line and changes nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from cryptography.x509 import ocsp as c_ocsp
from django.core.management import CommandError, call_command
from django.db import connection

from ramis.ca import responder
from ramis.ca.models import CertificateAuthority
from ramis.common.models import AuditEntry
from tests.enamad.conftest import make_account, make_business
from tests.enamad.seals.test_seal import issue_seal
from tests.pki.test_responder import request_for
from tests.requests.conftest import advance, catalogue, make_draft  # noqa: F401  (catalogue: a fixture)

ROOT = Path(__file__).resolve().parents[2]
KEY_PEM = b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def _normalised(html: str) -> str:
    """A page without what differs per request by design (CSRF token, CSP nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'\snonce="[^"]*"', "", html)


def _fresh_database(tmp_path: Path):
    """(DATABASE_URL of a new empty database of the suite's engine, a function that drops it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}", lambda: None
    name = f"{db['NAME']}_restored"[:63]
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}", drop


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


# Run in the restored portal: the OCSP answer's status for a CertID and the seal page.
PROBE = """
import json, sys
from cryptography.x509 import ocsp
from django.test import Client
from django.test.utils import setup_test_environment
from ramis.ca import responder
setup_test_environment()
args = json.loads(sys.stdin.read())
raw = responder.answer(bytes.fromhex(args["ocsp"]))
resp = ocsp.load_der_ocsp_response(raw)
page = Client().get(args["seal"])
print(json.dumps({"ocsp": resp.response_status.name, "status": resp.certificate_status.name,
                  "serial": resp.serial_number, "page_status": page.status_code, "page": page.content.decode()}))
"""


@pytest.mark.django_db(transaction=True)
def test_backup_restore_drill_into_a_fresh_database(tmp_path, settings, applicant_person, office, clerk,
                                                     catalogue):  # noqa: F811
    # --- the data: an issued request with its uploads, a seal, a key file and a token store in media
    issued = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)
    seal = issue_seal(make_business(make_account()))
    media = Path(settings.PRIVATE_MEDIA_ROOT)
    uploads = sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file())
    assert uploads  # the request's documents
    issuing = CertificateAuthority.objects.get(slug="issuing")
    ocsp_request = request_for(issuing, int(issued.serial, 16))
    before = c_ocsp.load_der_ocsp_response(responder.answer(ocsp_request))
    seal_url = f"/trustseal/?id={seal.number}&Code={seal.code}"
    from django.test import Client

    seal_page = Client().get(seal_url)
    assert seal_page.status_code == 200 and seal.business.domain in seal_page.content.decode()
    audit_count = AuditEntry.objects.count()

    # a stray key file and a token store under the media directory: both must be left out
    (media / "stray-key.pem").write_bytes(KEY_PEM)
    hsm_dir = Path(settings.SOFTHSM_DIR)  # the session's real token store (the CA's keys)
    store = media / "hsm"
    (store / "tokens" / "0a1b").mkdir(parents=True)
    (store / "tokens" / "0a1b" / "token.object").write_bytes(b"SoftHSM token")
    settings.SOFTHSM_DIR = store  # for the backup only: this process's tokens were loaded from hsm_dir

    # --- backup
    backup_dir = tmp_path / "backup"
    try:
        call_command("backup", str(backup_dir))
    finally:  # the media directory is the session's: leave it as it was
        (media / "stray-key.pem").unlink()
        shutil.rmtree(store)
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    dump_name = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}[connection.vendor]
    assert sorted(p.name for p in backup_dir.iterdir()) == sorted([dump_name, "manifest.json", "media.tar"])
    assert manifest["format"] == 1 and manifest["engine"] == connection.vendor
    assert manifest["database"]["audit_entries"] == audit_count
    assert manifest["versions"]["django"] and manifest["versions"]["database_server"]
    assert {"path": "stray-key.pem", "why": "holds a private key"} in manifest["media"]["skipped"]
    # --- no private key, no token store
    with tarfile.open(backup_dir / "media.tar") as tar:
        names = tar.getnames()
        contents = b"".join(tar.extractfile(m).read() for m in tar if m.isfile())
    assert sorted(names) == uploads
    assert b"PRIVATE KEY" not in contents and b"SoftHSM token" not in contents
    if connection.vendor == "postgresql":
        sql = subprocess.run(["pg_restore", "--file", "-", str(backup_dir / dump_name)], capture_output=True,
                             timeout=120, check=True).stdout
        assert b"COPY public." in sql  # the data is there
    else:
        sql = (backup_dir / dump_name).read_bytes()
    assert b"PRIVATE KEY" not in sql

    # --- restore in another process, into a fresh database and media directory
    url, drop = _fresh_database(tmp_path)
    restored_media = tmp_path / "restored-media"
    env = {**os.environ, "DATABASE_URL": url, "PRIVATE_MEDIA_ROOT": str(restored_media), "CACHE_URL": "",
           "REDIS_URL": "", "SOFTHSM_DIR": str(hsm_dir)}
    try:
        out = _manage("restore", str(backup_dir), env=env)
        assert out.returncode == 0, out.stderr
        assert f"{len(uploads)} media file(s)" in out.stdout
        assert sorted(p.relative_to(restored_media).as_posix() for p in restored_media.rglob("*")
                      if p.is_file()) == uploads
        for rel in uploads:
            assert (restored_media / rel).read_bytes() == (media / rel).read_bytes()

        verify = _manage("audit", "verify", env=env)
        assert verify.returncode == 0, verify.stderr
        assert f"audit trail intact: {audit_count} entries verified" in verify.stdout

        probe = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=env,
                               input=json.dumps({"ocsp": ocsp_request.hex(), "seal": seal_url}),
                               capture_output=True, text=True, timeout=300)
        assert probe.returncode == 0, probe.stderr
        after = json.loads(probe.stdout.strip().splitlines()[-1])
        assert after["ocsp"] == "SUCCESSFUL" and after["status"] == before.certificate_status.name == "GOOD"
        assert after["serial"] == int(issued.serial, 16)
        assert after["page_status"] == 200
        assert _normalised(after["page"]) == _normalised(seal_page.content.decode())

        # --- a second restore into the now filled database is refused without --force, and changes nothing
        again = _manage("restore", str(backup_dir), env=env)
        assert again.returncode != 0 and "Traceback" not in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1 and "--force" in again.stderr
        assert _manage("audit", "verify", env=env).returncode == 0
        forced = _manage("restore", "--force", str(backup_dir), env=env)
        assert forced.returncode == 0, forced.stderr
        assert f"{audit_count} entries verified" in _manage("audit", "verify", env=env).stdout
    finally:
        drop()


def test_backup_refuses_a_directory_that_is_not_empty(db, tmp_path):
    (tmp_path / "old").write_text("x")
    with pytest.raises(CommandError) as exc:
        call_command("backup", str(tmp_path))
    assert "خالی نیست" in str(exc.value) and "not an empty directory" in str(exc.value)
    assert "\n" not in str(exc.value)
    assert [p.name for p in tmp_path.iterdir()] == ["old"]


def test_restore_refuses_a_damaged_or_incomplete_backup_and_a_filled_target(transactional_db, tmp_path):
    backup_dir = tmp_path / "b"
    call_command("backup", str(backup_dir))
    count = AuditEntry.objects.count()
    # a filled target (this test's database) without --force
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup_dir))
    # a part that does not match its SHA-256
    with (backup_dir / "media.tar").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(CommandError, match="does not match its SHA-256") as exc:
        call_command("restore", "--force", str(backup_dir))
    assert "آسیب" in str(exc.value)
    # no manifest, no directory
    (backup_dir / "manifest.json").unlink()
    with pytest.raises(CommandError, match="manifest.json is missing"):
        call_command("restore", "--force", str(backup_dir))
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("restore", str(tmp_path / "nowhere"))
    assert AuditEntry.objects.count() == count  # nothing was touched


def test_restore_refuses_an_archive_member_outside_the_media_directory(transactional_db, tmp_path, settings):
    from ramis.common import backup

    backup_dir = tmp_path / "b"
    call_command("backup", str(backup_dir))
    evil = tmp_path / "evil.txt"
    evil.write_text("x")
    with tarfile.open(backup_dir / "media.tar", "w") as tar:
        tar.add(evil, arcname="../outside.txt")
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    manifest["parts"]["media.tar"]["sha256"] = backup._sha256(backup_dir / "media.tar")
    (backup_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="refused archive member"):
        call_command("restore", "--force", str(backup_dir))
    assert not (Path(settings.PRIVATE_MEDIA_ROOT).parent / "outside.txt").exists()
