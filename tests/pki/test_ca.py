"""ramis/ca/: issuance, lint gate, CRL, OCSP — checked by openssl and pkilint."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import http.server
import threading
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp as c_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ramis.ca import builder, crl, lint, ocsp, profiles
from ramis.ca.builder import IssuanceError
from ramis.ca.lint import LintError

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr, run, utcnow

PROFILE_SUBJECTS = {"signature": SIGNATURE_SUBJECT, "seal": SEAL_SUBJECT}


def issue(pki, profile="signature", key_type="ec-p256", **kw):
    _key, csr = make_csr(key_type)
    return builder.issue_from_csr(
        profile=profiles.get_profile(profile),
        csr=csr,
        subject=kw.pop("subject", PROFILE_SUBJECTS[profile]),
        issuer=pki.issuing,
        urls=pki.urls,
        **kw,
    )


def no_errors(findings):
    bad = [str(f) for f in findings if f.severity in ("ERROR", "FATAL")]
    assert bad == []


# -- issuance ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["signature", "seal"])
@pytest.mark.parametrize("key_type", ["ec-p256", "rsa2048"])
def test_issued_certificate_verifies_against_the_chain(pki, openssl, profile, key_type):
    issued = issue(pki, profile, key_type)
    path = pki.write(f"{profile}-{key_type}.pem", builder.pem(issued.cert))
    out = run(openssl, "verify", "-CAfile", pki.path("root.pem"), "-untrusted", pki.path("issuing.pem"), path)
    assert out.stdout.strip() == f"{path}: OK"
    no_errors(issued.findings)


def test_signature_profile_contents(pki):
    cert = issue(pki, "signature").cert
    subj = {a.oid: a.value for a in cert.subject}
    assert subj[NameOID.COMMON_NAME] == "علی رضایی"
    assert subj[NameOID.GIVEN_NAME] == "علی" and subj[NameOID.SURNAME] == "رضایی"
    assert subj[NameOID.SERIAL_NUMBER] == "PNOIR-0499370899"
    assert subj[NameOID.ORGANIZATION_NAME] == "شرکت نمونهٔ بورس"
    assert subj[NameOID.TITLE] == "مدیرعامل"
    assert subj[NameOID.COUNTRY_NAME] == "IR"
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_encipherment and not ku.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == pki.issuing.ski.digest
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == "http://pki.ramis.ir/ca/crl/issuing.crl"
    aia = {d.access_method: d.access_location.value for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value}
    assert aia[x509.oid.AuthorityInformationAccessOID.OCSP] == "http://pki.ramis.ir/ca/ocsp/issuing/"
    assert aia[x509.oid.AuthorityInformationAccessOID.CA_ISSUERS] == "http://pki.ramis.ir/ca/certs/issuing.crt"
    policies = [p.policy_identifier.dotted_string for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value]
    assert policies[0] == f"{profiles.DEFAULT_POLICY_ARC}.1.1"
    assert cert.serial_number.bit_length() > 64 and cert.serial_number < 1 << 159
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 730


def test_seal_profile_contents(pki):
    cert = issue(pki, "seal").cert
    subj = {a.oid: a.value for a in cert.subject}
    assert subj[NameOID.ORGANIZATION_IDENTIFIER] == "NTRIR-10380284790"
    assert subj[NameOID.ORGANIZATION_NAME] == subj[NameOID.COMMON_NAME] == "شرکت نمونهٔ بورس"
    assert NameOID.SERIAL_NUMBER not in subj and NameOID.GIVEN_NAME not in subj
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment


def test_validity_is_configurable(pki):
    cert = issue(pki, "signature", validity_days=365).cert
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 365


def test_subject_comes_from_the_request_never_the_csr(pki):
    # The CSR asks for a CA certificate and another name: both ignored.
    key, _ = make_csr()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Evil Root")]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert = builder.issue_from_csr(
        profile=profiles.get_profile("signature"), csr=csr, subject=SIGNATURE_SUBJECT, issuer=pki.issuing, urls=pki.urls
    ).cert
    assert "Evil" not in cert.subject.rfc4514_string()
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_refuses_a_csr_without_proof_of_possession(pki):
    _key, csr_pem = make_csr()
    der = bytearray(x509.load_pem_x509_csr(csr_pem).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # corrupt the signature
    with pytest.raises(IssuanceError, match="proof of possession"):
        builder.issue_from_csr(
            profile=profiles.get_profile("signature"), csr=bytes(der), subject=SIGNATURE_SUBJECT,
            issuer=pki.issuing, urls=pki.urls,
        )
    with pytest.raises(IssuanceError, match="not a valid CSR"):
        builder.issue_from_csr(
            profile=profiles.get_profile("signature"), csr=b"garbage", subject=SIGNATURE_SUBJECT,
            issuer=pki.issuing, urls=pki.urls,
        )


@pytest.mark.parametrize("key_type", ["ec-p384", "rsa1024"])
def test_refuses_key_types_the_profile_does_not_allow(pki, key_type):
    with pytest.raises(IssuanceError, match="not allowed"):
        issue(pki, "signature", key_type)


def test_refuses_bad_subject_data(pki):
    with pytest.raises(IssuanceError, match="required"):
        issue(pki, "signature", subject={**SIGNATURE_SUBJECT, "surname": ""})
    with pytest.raises(IssuanceError, match="invalid value"):
        issue(pki, "seal", subject={**SEAL_SUBJECT, "legal_national_id": "12ab"})
    with pytest.raises(IssuanceError, match="unknown subject fields"):
        issue(pki, "seal", subject={**SEAL_SUBJECT, "nickname": "x"})
    with pytest.raises(IssuanceError, match="'email' has an invalid value"):  # e-mail: the subjectAltName's
        issue(pki, "seal", subject={**SEAL_SUBJECT, "email": "x@"})


def test_lint_error_refuses_issuance_and_the_token_never_signs(pki, monkeypatch):
    """A profile forced to produce an invalid certificate (keyCertSign on a non-CA)."""
    broken = dataclasses.replace(
        profiles.get_profile("signature"), key_usage=frozenset({"digital_signature", "key_cert_sign"})
    )
    calls = []
    real_sign = type(pki.issuing.key).sign
    monkeypatch.setattr(type(pki.issuing.key), "sign", lambda self, *a: calls.append(a) or real_sign(self, *a))
    _key, csr = make_csr()
    with pytest.raises(LintError) as e:
        builder.issue_from_csr(profile=broken, csr=csr, subject=SIGNATURE_SUBJECT, issuer=pki.issuing, urls=pki.urls)
    assert "ERROR" in str(e.value) and "keyUsage" in str(e.value)
    assert calls == []  # nothing was signed on the token


def test_development_base_url_on_loopback_is_allowed_but_reported(pki):
    urls = builder.CAUrls("http://127.0.0.1:8000", "issuing")
    _key, csr = make_csr()
    issued = builder.issue_from_csr(
        profile=profiles.get_profile("seal"), csr=csr, subject=SEAL_SUBJECT, issuer=pki.issuing, urls=urls
    )
    assert any(f.code == "etsi.internal_domain_name" for f in issued.findings)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "https://10.20.30.40"])
def test_in_production_a_loopback_or_ip_base_url_is_refused(pki, settings, base_url):
    urls = builder.CAUrls(base_url, "issuing")
    assert builder.lint_allowances(urls) == builder.DEV_ALLOW
    settings.PRODUCTION = True
    assert builder.lint_allowances(urls) == frozenset()
    _key, csr = make_csr()
    with pytest.raises(LintError, match="etsi.internal_domain_name"):  # the lint gate: nothing is signed
        builder.issue_from_csr(profile=profiles.get_profile("seal"), csr=csr, subject=SEAL_SUBJECT,
                               issuer=pki.issuing, urls=urls)
    assert builder.lint_allowances(builder.CAUrls("https://pki.ramis.ir", "issuing")) == frozenset()


def test_ca_and_responder_certificates(pki, openssl):
    root, issuing = pki.root.cert, pki.issuing.cert
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca and bc.path_length == 0
    ku = issuing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign
    resp = pki.responder_cert
    assert list(resp.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    resp.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert isinstance(pki.responder_key.public_key(), type(resp.public_key()))
    out = run(openssl, "verify", "-CAfile", pki.path("root.pem"), "-untrusted", pki.path("issuing.pem"),
              "-purpose", "ocsphelper", pki.path("responder.pem"))
    assert out.stdout.strip().endswith("OK")
    out = run(openssl, "verify", "-CAfile", pki.path("root.pem"), pki.path("issuing.pem"))
    assert out.stdout.strip().endswith("OK")


def test_pkilint_command_line_tools_find_no_error_in_certificates(pki):
    ee = pki.write("ee-sig.der", builder.der(issue(pki, "signature").cert))
    seal = pki.write("ee-seal.der", builder.der(issue(pki, "seal").cert))
    for path in (pki.path("root.pem"), pki.path("issuing.pem"), pki.path("responder.pem"), ee, seal):
        out = run("lint_pkix_cert", "lint", "-s", "ERROR", path, check=False)
        assert out.returncode == 0, out.stdout + out.stderr
    for path, etsi_type in ((ee, "NCP-NATURAL-PERSON-CERTIFICATE"), (seal, "NCP-LEGAL-PERSON-CERTIFICATE")):
        out = run("lint_etsi_cert", "lint", "--type", etsi_type, "-s", "ERROR", path, check=False)
        assert out.returncode == 0, out.stdout + out.stderr


# -- CRL ---------------------------------------------------------------------------------------


def test_crl_verifies_with_openssl_and_cryptography(pki, openssl):
    good = issue(pki).cert
    revoked = [issue(pki).cert for _ in range(3)]
    now = utcnow()
    reasons = ["key_compromise", "certificate_hold", None]
    entries = [crl.RevokedEntry(c.serial_number, now - dt.timedelta(hours=i), r) for i, (c, r) in enumerate(zip(revoked, reasons, strict=True))]
    der = crl.build_crl(
        issuer_cert=pki.issuing.cert, key=pki.issuing.key, entries=entries, number=42,
        this_update=now, next_update=now + dt.timedelta(days=1),
    )
    path = pki.write("issuing.crl", der)
    out = run(openssl, "crl", "-inform", "DER", "-in", path, "-CAfile", pki.path("chain.pem"), "-noout", "-verify")
    assert "verify OK" in out.stdout + out.stderr

    parsed = x509.load_der_x509_crl(der)
    assert parsed.is_signature_valid(pki.issuing.cert.public_key())
    assert parsed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    aki = parsed.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == pki.issuing.ski.digest
    assert parsed.next_update_utc == now + dt.timedelta(days=1)
    e0 = parsed.get_revoked_certificate_by_serial_number(revoked[0].serial_number)
    assert e0.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    e1 = parsed.get_revoked_certificate_by_serial_number(revoked[1].serial_number)
    assert e1.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.certificate_hold
    e2 = parsed.get_revoked_certificate_by_serial_number(revoked[2].serial_number)
    assert len(e2.extensions) == 0 and e2.revocation_date_utc == now - dt.timedelta(hours=2)
    assert parsed.get_revoked_certificate_by_serial_number(good.serial_number) is None

    # openssl verify with CRL checking sees the revocation
    good_p, bad_p = pki.write("good.pem", builder.pem(good)), pki.write("bad.pem", builder.pem(revoked[0]))
    crl_pem = pki.write("issuing.crl.pem", parsed.public_bytes(serialization.Encoding.PEM))
    ok = run(openssl, "verify", "-crl_check", "-CAfile", pki.path("root.pem"), "-untrusted", pki.path("issuing.pem"),
             "-CRLfile", crl_pem, good_p, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run(openssl, "verify", "-crl_check", "-CAfile", pki.path("root.pem"), "-untrusted", pki.path("issuing.pem"),
              "-CRLfile", crl_pem, bad_p, check=False)
    assert bad.returncode != 0 and "revoked" in bad.stdout + bad.stderr

    no_errors(lint.lint_crl(der))
    out = run("lint_crl", "lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", path, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_empty_crl_and_root_arl(pki, openssl):
    now = utcnow()
    der = crl.build_crl(issuer_cert=pki.root.cert, key=pki.root.key, entries=[], number=1,
                        this_update=now, next_update=now + dt.timedelta(days=30))
    path = pki.write("root.crl", der)
    out = run(openssl, "crl", "-inform", "DER", "-in", path, "-CAfile", pki.path("root.pem"), "-noout", "-verify")
    assert "verify OK" in out.stdout + out.stderr
    assert len(x509.load_der_x509_crl(der)) == 0
    out = run("lint_crl", "lint", "-t", "ARL", "-p", "PKIX", "-s", "ERROR", path, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    # the type matters: 30 days between thisUpdate and nextUpdate suit an ARL, not a CRL (≤ 10 days)
    assert [f.code for f in lint.blocking(lint.lint_crl(der, "ARL"))] == []
    assert [f.code for f in lint.blocking(lint.lint_crl(der, "CRL"))] == ["cabf.crl_invalid_validity_period"]
    with pytest.raises(ValueError, match="CRL or ARL"):
        lint.lint_crl(der, "delta")


def test_crl_with_100000_entries_in_under_5_seconds(pki, openssl):
    now = utcnow()
    reasons = [None, "key_compromise", "superseded", "affiliation_changed", "cessation_of_operation"]
    entries = [
        crl.RevokedEntry(builder.random_serial(), now - dt.timedelta(seconds=i), reasons[i % 5]) for i in range(100_000)
    ]
    t0 = time.perf_counter()
    der = crl.build_crl(issuer_cert=pki.issuing.cert, key=pki.issuing.key, entries=entries, number=2,
                        this_update=now, next_update=now + dt.timedelta(days=1))
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"{elapsed:.2f} s"
    parsed = x509.load_der_x509_crl(der)
    assert len(parsed) == 100_000 and parsed.is_signature_valid(pki.issuing.cert.public_key())
    path = pki.write("big.crl", der)
    out = run(openssl, "crl", "-inform", "DER", "-in", path, "-CAfile", pki.path("chain.pem"), "-noout", "-verify")
    assert "verify OK" in out.stdout + out.stderr


# -- OCSP ----------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    prefix = "/ca/ocsp/issuing/"
    store: ocsp.MemoryStore
    on_miss = None

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(self.store.answer(body, on_miss=self.on_miss))

    def do_GET(self):  # noqa: N802
        try:
            der = ocsp.decode_get_path(self.path[len(self.prefix):])
        except ocsp.MalformedRequest:
            return self._send(ocsp.MALFORMED_REQUEST)
        self._send(self.store.answer(der, on_miss=self.on_miss))

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def responder(pki):
    """Pre-signed answers for a good and a revoked certificate, served over HTTP."""
    signer = ocsp.Responder(pki.issuing.cert, pki.responder_cert, pki.responder_key, dt.timedelta(hours=12))
    store = ocsp.MemoryStore()
    store.add_issuer(pki.issuing.cert)
    good, revoked = issue(pki).cert, issue(pki, "seal").cert
    revoked_at = utcnow() - dt.timedelta(hours=1)
    store.put(signer.sign_all(ocsp.Status(good.serial_number, "good")))
    store.put(signer.sign_all(ocsp.Status(revoked.serial_number, "revoked", revoked_at, "key_compromise")))
    misses = []

    def on_miss(key):  # the Django layer signs "unknown" here (rate-limited, cached)
        misses.append(key)
        return signer.sign(ocsp.Status(key.serial, "unknown"), key.hash)

    handler = type("H", (_Handler,), {"store": store, "on_miss": staticmethod(on_miss)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/ca/ocsp/issuing/"
    yield {
        "url": url, "good": good, "revoked": revoked, "revoked_at": revoked_at, "store": store, "misses": misses,
        "good_path": pki.write("ocsp-good.pem", builder.pem(good)),
        "revoked_path": pki.write("ocsp-revoked.pem", builder.pem(revoked)),
    }
    server.shutdown()
    server.server_close()


def openssl_ocsp(openssl, pki, responder, *args):
    return run(openssl, "ocsp", "-issuer", pki.path("issuing.pem"), "-CAfile", pki.path("chain.pem"),
               "-url", responder["url"], "-no_nonce", *args, check=False)


@pytest.mark.parametrize("digest", [[], ["-sha256"]], ids=["sha1-certid", "sha256-certid"])
def test_openssl_ocsp_good_revoked_unknown(pki, openssl, responder, digest):
    out = openssl_ocsp(openssl, pki, responder, *digest, "-cert", responder["good_path"])
    assert "Response verify OK" in out.stderr and f"{responder['good_path']}: good" in out.stdout, out

    out = openssl_ocsp(openssl, pki, responder, *digest, "-cert", responder["revoked_path"])
    assert "Response verify OK" in out.stderr and f"{responder['revoked_path']}: revoked" in out.stdout, out
    assert "Reason: keyCompromise" in out.stdout
    assert "Revocation Time: " + responder["revoked_at"].strftime("%b %e %H:%M:%S %Y") in out.stdout

    out = openssl_ocsp(openssl, pki, responder, *digest, "-serial", "0x1234567890abcdef")
    assert "Response verify OK" in out.stderr and "0x1234567890abcdef: unknown" in out.stdout, out


def test_openssl_ocsp_with_nonce_still_verifies(pki, openssl, responder):
    """Pre-signed answers carry no nonce; OpenSSL warns and accepts."""
    out = run(openssl, "ocsp", "-issuer", pki.path("issuing.pem"), "-CAfile", pki.path("chain.pem"),
              "-url", responder["url"], "-cert", responder["good_path"], check=False)
    assert "Response verify OK" in out.stderr and ": good" in out.stdout


def _request(pki, cert, algorithm):
    return (
        c_ocsp.OCSPRequestBuilder()
        .add_certificate(cert, pki.issuing.cert, algorithm)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.SHA256()])  # noqa: S303
def test_get_and_post_return_the_same_presigned_bytes(pki, responder, algorithm):
    req = _request(pki, responder["revoked"], algorithm)
    post = urllib.request.urlopen(urllib.request.Request(responder["url"], data=req, headers={
        "Content-Type": "application/ocsp-request"}), timeout=10).read()
    b64 = urllib.request.quote(base64.b64encode(req).decode(), safe="")
    get = urllib.request.urlopen(responder["url"] + b64, timeout=10).read()
    assert post == get
    resp = c_ocsp.load_der_ocsp_response(post)
    assert resp.response_status == c_ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificate_status == c_ocsp.OCSPCertStatus.REVOKED
    assert resp.revocation_reason == x509.ReasonFlags.key_compromise
    assert resp.hash_algorithm.name == algorithm.name
    assert resp.serial_number == responder["revoked"].serial_number
    assert len(resp.extensions) == 0  # no nonce
    assert resp.next_update_utc - resp.this_update_utc == dt.timedelta(hours=12)
    pki.responder_cert.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x03\x02\x01\x01"])
def test_malformed_post_gets_malformed_request_status(responder, body):
    raw = urllib.request.urlopen(urllib.request.Request(responder["url"], data=body), timeout=10).read()
    assert raw == ocsp.MALFORMED_REQUEST
    assert c_ocsp.load_der_ocsp_response(raw).response_status == c_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_malformed_get_gets_malformed_request_status(responder):
    for tail in ("not*base64!", "AAAA"):
        raw = urllib.request.urlopen(responder["url"] + tail, timeout=10).read()
        assert raw == ocsp.MALFORMED_REQUEST


def test_unknown_issuer_gets_unauthorized(pki, responder):
    other = issue(pki).cert  # a certificate whose "issuer" we pretend is itself
    req = c_ocsp.OCSPRequestBuilder().add_certificate(other, other, hashes.SHA1()).build()  # noqa: S303
    raw = responder["store"].answer(req.public_bytes(serialization.Encoding.DER))
    assert raw == ocsp.UNAUTHORIZED


def test_request_path_never_signs(pki, responder, monkeypatch):
    calls = []
    real = type(pki.responder_key).sign
    monkeypatch.setattr(type(pki.responder_key), "sign", lambda self, *a: calls.append(a) or real(self, *a))
    for cert in (responder["good"], responder["revoked"]):
        for alg in (hashes.SHA1(), hashes.SHA256()):  # noqa: S303
            raw = responder["store"].answer(_request(pki, cert, alg))
            assert c_ocsp.load_der_ocsp_response(raw).response_status == c_ocsp.OCSPResponseStatus.SUCCESSFUL
    assert calls == []


def test_pkilint_finds_no_error_in_ocsp_responses(pki, responder):
    for cert in (responder["good"], responder["revoked"]):
        for alg in (hashes.SHA1(), hashes.SHA256()):  # noqa: S303
            raw = responder["store"].answer(_request(pki, cert, alg))
            no_errors(lint.lint_ocsp_response(raw))
            path = pki.write("resp.der", raw)
            out = run("lint_ocsp_response", "lint", "-s", "ERROR", path, check=False)
            assert out.returncode == 0, out.stdout + out.stderr


def test_get_path_keeps_a_trailing_slash_that_is_base64():
    """A GET request whose base64 ends in "/" (raw or %2F) decodes to the right bytes."""
    from ramis.ca.ocsp import decode_get_path

    assert decode_get_path("MAP/") == b"0\x03\xff"
    assert decode_get_path("MAP%2F") == b"0\x03\xff"
    assert decode_get_path("MAP-") == b"0\x03\xfe"  # URL-safe alphabet
    assert decode_get_path("/MAM=/") == b"0\x03"  # a stray trailing slash is dropped


def test_certificates_name_plain_http_on_the_portals_host(settings):
    """RFC 5280 §4.2.1.13 / RFC 6960 appendix A: CRL and OCSP are fetched over HTTP; the portal
    itself is https:// in production."""
    from ramis.ca import signing

    settings.PUBLIC_BASE_URL = "https://ra.example.ir"
    settings.CA_PUBLIC_URL = ""
    urls = signing.urls("issuing")
    assert (urls.crl, urls.ocsp, urls.ca_issuers) == (
        "http://ra.example.ir/ca/crl/issuing.crl", "http://ra.example.ir/ca/ocsp/issuing/",
        "http://ra.example.ir/ca/certs/issuing.crt")
    settings.CA_PUBLIC_URL = "http://pki.example.ir"
    assert signing.urls("root").crl == "http://pki.example.ir/ca/crl/root.crl"
