"""Certificate login as deployed (issue 14): a real TLS client (Python's ssl, a software key whose
certificate our CA issued through `manage.py ca issue`, as an operator's console does) against
nginx's certificate-login port; nginx hands the certificate to the web tier in X-SSL-Client-Cert,
and a header of that name sent by the client never gets through, on either HTTPS port."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.prod.conftest import db_fresh

ROOT = Path(__file__).resolve().parent.parent.parent
APPLICANT = "0499370899"  # seed_demo's approved applicant
OTHER = "0013542419"  # the demo shop owner's code: a forged header naming them must not log anyone in


def manage(topology, *args: str) -> str:
    """A `manage.py` command as the operator runs it on the server: with the CA PINs."""
    env = {**topology.app_env(), **topology.signing_env()}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr or result.stdout
    return result.stdout


def issue(topology, d: Path, national_code: str, name: str) -> tuple[Path, Path, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = d / f"{name}.key"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "applicant")]))
           .sign(key, hashes.SHA256()))
    (d / f"{name}.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    (d / f"{name}.json").write_text(json.dumps({
        "common_name": "علی رضایی", "given_name": "علی", "surname": "رضایی", "national_code": national_code,
        "organization": "شرکت نمونه", "title": "مدیرعامل"}, ensure_ascii=False))
    cert_path = d / f"{name}.pem"
    manage(topology, "ca", "issue", "--profile", "signature", "--csr", str(d / f"{name}.csr"),
           "--subject-json", str(d / f"{name}.json"), "--out", str(cert_path))
    return cert_path, key_path, x509.load_pem_x509_certificate(cert_path.read_bytes())


def get(topology, port: int, path: str, *, cert: tuple[Path, Path] | None = None, headers: dict | None = None,
        cookies: dict | None = None) -> tuple[int, dict, str, dict]:
    """One HTTPS GET to nginx on 127.0.0.1:port: (status, headers, body, cookies set)."""
    context = ssl.create_default_context(cafile=str(topology.tls_cert))
    if cert:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        conn.request("GET", path, headers=sent)
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        jar = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            jar.load(value)
        return response.status, dict(response.headers), body, {k: m.value for k, m in jar.items()}
    finally:
        conn.close()


def forged(cert: x509.Certificate) -> dict:
    return {"X-SSL-Client-Cert": quote(cert.public_bytes(serialization.Encoding.PEM).decode(), safe="")}


def last_certificate_events():
    from ramis.common.models import AuditEntry

    db_fresh()
    return list(AuditEntry.objects.filter(event__startswith="certauth.certificate_").order_by("-id")
                .values_list("event", "reason", "extra")[:1])


@pytest.fixture(scope="module")
def certs(topology, tmp_path_factory):
    d = tmp_path_factory.mktemp("certlogin")
    return {"applicant": issue(topology, d, APPLICANT, "applicant"), "other": issue(topology, d, OTHER, "other")}


def test_the_login_page_points_at_the_certificate_port(topology):
    status, _headers, body, _ = get(topology, topology.https_port, "/auth/login/")
    assert status == 200 and "ورود با گواهی الکترونیکی" in body
    assert f"https://{topology.host}:{topology.cert_port}/auth/certificate/?for=ramis" in body


def test_a_certificate_of_ours_logs_the_applicant_in_through_nginx(topology, certs):
    cert_path, key_path, cert = certs["applicant"]
    # the client also sends a header of its own, naming someone else: nginx replaces it
    status, headers, _, cookies = get(topology, topology.cert_port, "/auth/certificate/?for=ramis",
                                      cert=(cert_path, key_path), headers=forged(certs["other"][2]))
    assert status == 302 and headers["Location"] == "/panel/", headers
    event, _reason, extra = last_certificate_events()[0]
    assert event == "certauth.certificate_login" and extra["serial"] == format(cert.serial_number, "x")
    # the session is the portal's on its main HTTPS port too (cookies are per host, not per port)
    status, _, body, _ = get(topology, topology.https_port, "/panel/", cookies=cookies)
    assert status == 200, body[:300]


@pytest.mark.parametrize("port_name", ["cert_port", "https_port"])
def test_a_forged_header_without_a_certificate_logs_nobody_in(topology, certs, port_name):
    port = getattr(topology, port_name)
    status, headers, _, cookies = get(topology, port, "/auth/certificate/?for=ramis",
                                      headers=forged(certs["applicant"][2]))
    assert status == 302 and headers["Location"] == "/auth/login/"
    event, reason, _extra = last_certificate_events()[0]
    assert (event, reason) == ("certauth.certificate_refused", "none")
    status, _, body, _ = get(topology, port, "/auth/login/", cookies=cookies)
    assert "گواهی الکترونیکی از مرورگر دریافت نشد" in body


def test_a_revoked_certificate_is_refused_in_persian(topology, certs):
    cert_path, key_path, cert = certs["applicant"]
    manage(topology, "ca", "revoke", "--serial", format(cert.serial_number, "x"), "--reason", "key_compromise")
    status, headers, _, cookies = get(topology, topology.cert_port, "/auth/certificate/?for=ramis",
                                      cert=(cert_path, key_path))
    assert status == 302 and headers["Location"] == "/auth/login/"
    assert last_certificate_events()[0][:2] == ("certauth.certificate_refused", "revoked")
    status, _, body, _ = get(topology, topology.cert_port, "/auth/login/", cookies=cookies)
    assert status == 200 and "گواهی شما باطل شده است" in body
