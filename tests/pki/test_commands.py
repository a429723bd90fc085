"""manage.py ca / token as an operator runs them: a failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SEAL_SUBJECT, make_csr

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manage(tmp_path):
    """``manage.py`` in a process of its own, on a fresh SQLite file and SoftHSM directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL")}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), SOFTHSM_DIR=str(tmp_path / "softhsm"), DEBUG="0",
               ALLOWED_HOSTS="127.0.0.1", PUBLIC_BASE_URL="http://pki.ramis.ir")

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**env, **extra_env},
                              capture_output=True, text=True, timeout=120)

    return run


def one_line_failure(out: subprocess.CompletedProcess, *words: str) -> str:
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode != 0, out
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("CommandError: "), lines
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def test_ca_commands_on_a_database_that_is_not_migrated(manage, tmp_path):
    _key, csr = make_csr()
    (tmp_path / "req.csr").write_bytes(csr)
    (tmp_path / "subject.json").write_text(json.dumps(SEAL_SUBJECT))
    for args in (["init"], ["show"], ["crl"],
                 ["issue", "--profile", "seal", "--csr", str(tmp_path / "req.csr"), "--subject-json",
                  str(tmp_path / "subject.json"), "--out", str(tmp_path / "out.pem")]):
        one_line_failure(manage("ca", *args), "not migrated", "manage.py migrate")
    assert not (tmp_path / "softhsm").exists() or not any((tmp_path / "softhsm").rglob("*.object"))  # untouched
    one_line_failure(manage("ca", "show", DATABASE_URL="postgres://nobody@127.0.0.1:1/none"),
                     "cannot use the database")


def test_ca_and_token_commands_with_a_wrong_pin_or_module(manage, tmp_path):
    assert manage("migrate", "-v", "0").returncode == 0
    out = manage("ca", "init")
    assert out.returncode == 0, out.stderr
    for args in (["init"], ["crl"], ["ocsp-refresh"], ["reissue-issuing"]):
        one_line_failure(manage("ca", *args, CA_ROOT_PIN="0000", CA_ISSUING_PIN="0000"), "wrong PIN")
    one_line_failure(manage("ca", "crl", PKCS11_MODULE=str(tmp_path / "none.so")), "PKCS#11 module")
    one_line_failure(manage("token", "list", "--label", "ramis-issuing", "--pin", "0000"), "wrong PIN")
    one_line_failure(manage("token", "keygen", "--label", "no-such-token", "--pin", "1234", "--key-label", "k"),
                     "no such token")
    one_line_failure(manage("token", "list", PKCS11_MODULE=str(tmp_path / "none.so")), "PKCS#11 module")
    # and the right PIN still works: a wrong one did not lock the token
    out = manage("ca", "crl")
    assert out.returncode == 0 and "published CRL #2 for root" in out.stdout, out.stderr


def test_ca_reissue_issuing_as_an_operator_runs_it(manage):
    one_line_failure(manage("ca", "reissue-issuing"), "not migrated")
    assert manage("migrate", "-v", "0").returncode == 0
    one_line_failure(manage("ca", "reissue-issuing"), "ca init")
    assert manage("ca", "init").returncode == 0
    before = manage("ca", "show").stdout
    one_line_failure(manage("ca", "reissue-issuing", CA_ROOT_PIN=""), "CA_ROOT_PIN")
    out = manage("ca", "reissue-issuing")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("reissued issuing: CN=RAMIS Capital Market Issuing CA"), out.stdout
    assert "same key on token 'ramis-issuing'" in out.stdout
    after = manage("ca", "show").stdout
    old_serial = before.split("issuing (root)")[1].split("serial ")[1].split()[0]
    new_serial = after.split("issuing (root)")[1].split("serial ")[1].split()[0]
    assert old_serial != new_serial and f"serial {new_serial}" in out.stdout
    assert manage("ca", "init").returncode == 0  # the token and the database agree


def test_ca_issue_takes_an_email_in_the_subject_json(manage, tmp_path):
    from cryptography import x509

    assert manage("migrate", "-v", "0").returncode == 0
    assert manage("ca", "init").returncode == 0
    _key, csr = make_csr()
    (tmp_path / "req.csr").write_bytes(csr)
    args = ["ca", "issue", "--profile", "seal", "--csr", str(tmp_path / "req.csr"),
            "--subject-json", str(tmp_path / "subject.json"), "--out", str(tmp_path / "out.pem")]
    (tmp_path / "subject.json").write_text(json.dumps({**SEAL_SUBJECT, "email": "info@example.ir"}))
    out = manage(*args)
    assert out.returncode == 0, out.stderr
    cert = x509.load_pem_x509_certificate((tmp_path / "out.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["info@example.ir"]
    (tmp_path / "subject.json").write_text(json.dumps({**SEAL_SUBJECT, "email": "not an address"}))
    one_line_failure(manage(*args), "'email' has an invalid value")
