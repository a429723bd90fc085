"""ramis.ca services, views, tasks and commands, on the Django database and SoftHSM."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp
from django.conf import settings
from django.core.management import CommandError, call_command

from ramis.ca import lint, responder, services, tasks
from ramis.ca.models import CRL, CertificateAuthority, IssuedCertificate, OCSPResponse
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr, run

S = IssuedCertificate.Status


@pytest.fixture
def cas(db):
    responder.clear_cache()
    root, issuing = services.ca_init(actor=None)
    yield root, issuing
    responder.clear_cache()


@pytest.fixture
def issuing(cas):
    return cas[1]


def issue(profile="signature", **kw):
    _key, csr = make_csr()
    subject = SIGNATURE_SUBJECT if profile == "signature" else SEAL_SUBJECT
    return services.certificate_issue(profile=profile, csr_pem=csr, subject=subject, actor=None, **kw)


def ocsp_request(cert: IssuedCertificate, issuer: CertificateAuthority, alg=None) -> bytes:
    req = c_ocsp.OCSPRequestBuilder().add_certificate(
        x509.load_der_x509_certificate(bytes(cert.der)),
        x509.load_der_x509_certificate(bytes(issuer.certificate_der)),
        alg or hashes.SHA1(),  # noqa: S303
    )
    return req.build().public_bytes(serialization.Encoding.DER)


def latest_crl(ca) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(bytes(CRL.objects.filter(ca=ca).order_by("-number").first().der))


# -- ca init ------------------------------------------------------------------------------------


def test_ca_init_is_idempotent_and_audited(cas):
    root, issuing = cas
    assert issuing.parent == root and root.parent is None
    assert issuing.ocsp_certificate_der and issuing.ocsp_key_id
    again = services.ca_init(actor=None)
    assert [c.pk for c in again] == [root.pk, issuing.pk]
    assert AuditEntry.objects.filter(event="ca.created").count() == 2
    assert CRL.objects.filter(ca=root).count() == 1 and CRL.objects.filter(ca=issuing).count() == 1
    root_cert = x509.load_der_x509_certificate(bytes(root.certificate_der))
    iss_cert = x509.load_der_x509_certificate(bytes(issuing.certificate_der))
    iss_cert.verify_directly_issued_by(root_cert)
    lint.require_clean("root", lint.lint_certificate(bytes(root.certificate_der)))
    lint.require_clean("issuing", lint.lint_certificate(bytes(issuing.certificate_der)))


# -- issuance ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["signature", "seal"])
def test_certificate_issue_stores_row_ocsp_answers_and_audit(issuing, profile):
    cert = issue(profile, request_ref="REQ-1")
    assert cert.status == S.ACTIVE and cert.profile == profile and cert.request_ref == "REQ-1"
    parsed = x509.load_der_x509_certificate(bytes(cert.der))
    assert format(parsed.serial_number, "x") == cert.serial_hex
    assert cert.sha256 == parsed.fingerprint(hashes.SHA256()).hex().upper()
    assert cert.not_after == parsed.not_valid_after_utc
    answers = OCSPResponse.objects.filter(certificate=cert)
    assert sorted(answers.values_list("hash_algorithm", flat=True)) == ["sha1", "sha256"]
    assert set(answers.values_list("cert_status", flat=True)) == {"good"}
    for answer in answers:  # the stored times (not read back from the answers) are the signed ones
        signed = c_ocsp.load_der_ocsp_response(bytes(answer.der))
        assert (answer.this_update, answer.next_update) == (signed.this_update_utc, signed.next_update_utc)
        assert answer.next_update - answer.this_update == dt.timedelta(hours=settings.CA_OCSP_VALIDITY_HOURS)
    entry = AuditEntry.objects.get(event="certificate.issued", target_id=str(cert.pk))
    assert entry.extra["serial"] == cert.serial_hex and entry.new == "active"


def test_status_cannot_be_set_directly(issuing):
    cert = issue()
    with pytest.raises(AttributeError):
        cert.status = S.REVOKED
    assert IssuedCertificate.objects.get(pk=cert.pk).status == S.ACTIVE


# -- revocation, hold, release ---------------------------------------------------------------------


def test_revoke_updates_crl_and_ocsp_after_commit(issuing, client, django_capture_on_commit_callbacks):
    cert, other = issue(), issue()
    number_before = CertificateAuthority.objects.get(pk=issuing.pk).crl_number
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_revoke(serial=cert.serial_hex.upper(), reason="key_compromise", actor=None)
    cert = IssuedCertificate.objects.get(pk=cert.pk)  # protected FSMField: no refresh_from_db
    assert cert.status == S.REVOKED and cert.revocation_reason == "key_compromise" and cert.revoked_at
    assert AuditEntry.objects.filter(event="certificate.revoked", target_id=str(cert.pk), old="active",
                                     new="revoked").exists()
    crl = latest_crl(issuing)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number_before + 1
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(other.serial) is None

    for alg in (hashes.SHA1(), hashes.SHA256()):  # noqa: S303
        raw = client.post("/ca/ocsp/issuing/", ocsp_request(cert, issuing, alg),
                          content_type="application/ocsp-request").content
        resp = c_ocsp.load_der_ocsp_response(raw)
        assert resp.certificate_status == c_ocsp.OCSPCertStatus.REVOKED
        assert resp.revocation_reason == x509.ReasonFlags.key_compromise

    with pytest.raises(InvalidTransition):
        services.certificate_revoke(serial=cert.serial_hex, reason="superseded", actor=None)
    with pytest.raises(services.CAError):
        services.certificate_revoke(serial=other.serial_hex, reason="because", actor=None)
    with pytest.raises(services.CAError):
        services.certificate_revoke(serial="beef", reason="superseded", actor=None)


def test_hold_and_release(issuing, client, django_capture_on_commit_callbacks):
    cert = issue()
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_hold(serial=cert.serial_hex, actor=None)
    entry = latest_crl(issuing).get_revoked_certificate_by_serial_number(cert.serial)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.certificate_hold
    responder.clear_cache()
    resp = c_ocsp.load_der_ocsp_response(client.post("/ca/ocsp/issuing/", ocsp_request(cert, issuing),
                                                      content_type="application/ocsp-request").content)
    assert resp.certificate_status == c_ocsp.OCSPCertStatus.REVOKED
    assert resp.revocation_reason == x509.ReasonFlags.certificate_hold

    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_release(serial=cert.serial_hex, actor=None)
    cert = IssuedCertificate.objects.get(pk=cert.pk)  # protected FSMField: no refresh_from_db
    assert cert.status == S.ACTIVE and not cert.revoked_at
    assert latest_crl(issuing).get_revoked_certificate_by_serial_number(cert.serial) is None
    responder.clear_cache()
    resp = c_ocsp.load_der_ocsp_response(client.post("/ca/ocsp/issuing/", ocsp_request(cert, issuing),
                                                      content_type="application/ocsp-request").content)
    assert resp.certificate_status == c_ocsp.OCSPCertStatus.GOOD
    events = list(AuditEntry.objects.filter(target_type="ca.issuedcertificate", target_id=str(cert.pk))
                  .order_by("id").values_list("event", flat=True))
    assert events == ["certificate.issued", "certificate.held", "certificate.released"]


# -- views -------------------------------------------------------------------------------------------


def test_crl_and_ca_certificate_urls_are_the_ones_certificates_name(issuing, client):
    cert = x509.load_der_x509_certificate(bytes(issue().der))
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value[0].full_name[0].value
    aia = {d.access_method: d.access_location.value
           for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value}
    path = cdp.split("://", 1)[1].split("/", 1)[1]
    resp = client.get("/" + path)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pkix-crl"
    issuer_key = x509.load_der_x509_certificate(bytes(issuing.certificate_der)).public_key()
    assert x509.load_der_x509_crl(resp.content).is_signature_valid(issuer_key)
    ca_path = aia[x509.oid.AuthorityInformationAccessOID.CA_ISSUERS].split("://", 1)[1].split("/", 1)[1]
    resp = client.get("/" + ca_path)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(resp.content).subject == cert.issuer
    ocsp_url = aia[x509.oid.AuthorityInformationAccessOID.OCSP]
    assert ocsp_url.endswith("/ca/ocsp/issuing/")
    assert client.get("/ca/crl/nope.crl").status_code == 404
    assert client.get("/ca/certs/nope.crt").status_code == 404


def test_ocsp_get_post_unknown_malformed(issuing, client):
    cert = issue()
    req = ocsp_request(cert, issuing, hashes.SHA256())
    post = client.post("/ca/ocsp/issuing/", req, content_type="application/ocsp-request")
    get = client.get("/ca/ocsp/issuing/" + base64.b64encode(req).decode())
    assert post.status_code == get.status_code == 200
    assert post.content == get.content and post["Content-Type"] == "application/ocsp-response"
    assert c_ocsp.load_der_ocsp_response(get.content).certificate_status == c_ocsp.OCSPCertStatus.GOOD

    # a serial of our CA that nobody issued: "unknown", signed by the signing task (eager here)
    issuer_cert = x509.load_der_x509_certificate(bytes(issuing.certificate_der))
    unknown_req = c_ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        *_hashes(issuer_cert), 0x1234ABCD, hashes.SHA1()).build().public_bytes(serialization.Encoding.DER)  # noqa: S303
    resp = c_ocsp.load_der_ocsp_response(client.post("/ca/ocsp/issuing/", unknown_req,
                                                     content_type="application/ocsp-request").content)
    assert resp.certificate_status == c_ocsp.OCSPCertStatus.UNKNOWN

    for body in (b"", b"\x30\x00", b"junk"):
        raw = client.post("/ca/ocsp/issuing/", body, content_type="application/ocsp-request").content
        assert c_ocsp.load_der_ocsp_response(raw).response_status == c_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    raw = client.get("/ca/ocsp/issuing/%%%not-base64").content
    assert c_ocsp.load_der_ocsp_response(raw).response_status == c_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert client.put("/ca/ocsp/issuing/").status_code == 405


def _hashes(issuer_cert, hash_name="sha1"):
    from ramis.ca.builder import issuer_hashes

    return issuer_hashes(issuer_cert)[hash_name]


@pytest.mark.django_db(transaction=True)
def test_openssl_ocsp_against_the_live_server(live_server, openssl, tmp_path, django_capture_on_commit_callbacks):
    responder.clear_cache()
    root, issuing = services.ca_init(actor=None)
    good, bad, renewed = issue(), issue("seal"), issue()
    services.certificate_revoke(serial=bad.serial_hex, reason="affiliation_changed", actor=None)
    tasks.revocation_publish(bad.pk)  # what the on-commit task does
    # renewed onto a new token, then the old token is lost: the superseded certificate is revoked
    services.certificate_supersede(serial=renewed.serial_hex, actor=None)
    call_command("ca", "revoke", "--serial", renewed.serial_hex, "--reason", "key_compromise")
    tasks.revocation_publish(renewed.pk)
    assert IssuedCertificate.objects.get(pk=renewed.pk).status == S.REVOKED
    (tmp_path / "issuing.pem").write_bytes(x509.load_der_x509_certificate(bytes(issuing.certificate_der))
                                           .public_bytes(serialization.Encoding.PEM))
    (tmp_path / "root.pem").write_bytes(x509.load_der_x509_certificate(bytes(root.certificate_der))
                                        .public_bytes(serialization.Encoding.PEM))
    for name, c in (("good", good), ("bad", bad), ("renewed", renewed)):
        (tmp_path / f"{name}.pem").write_bytes(x509.load_der_x509_certificate(bytes(c.der))
                                               .public_bytes(serialization.Encoding.PEM))
    url = f"{live_server.url}/ca/ocsp/issuing/"
    base = [openssl, "ocsp", "-issuer", str(tmp_path / "issuing.pem"), "-CAfile", str(tmp_path / "root.pem"),
            "-verify_other", str(tmp_path / "issuing.pem"), "-url", url, "-no_nonce"]
    out = run(*base, "-cert", str(tmp_path / "good.pem"), check=False)
    assert "Response verify OK" in out.stderr and ": good" in out.stdout, out
    out = run(*base, "-sha256", "-cert", str(tmp_path / "bad.pem"), check=False)
    assert "Response verify OK" in out.stderr, out
    assert ": revoked" in out.stdout and "Reason: affiliationChanged" in out.stdout, out
    out = run(*base, "-cert", str(tmp_path / "renewed.pem"), check=False)
    assert "Response verify OK" in out.stderr, out
    assert ": revoked" in out.stdout and "Reason: keyCompromise" in out.stdout, out
    out = run(*base, "-serial", "0xabcdef0123", check=False)
    assert "Response verify OK" in out.stderr and "0xabcdef0123: unknown" in out.stdout, out
    # and the CRL the certificate names verifies with openssl
    crl_path = tmp_path / "issuing.crl"
    import urllib.request

    crl_path.write_bytes(urllib.request.urlopen(f"{live_server.url}/ca/crl/issuing.crl", timeout=10).read())
    (tmp_path / "chain.pem").write_bytes((tmp_path / "issuing.pem").read_bytes() + (tmp_path / "root.pem").read_bytes())
    out = run(openssl, "crl", "-inform", "DER", "-in", str(crl_path), "-CAfile", str(tmp_path / "chain.pem"),
              "-noout", "-verify")
    assert "verify OK" in out.stdout + out.stderr
    listed = x509.load_der_x509_crl(crl_path.read_bytes())
    for c in (bad, renewed):
        assert listed.get_revoked_certificate_by_serial_number(c.serial) is not None
    assert listed.get_revoked_certificate_by_serial_number(good.serial) is None


# -- tasks --------------------------------------------------------------------------------------------


def test_beat_tasks_publish_crls_and_refresh_ocsp(cas):
    root, issuing = cas
    cert = issue()
    before = {ca.slug: ca.crl_number for ca in CertificateAuthority.objects.all()}
    tasks.crl_publish_all()
    after = {ca.slug: ca.crl_number for ca in CertificateAuthority.objects.all()}
    assert after == {slug: n + 1 for slug, n in before.items()}
    old = set(OCSPResponse.objects.filter(certificate=cert).values_list("der", flat=True))
    with pytest.MonkeyPatch.context() as mp:
        from django.conf import settings

        mp.setattr(settings, "CA_OCSP_VALIDITY_HOURS", 100)  # everything is "due"
        assert tasks.ocsp_refresh_due() >= 1
    new = set(OCSPResponse.objects.filter(certificate=cert).values_list("der", flat=True))
    assert len(new) == 2 and new.isdisjoint({bytes(x) for x in old})


def test_beat_skips_the_crl_of_a_ca_whose_pin_this_worker_lacks(cas, settings, caplog):
    """A root kept offline: beat publishes the issuing CA's CRL and only warns about the root."""
    settings.CA_ROOT = {**settings.CA_ROOT, "pin": ""}
    before = {ca.slug: ca.crl_number for ca in CertificateAuthority.objects.all()}
    tasks.crl_publish_all()
    after = {ca.slug: ca.crl_number for ca in CertificateAuthority.objects.all()}
    assert after == {"root": before["root"], "issuing": before["issuing"] + 1}
    assert "no PIN for CA root" in caplog.text


# -- commands -----------------------------------------------------------------------------------------


def test_ca_commands(cas, tmp_path, capsys):
    call_command("ca", "init")
    call_command("ca", "show")
    out = capsys.readouterr().out
    assert "root (self-signed)" in out and "issuing (root)" in out and "SHA-256" in out

    _key, csr = make_csr("rsa2048")
    (tmp_path / "req.csr").write_bytes(csr)
    (tmp_path / "subject.json").write_text(json.dumps(SEAL_SUBJECT, ensure_ascii=False))
    call_command("ca", "issue", "--profile", "seal", "--csr", str(tmp_path / "req.csr"),
                 "--subject-json", str(tmp_path / "subject.json"), "--out", str(tmp_path / "cert.pem"),
                 "--validity-days", "365")
    cert = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 365
    serial = format(cert.serial_number, "x")
    assert f"serial {serial}" in capsys.readouterr().out

    call_command("ca", "revoke", "--serial", serial, "--reason", "superseded")
    assert IssuedCertificate.objects.get(serial_hex=serial).status == S.REVOKED
    call_command("ca", "crl")
    call_command("ca", "ocsp-refresh")
    out = capsys.readouterr().out
    assert "published CRL" in out and "re-signed OCSP answers" in out

    with pytest.raises(CommandError, match="no certificate with serial"):
        call_command("ca", "revoke", "--serial", "abc", "--reason", "superseded")
    with pytest.raises(CommandError, match="not allowed"):
        call_command("ca", "revoke", "--serial", serial, "--reason", "superseded")
    (tmp_path / "bad.json").write_text(json.dumps({**SEAL_SUBJECT, "legal_national_id": "x"}))
    with pytest.raises(CommandError, match="invalid value"):
        call_command("ca", "issue", "--profile", "seal", "--csr", str(tmp_path / "req.csr"),
                     "--subject-json", str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.pem"))
    with pytest.raises(CommandError, match="not a valid CSR"):
        call_command("ca", "issue", "--profile", "seal", "--csr", str(tmp_path / "subject.json"),
                     "--subject-json", str(tmp_path / "subject.json"), "--out", str(tmp_path / "x.pem"))


def test_token_commands(db, tmp_path, capsys):
    call_command("token", "init", "--label", "cmd-token", "--so-pin", "11112222", "--pin", "4321")
    assert "initialised token 'cmd-token'" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already exists"):
        call_command("token", "init", "--label", "cmd-token", "--so-pin", "11112222", "--pin", "4321")
    call_command("token", "keygen", "--label", "cmd-token", "--pin", "4321", "--type", "rsa2048",
                 "--key-label", "applicant", "--id", "a1b2")
    out = capsys.readouterr().out
    assert "id=a1b2" in out and "sensitive=True, extractable=False" in out
    call_command("token", "csr", "--label", "cmd-token", "--pin", "4321", "--id", "a1b2",
                 "--subject", "CN=Ali Rezaei,C=IR", "--out", str(tmp_path / "a.csr"))
    csr = x509.load_pem_x509_csr((tmp_path / "a.csr").read_bytes())
    assert csr.is_signature_valid

    # the CA issues from that CSR, and the certificate goes back next to its key
    responder.clear_cache()
    services.ca_init(actor=None)
    cert = services.certificate_issue(profile="signature", csr_pem=(tmp_path / "a.csr").read_bytes(),
                                      subject=SIGNATURE_SUBJECT, actor=None)
    (tmp_path / "a.crt").write_bytes(bytes(cert.der))
    call_command("token", "import-cert", "--label", "cmd-token", "--pin", "4321", "--id", "a1b2",
                 "--cert", str(tmp_path / "a.crt"))
    call_command("token", "list", "--label", "cmd-token", "--pin", "4321")
    out = capsys.readouterr().out
    assert "imported certificate" in out and "certificate" in out and "private-key" in out
    call_command("token", "list")
    assert "'cmd-token'" in capsys.readouterr().out

    with pytest.raises(CommandError, match="wrong PIN"):
        call_command("token", "list", "--label", "cmd-token", "--pin", "0000")
    with pytest.raises(CommandError, match="no such token"):
        call_command("token", "keygen", "--label", "nope", "--pin", "4321", "--key-label", "x")
    with pytest.raises(CommandError, match="does not belong"):
        call_command("token", "keygen", "--label", "cmd-token", "--pin", "4321", "--key-label", "other",
                     "--id", "ff")
        call_command("token", "import-cert", "--label", "cmd-token", "--pin", "4321", "--id", "ff",
                     "--cert", str(tmp_path / "a.crt"))
    call_command("token", "delete-key", "--label", "cmd-token", "--pin", "4321", "--id", "a1b2")
    assert "deleted 3 object(s)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such key"):
        call_command("token", "delete-key", "--label", "cmd-token", "--pin", "4321", "--id", "a1b2")


@pytest.mark.parametrize("entry", ["ramis.ca.wsgi", "ramis.wsgi"])
def test_lean_ocsp_wsgi_entry_returns_the_same_bytes_as_the_view(issuing, client, entry):
    """Both WSGI entry points (the OCSP tier's and the site's) answer OCSP before the middleware,
    with the view's bytes and headers, and count the answer in the metrics."""
    import importlib
    import io

    from ramis.common.metrics import OCSP_ANSWERS

    wsgi = importlib.import_module(entry)
    good = OCSP_ANSWERS.labels(status="good")
    cert = issue()
    req = ocsp_request(cert, issuing)
    via_view = client.post("/ca/ocsp/issuing/", req, content_type="application/ocsp-request").content
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    env = {"PATH_INFO": "/ca/ocsp/issuing/", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(req)),
           "wsgi.input": io.BytesIO(req)}
    before = good._value.get()
    assert b"".join(wsgi.application(env, start_response)) == via_view
    assert seen["status"] == "200 OK" and seen["headers"]["Content-Type"] == "application/ocsp-response"
    assert "Set-Cookie" not in seen["headers"] and "Content-Security-Policy" not in seen["headers"]
    env = {"PATH_INFO": "/ca/ocsp/issuing/" + base64.b64encode(req).decode(), "REQUEST_METHOD": "GET"}
    assert b"".join(wsgi.application(env, start_response)) == via_view
    assert good._value.get() == before + 2
    env = {"PATH_INFO": "/ca/ocsp/issuing/", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "5",
           "wsgi.input": io.BytesIO(b"junk!")}
    assert b"".join(wsgi.application(env, start_response)) == b"\x30\x03\x0a\x01\x01"


def _responder_cert(ca) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(CertificateAuthority.objects.get(pk=ca.pk).ocsp_certificate_der))


def test_beat_renews_the_ocsp_responder_certificate_before_it_expires(cas, settings, tmp_path, openssl):
    from django.conf import settings as conf

    root, issuing = cas
    cert = issue()
    first = _responder_cert(issuing)
    assert conf.CELERY_BEAT_SCHEDULE["ca-ocsp-responder-renew"]["task"] == "ramis.ca.tasks.ocsp_responder_renew_due"
    assert tasks.ocsp_responder_renew_due() == []  # 90 days left, renewed 30 before: nothing to do
    assert _responder_cert(issuing) == first

    # a responder certificate with a short life (one day) ...
    settings.CA_OCSP_RESPONDER_VALIDITY_DAYS, settings.CA_OCSP_RESPONDER_RENEW_DAYS = 1, 100
    assert tasks.ocsp_responder_renew_due() == ["issuing"]
    short = _responder_cert(issuing)
    assert (short.not_valid_after_utc - short.not_valid_before_utc).days == 1
    # ... is renewed by the daily beat, since less than CA_OCSP_RESPONDER_RENEW_DAYS of it is left
    settings.CA_OCSP_RESPONDER_VALIDITY_DAYS, settings.CA_OCSP_RESPONDER_RENEW_DAYS = 90, 30
    before = {bytes(d) for d in OCSPResponse.objects.values_list("der", flat=True)}
    assert tasks.ocsp_responder_renew_due() == ["issuing"]
    new = _responder_cert(issuing)
    assert new not in (first, short) and (new.not_valid_after_utc - new.not_valid_before_utc).days == 90
    assert new.public_key() == first.public_key()  # the same key on the token, certified anew
    assert tasks.ocsp_responder_renew_due() == []
    entry = AuditEntry.objects.filter(event="ca.ocsp_responder_certified").order_by("-id").first()
    assert entry.extra["sha256"] == new.fingerprint(hashes.SHA256()).hex().upper()
    assert entry.extra["replaces"] == short.fingerprint(hashes.SHA256()).hex().upper()

    # every stored answer was re-signed by the new certificate, and verifies with it alone
    rows = list(OCSPResponse.objects.filter(certificate=cert))
    assert len(rows) == 2 and before.isdisjoint(bytes(r.der) for r in rows)
    (tmp_path / "new.pem").write_bytes(new.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "root.pem").write_bytes(x509.load_der_x509_certificate(bytes(root.certificate_der))
                                        .public_bytes(serialization.Encoding.PEM))
    (tmp_path / "issuing.pem").write_bytes(x509.load_der_x509_certificate(bytes(issuing.certificate_der))
                                           .public_bytes(serialization.Encoding.PEM))
    for row in rows:
        resp = c_ocsp.load_der_ocsp_response(bytes(row.der))
        assert resp.certificates == [new] and resp.certificate_status == c_ocsp.OCSPCertStatus.GOOD
        (tmp_path / "resp.der").write_bytes(bytes(row.der))
        base = [openssl, "ocsp", "-respin", str(tmp_path / "resp.der"), "-issuer", str(tmp_path / "issuing.pem")]
        out = run(*base, "-VAfile", str(tmp_path / "new.pem"), check=False)
        assert "Response verify OK" in out.stderr, out
        # and through the chain, from the certificate the answer carries (the new one, valid 90 days)
        out = run(*base, "-CAfile", str(tmp_path / "root.pem"), "-verify_other", str(tmp_path / "issuing.pem"),
                  check=False)
        assert "Response verify OK" in out.stderr, out


def test_the_crl_is_published_only_after_commit(issuing, django_capture_on_commit_callbacks):
    cert = issue()
    number = CertificateAuthority.objects.get(pk=issuing.pk).crl_number
    crls = CRL.objects.filter(ca=issuing).count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
    # committed nothing yet: no new CRL, the number did not move, the last CRL does not list it
    assert callbacks and CertificateAuthority.objects.get(pk=issuing.pk).crl_number == number
    assert CRL.objects.filter(ca=issuing).count() == crls
    assert latest_crl(issuing).get_revoked_certificate_by_serial_number(cert.serial) is None
    for callback in callbacks:  # what the commit runs
        callback()
    assert CertificateAuthority.objects.get(pk=issuing.pk).crl_number == number + 1
    assert latest_crl(issuing).get_revoked_certificate_by_serial_number(cert.serial) is not None


def test_a_crl_reads_its_rows_under_the_lock_that_gives_its_number(issuing, monkeypatch):
    """Publications at once are numbered in the order of what they list: the revoked rows are read
    inside the transaction that locked the CA row and took the number, not after it let go (on any
    database; the race itself, on two PostgreSQL connections, is in test_crl_race.py)."""
    from django.db import connection

    cert = issue()
    services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
    seen = []
    real = services.crl.RevokedEntry
    outside = len(connection.atomic_blocks)  # the test's own transaction, if any

    def entry(*args):
        seen.append(len(connection.atomic_blocks) > outside)  # inside crl_publish's transaction
        return real(*args)

    monkeypatch.setattr(services.crl, "RevokedEntry", entry)
    row = services.crl_publish(ca_slug="issuing")
    assert seen == [True]
    assert row.number == CertificateAuthority.objects.get(pk=issuing.pk).crl_number
    assert latest_crl(issuing).get_revoked_certificate_by_serial_number(cert.serial) is not None


def test_pkilint_finds_no_error_in_published_crls_and_the_unknown_answer(cas, client, tmp_path):
    root, issuing = cas
    cert = issue()
    services.certificate_hold(serial=issue().serial_hex, actor=None)
    services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
    for ca, crl_type in ((issuing, "CRL"), (root, "ARL")):
        row = services.crl_publish(ca_slug=ca.slug)
        assert row.entries == (2 if ca == issuing else 0)
        assert lint.blocking(lint.lint_crl(bytes(row.der), crl_type)) == []
        path = tmp_path / f"{ca.slug}.crl"
        path.write_bytes(bytes(row.der))
        out = run("lint_crl", "lint", "-t", crl_type, "-p", "PKIX", "-s", "ERROR", str(path), check=False)
        assert out.returncode == 0, out.stdout + out.stderr

    issuer_cert = x509.load_der_x509_certificate(bytes(issuing.certificate_der))
    for alg in (hashes.SHA1(), hashes.SHA256()):  # noqa: S303
        query = c_ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            *_hashes(issuer_cert, alg.name), 0x5EED0FF1CE, alg).build().public_bytes(serialization.Encoding.DER)
        raw = client.post("/ca/ocsp/issuing/", query, content_type="application/ocsp-request").content
        assert c_ocsp.load_der_ocsp_response(raw).certificate_status == c_ocsp.OCSPCertStatus.UNKNOWN
        assert lint.blocking(lint.lint_ocsp_response(raw)) == []
        path = tmp_path / f"unknown-{alg.name}.der"
        path.write_bytes(raw)
        out = run("lint_ocsp_response", "lint", "-s", "ERROR", str(path), check=False)
        assert out.returncode == 0, out.stdout + out.stderr


def test_expired_certificates_keep_fresh_ocsp_answers_for_a_while(issuing, settings, client):
    import datetime as dt

    from django.utils import timezone

    settings.CA_OCSP_AFTER_EXPIRY_DAYS = 7
    recent, old = issue(), issue()
    now = timezone.now()
    IssuedCertificate.objects.filter(pk=recent.pk).update(not_after=now - dt.timedelta(days=2))
    IssuedCertificate.objects.filter(pk=old.pk).update(not_after=now - dt.timedelta(days=8))
    stale = now - dt.timedelta(minutes=1)
    OCSPResponse.objects.update(next_update=stale)  # answers whose nextUpdate has passed
    before = {r.pk: bytes(r.der) for r in OCSPResponse.objects.all()}

    tasks.ocsp_refresh_due()
    assert {IssuedCertificate.objects.get(pk=c.pk).status for c in (recent, old)} == {S.EXPIRED}
    fresh = OCSPResponse.objects.filter(certificate=recent)
    assert len(fresh) == 2 and all(r.next_update > now and bytes(r.der) != before[r.pk] for r in fresh)
    responder.clear_cache()
    resp = c_ocsp.load_der_ocsp_response(client.post("/ca/ocsp/issuing/", ocsp_request(recent, issuing),
                                                     content_type="application/ocsp-request").content)
    assert resp.certificate_status == c_ocsp.OCSPCertStatus.GOOD and resp.next_update_utc > now
    # past CA_OCSP_AFTER_EXPIRY_DAYS nothing is signed for it any more: its last answer lapses
    assert all(r.next_update == stale and bytes(r.der) == before[r.pk]
               for r in OCSPResponse.objects.filter(certificate=old))


def test_reason_labels_say_what_the_requests_room_means():
    """A lost token is revoked as key compromise (requests → CA); cessation of operation is not
    about tokens (the desk uses it for a certificate whose issuance was abandoned)."""
    from ramis.ca.models import Reason
    from ramis.requests.models import RFC5280_REASON, RevocationReason

    assert RFC5280_REASON[RevocationReason.TOKEN_LOST] == Reason.KEY_COMPROMISE
    assert "توکن" in Reason.KEY_COMPROMISE.label
    assert "توکن" not in Reason.CESSATION_OF_OPERATION.label
    for ours, ca_reason in RFC5280_REASON.items():
        if "توکن" in ca_reason.label:
            assert ca_reason == RFC5280_REASON[RevocationReason.TOKEN_LOST], ours
