"""Real components only: SoftHSM tokens in a fresh directory, keys on them,
a root and an issuing CA built exactly as production builds them.

SoftHSM reads SOFTHSM2_CONF once, when the module is loaded, so the whole
test session shares one token directory (created under pytest's tmp path).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

from ramis.ca import builder
from tokens import TokenManager
from tokens.conf import get_manager

# The SoftHSM token directory of the test session is set in tests/conftest.py.
_HSM_DIR = Path(settings.SOFTHSM_DIR)

SO_PIN = "87654321"
PIN = "123456"
BASE_URL = "http://pki.ramis.ir"  # a public host name: the ETSI linter refuses loopback URLs

SIGNATURE_SUBJECT = {
    "common_name": "علی رضایی",
    "given_name": "علی",
    "surname": "رضایی",
    "national_code": "0499370899",
    "organization": "شرکت نمونهٔ بورس",
    "title": "مدیرعامل",
}
SEAL_SUBJECT = {
    "common_name": "شرکت نمونهٔ بورس",
    "organization": "شرکت نمونهٔ بورس",
    "legal_national_id": "10380284790",
}


def name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RAMIS test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_csr(key_type: str = "ec-p256", cn: str = "whatever the applicant typed") -> tuple[Any, bytes]:
    """An applicant key (in memory here) and its PEM CSR."""
    if key_type == "ec-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "ec-p384":
        key = ec.generate_private_key(ec.SECP384R1())
    else:
        key = rsa.generate_private_key(65537, int(key_type[3:]))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM)


def tool(name: str) -> str:
    """A command installed next to this Python (pkilint's lint_*), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"{name} is required"
    return found


def run(*cmd: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
    if cmd[0].startswith("lint_"):
        cmd = (tool(cmd[0]), *cmd[1:])
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=60, **kw)


@pytest.fixture(scope="session")
def hsm_dir() -> Path:
    return _HSM_DIR


@pytest.fixture(scope="session")
def manager(hsm_dir) -> TokenManager:
    return get_manager()


@pytest.fixture(scope="session")
def work_token(manager):
    """A token for key tests (keys come and go on it)."""
    manager.init_token("work", SO_PIN, PIN)
    return manager.open(label="work", pin=PIN)


@dataclass
class PKI:
    root: builder.Signer
    issuing: builder.Signer
    responder_cert: x509.Certificate
    responder_key: Any
    urls: builder.CAUrls
    dir: Path

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def write(self, fname: str, data: bytes) -> str:
        p = self.dir / fname
        p.write_bytes(data)
        return str(p)


@pytest.fixture(scope="session")
def pki(manager, tmp_path_factory) -> PKI:
    """Root CA (RSA-3072) and issuing CA (RSA-2048), each on its own token;
    the OCSP responder's EC key on the issuing CA's token."""
    manager.init_token("test-root", SO_PIN, PIN)
    manager.init_token("test-issuing", SO_PIN, PIN)
    root_token = manager.open(label="test-root", pin=PIN)
    issuing_token = manager.open(label="test-issuing", pin=PIN)

    root_key = root_token.generate_keypair("rsa3072", "root-ca")
    root_cert = builder.build_root_ca(key=root_key, subject=name("RAMIS Test Root CA"))
    root_token.import_certificate(root_cert, root_key.key_id, "root-ca")
    root = builder.Signer(root_cert, root_key, "root")

    issuing_key = issuing_token.generate_keypair("rsa2048", "issuing-ca")
    issuing_cert = builder.build_issuing_ca(
        public_key=issuing_key.public_key(),
        subject=name("RAMIS Test Issuing CA"),
        issuer=root,
        urls=builder.CAUrls(BASE_URL, "root"),
    )
    issuing_token.import_certificate(issuing_cert, issuing_key.key_id, "issuing-ca")
    issuing = builder.Signer(issuing_cert, issuing_key, "issuing")

    responder_key = issuing_token.generate_keypair("ec-p256", "ocsp-responder")
    responder_cert = builder.build_ocsp_responder(
        public_key=responder_key.public_key(), subject=name("RAMIS Test OCSP Responder"), issuer=issuing
    )
    issuing_token.import_certificate(responder_cert, responder_key.key_id, "ocsp-responder")

    d = tmp_path_factory.mktemp("pki")
    p = PKI(root, issuing, responder_cert, responder_key, builder.CAUrls(BASE_URL, "issuing"), d)
    p.write("root.pem", builder.pem(root_cert))
    p.write("issuing.pem", builder.pem(issuing_cert))
    p.write("chain.pem", builder.pem(issuing_cert) + builder.pem(root_cert))
    p.write("responder.pem", builder.pem(responder_cert))
    return p


@pytest.fixture(scope="session")
def openssl() -> str:
    path = shutil.which("openssl")
    assert path, "openssl is required"
    return path


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
