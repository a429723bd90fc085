"""The timestamp authority as deployed: `openssl ts` asks nginx, the web tier hands the request to
the `tsa` worker (the one process with the TSA token's PIN) through Redis, and the answer
verifies against our chain. With the worker stopped the answer is *systemFailure* within
CA_TSA_WAIT_SECONDS, never a 500; started again, timestamps come back."""

from __future__ import annotations

import ssl
import subprocess
import time
import urllib.request

import pytest

from tests.prod.conftest import db_fresh
from tests.prod.test_drills import wait_running

QUERY = "application/timestamp-query"


@pytest.fixture
def files(tmp_path):
    from cryptography import x509

    from ramis.ca import builder
    from ramis.ca.models import CertificateAuthority, IssuedCertificate

    db_fresh()
    pems = [builder.pem(x509.load_der_x509_certificate(bytes(ca.certificate_der)))
            for ca in CertificateAuthority.objects.order_by("-pk")]  # issuing, then root
    (tmp_path / "chain.pem").write_bytes(b"".join(pems))
    tsa_row = IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA)
    (tmp_path / "tsa.pem").write_bytes(builder.pem(x509.load_der_x509_certificate(bytes(tsa_row.der))))
    (tmp_path / "doc.txt").write_text("صورت‌جلسهٔ هیئت‌مدیره، نسخهٔ امضاشده\n")
    return tmp_path


def openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)


def ask(url: str, d, name: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    """A fresh `openssl ts -query` for doc.txt (with a nonce, asking for the certificate), POSTed."""
    openssl("ts", "-query", "-data", str(d / "doc.txt"), "-sha256", "-cert", "-out", str(d / f"{name}.tsq"))
    request = urllib.request.Request(url, data=(d / f"{name}.tsq").read_bytes(), headers={"Content-Type": QUERY})
    with urllib.request.urlopen(request, timeout=20, context=context) as response:  # noqa: S310 - loopback
        assert response.headers["Content-Type"] == "application/timestamp-reply"
        body = response.read()
    (d / f"{name}.tsr").write_bytes(body)
    return response.status, body


def status_of(d, name: str) -> str:
    return openssl("ts", "-reply", "-in", str(d / f"{name}.tsr"), "-text").stdout


def test_a_timestamp_through_nginx_verifies_with_openssl(topology, files):
    https = ssl.create_default_context(cafile=str(topology.tls_cert))
    for name, url, context in (("https", f"{topology.https_url}/ca/tsa/", https),
                               ("http", f"http://127.0.0.1:{topology.http_port}/ca/tsa/", None)):
        status, _ = ask(url, files, name, context)
        assert status == 200
        assert "Status: Granted." in status_of(files, name), status_of(files, name)
        verified = openssl("ts", "-verify", "-queryfile", str(files / f"{name}.tsq"), "-in", str(files / f"{name}.tsr"),
                           "-CAfile", str(files / "chain.pem"))
        assert "Verification: OK" in verified.stdout, verified.stdout + verified.stderr


def test_drill_tsa_worker_stopped_system_failure_then_granted_again(topology, files):
    url = f"http://127.0.0.1:{topology.http_port}/ca/tsa/"
    topology.ctl("stop", "tsa")
    try:
        started = time.monotonic()
        status, _ = ask(url, files, "down")
        waited = time.monotonic() - started
        assert status == 200
        text = status_of(files, "down")
        assert "Status: Rejected." in text and "due to system failure" in text, text
        assert waited < 15, f"the web tier waited {waited:.1f} s"
    finally:
        topology.ctl("start", "tsa")
    wait_running(topology, ("tsa",))
    deadline = time.monotonic() + 30
    while True:  # the worker connects to the broker a moment after it is RUNNING
        ask(url, files, "again")
        if "Status: Granted." in status_of(files, "again") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert "Status: Granted." in status_of(files, "again"), status_of(files, "again")
