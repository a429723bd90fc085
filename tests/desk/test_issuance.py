"""Issuance onto the applicant's token at the office (R13, R18): a real SoftHSM token, a real
CA on its own SoftHSM tokens, checked by outside tools (openssl, pkilint) and the OCSP/CRL
endpoints; and every failure path leaves the request as it was, nothing half-issued, an audit row."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.test import Client
from django.urls import reverse

from ramis.ca import lint, profiles
from ramis.ca.models import CertificateAuthority, IssuedCertificate
from ramis.common.models import AuditEntry
from ramis.desk import services
from ramis.desk.models import IssuanceAttempt
from ramis.requests.models import Certificate, CertificateRequest
from tests.conftest import last_sms, login_staff, pdf_text
from tests.requests.conftest import advance, make_draft
from tokens.conf import get_manager

from .conftest import TOKEN_PIN, identity_ok

SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
DER = serialization.Encoding.DER


def _ocsp_status(client, leaf: x509.Certificate):
    issuer = CertificateAuthority.objects.get(slug="issuing")
    ca_cert = x509.load_der_x509_certificate(bytes(issuer.certificate_der))
    query = ocsp.OCSPRequestBuilder().add_certificate(leaf, ca_cert, hashes.SHA256()).build()
    raw = client.post("/ca/ocsp/issuing/", query.public_bytes(DER), content_type="application/ocsp-request").content
    return ocsp.load_der_ocsp_response(raw)


@pytest.mark.parametrize(("cert_type", "key_type"), [("signature", "rsa2048"), ("signature", "ec-p256"),
                                                      ("seal", "rsa2048")])
def test_issue_onto_a_fresh_softhsm_token(cert_type, key_type, ca, clerk, applicant_person, office, catalogue,
                                          applicant_token, client, settings, tmp_path,
                                          django_capture_on_commit_callbacks):
    settings.PUBLIC_BASE_URL = "http://pki.ramis.ir"  # a public host: pkilint judges it as in production
    settings.OFFICE_KEY_TYPES = {**settings.OFFICE_KEY_TYPES, cert_type: key_type}
    req = advance(make_draft(applicant_person, office, cert_type=cert_type, catalogue=catalogue),
                  "awaiting_issuance", clerk=clerk)
    identity_ok(req, clerk)

    certificate = services.request_issue_on_token(request_id=req.pk, actor=clerk, pin=TOKEN_PIN,
                                                  token_serial=applicant_token.serial)

    # the request is issued, the certificate recorded with the token's serial, the applicant told
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "issued"
    assert certificate.token_serial == applicant_token.serial and certificate.status == "active"
    assert last_sms(applicant_person.mobile).template == "request_issued"
    attempt = IssuanceAttempt.objects.get(request=req)
    assert attempt.status == "issued" and attempt.certificate_serial == certificate.serial
    assert AuditEntry.objects.for_object(attempt).filter(event="issuance.completed").exists()

    # on the token: the private key is sensitive, never extractable, sign-only; the certificate
    # beside it (same CKA_ID) matches the key; nothing else was added
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    key_id = bytes.fromhex(attempt.key_id)
    attrs = token.key_attributes(key_id)
    assert attrs["SENSITIVE"] and attrs["ALWAYS_SENSITIVE"] and attrs["NEVER_EXTRACTABLE"] and attrs["LOCAL"]
    assert not attrs["EXTRACTABLE"] and not attrs["DECRYPT"] and attrs["SIGN"]
    on_token = token.certificate(key_id)
    issued = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    assert on_token.public_bytes(DER) == bytes(issued.der)
    assert on_token.public_key().public_bytes(DER, SPKI) == token.private_key(id=key_id).public_key().public_bytes(
        DER, SPKI)
    assert {o.object_class for o in token.objects()} == {"private-key", "public-key", "certificate"}
    expected_type = {"rsa2048": "rsa2048", "ec-p256": "ec-p256"}[key_type]
    assert {o.key_type for o in token.objects() if o.key_type} == {expected_type}
    token.logout()

    # the subject is the verified request's, not the CSR's: the person in their role for a
    # signature certificate; the company and its legal national ID, and nothing personal, for a seal
    subject = {a.oid: a.value for a in on_token.subject}
    if cert_type == "signature":
        assert subject[x509.NameOID.SERIAL_NUMBER] == "PNOIR-0499370899"
        assert subject[x509.NameOID.COMMON_NAME] == "Ali Rezaei"
        assert subject[x509.NameOID.TITLE] == "Chief Executive Officer"
    else:
        assert subject == {x509.NameOID.COUNTRY_NAME: "IR", x509.NameOID.ORGANIZATION_NAME: "Pars Sample Co",
                           x509.NameOID.ORGANIZATION_IDENTIFIER: "NTRIR-10380284790",
                           x509.NameOID.COMMON_NAME: "Pars Sample Co"}
    assert len(on_token.subject.rdns) == len(subject)  # one attribute per RDN, none repeated
    policies = on_token.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [str(p.policy_identifier) for p in policies][0] == str(profiles.policy_oids(
        profiles.get_profile(cert_type))[0])

    # openssl verifies the chain; pkilint finds no error
    root = CertificateAuthority.objects.get(slug="root")
    issuing = CertificateAuthority.objects.get(slug="issuing")
    (tmp_path / "root.pem").write_bytes(x509.load_der_x509_certificate(bytes(root.certificate_der)).public_bytes(
        serialization.Encoding.PEM))
    (tmp_path / "issuing.pem").write_bytes(x509.load_der_x509_certificate(
        bytes(issuing.certificate_der)).public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(on_token.public_bytes(serialization.Encoding.PEM))
    proc = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted",
                           str(tmp_path / "issuing.pem"), str(tmp_path / "leaf.pem")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "leaf.pem: OK" in proc.stdout, proc.stderr
    findings = lint.lint_certificate(bytes(issued.der), profiles.get_profile(cert_type).etsi_type)
    assert lint.blocking(findings) == [], findings

    # OCSP says good; the office revokes with the signed form; OCSP says revoked, the CRL lists it
    assert _ocsp_status(client, on_token).certificate_status == ocsp.OCSPCertStatus.GOOD
    from tests.requests.conftest import pdf_upload

    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_revoke_by_office(certificate_id=certificate.pk, actor=clerk, reason="key_compromise",
                                              form_upload=pdf_upload("form.pdf"), note="فرم ابطال امضاشده")
    answer = _ocsp_status(client, on_token)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    crl = x509.load_der_x509_crl(client.get("/ca/crl/issuing.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(on_token.serial_number) is not None
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"


def test_issue_onto_a_new_token_initialised_with_the_applicants_pin(ca, awaiting_issuance, clerk):
    req = awaiting_issuance
    assert req.token_choice == "buy"
    identity_ok(req, clerk)
    before = {t.serial for t in get_manager().list_tokens()}
    certificate = services.request_issue_on_token(request_id=req.pk, actor=clerk, pin="975310", new_token=True)
    new = [t for t in get_manager().list_tokens() if t.serial not in before]
    assert len(new) == 1 and new[0].label.startswith("RAMIS-0499370899-")
    assert certificate.token_serial == new[0].serial
    # the PIN is the applicant's (and nowhere in the database or the audit trail)
    token = get_manager().open(serial=new[0].serial, pin="975310")
    assert any(o.object_class == "certificate" for o in token.objects())
    token.logout()
    assert not AuditEntry.objects.filter(extra__icontains="975310").exists()
    assert not AuditEntry.objects.filter(reason__icontains="975310").exists()


def test_the_token_is_logged_out_after_issuance(ca, awaiting_issuance, clerk, applicant_token):
    """The web process must not stay logged in to the applicant's token: a wrong PIN afterwards fails."""
    from tokens import WrongPin

    identity_ok(awaiting_issuance, clerk)
    issued = services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                             token_serial=applicant_token.serial)
    assert Certificate.objects.get(pk=issued.pk).status == "active"
    with pytest.raises(WrongPin) as refused:
        get_manager().open(serial=applicant_token.serial, pin="000000")
    assert isinstance(refused.value, WrongPin)  # the PIN was checked again: no session was left open


def test_renewal_on_the_same_token_supersedes_the_old_certificate_and_replaces_its_key(
        ca, applicant_person, office, clerk, catalogue, applicant_token):
    old = _issue_reusing(applicant_person, office, clerk, catalogue, applicant_token)
    renewal = _renewal_awaiting_issuance(applicant_person, clerk, old)
    new = services.request_issue_on_token(request_id=renewal.pk, actor=clerk, pin=TOKEN_PIN,
                                          token_serial=applicant_token.serial)
    assert new.pk != old.pk and new.request_id == renewal.pk
    _assert_superseded_on_the_token(old, new, applicant_token, "با تمدید")


def _renewal_awaiting_issuance(applicant_person, clerk, old):
    """A renewal of ``old``, its documents uploaded, awaiting issuance, identity checked today."""
    from ramis.requests import services as request_services
    from ramis.requests.models import DocumentRequirement
    from tests.requests.conftest import advance, pdf_upload

    renewal = request_services.renewal_start(certificate_id=old.pk, actor=applicant_person.user)
    for requirement in DocumentRequirement.objects.for_request(renewal).filter(required=True):
        request_services.document_upload(request_id=renewal.pk, requirement_id=requirement.pk, upload=pdf_upload(),
                                         actor=applicant_person.user)
    renewal = advance(renewal, "awaiting_issuance", clerk=clerk)
    identity_ok(renewal, clerk)
    return renewal


def test_a_renewal_is_not_issued_while_the_certificate_it_renews_is_held_at_the_ca(
        ca, applicant_person, office, clerk, catalogue, applicant_token):
    from django.core.management import call_command

    old = _issue_reusing(applicant_person, office, clerk, catalogue, applicant_token)
    renewal = _renewal_awaiting_issuance(applicant_person, clerk, old)
    call_command("ca", "hold", "--serial", old.serial, "--reason", "بررسی")
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=renewal.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert exc.value.code == "renewed_on_hold" and "معلق" in exc.value.message
    entry = AuditEntry.objects.for_object(renewal).get(event="issuance.refused")
    assert entry.extra["code"] == "renewed_on_hold" and entry.reason == exc.value.message
    assert CertificateRequest.objects.get(pk=renewal.pk).status == "awaiting_issuance"
    assert not IssuanceAttempt.objects.filter(request=renewal).exists()
    assert Certificate.objects.get(pk=old.pk).status == "on_hold"
    assert IssuedCertificate.objects.get(serial_hex=old.serial).status == "on_hold"
    # released at the CA: the renewal is issued and supersedes it as usual
    call_command("ca", "release", "--serial", old.serial)
    new = services.request_issue_on_token(request_id=renewal.pk, actor=clerk, pin=TOKEN_PIN,
                                          token_serial=applicant_token.serial)
    assert Certificate.objects.get(pk=old.pk).superseded_by_id == new.pk


def _assert_superseded_on_the_token(old, new, token_info, why):
    """``old`` is superseded by ``new`` here and at the CA (the desk says ``why``), and the token
    holds only the new pair."""
    assert Certificate.objects.get(pk=old.pk).status == "superseded"
    assert Certificate.objects.get(pk=old.pk).superseded_by_id == new.pk
    clerk = IssuanceAttempt.objects.get(request=new.request, status="issued").clerk
    page = login_staff(Client(), clerk).get(reverse("desk:certificate", args=[old.pk])).content.decode()
    assert f'<span id="superseded-why">{why} (سریال <span dir="ltr">{new.serial}</span>)</span>' in page
    assert Certificate.objects.get(pk=new.pk).status == "active"
    assert IssuedCertificate.objects.get(serial_hex=old.serial).status == "superseded"
    entry = AuditEntry.objects.for_object(Certificate.objects.get(pk=old.pk)).get(event="certificate.superseded")
    assert entry.extra["by"] == new.serial
    # superseded, not revoked: the CA keeps answering good until it expires (as for every renewal)
    old_cert = x509.load_der_x509_certificate(bytes(IssuedCertificate.objects.get(serial_hex=old.serial).der))
    assert _ocsp_status(Client(), old_cert).certificate_status == ocsp.OCSPCertStatus.GOOD
    # the old key pair and certificate were removed once the new one was written and recorded
    attempt = IssuanceAttempt.objects.get(request=new.request, status="issued")
    token = get_manager().open(serial=token_info.serial, pin=TOKEN_PIN)
    objects = token.objects()
    token.logout()
    assert {o.id for o in objects} == {attempt.key_id}
    assert {o.serial for o in objects if o.object_class == "certificate"} == {new.serial}
    removed = AuditEntry.objects.for_object(attempt).get(event="issuance.superseded_removed")
    assert removed.extra["serials"] == [old.serial] and removed.extra["token_objects_deleted"] == 3


def _issue_reusing(applicant_person, office, clerk, catalogue, token_info):
    from tests.requests.conftest import advance, make_draft

    req = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue), "awaiting_issuance",
                  clerk=clerk)
    identity_ok(req, clerk)
    return services.request_issue_on_token(request_id=req.pk, actor=clerk, pin=TOKEN_PIN,
                                           token_serial=token_info.serial)


def test_a_new_request_on_a_reused_token_supersedes_the_old_certificate(ca, applicant_person, office, clerk,
                                                                        catalogue, applicant_token):
    """Not a renewal: a second request of the same role and type, issued onto the same token."""
    old = _issue_reusing(applicant_person, office, clerk, catalogue, applicant_token)
    new = _issue_reusing(applicant_person, office, clerk, catalogue, applicant_token)
    assert new.request.kind == "issue" and new.request.renews_id is None
    _assert_superseded_on_the_token(old, new, applicant_token, "با گواهی تازه روی همان توکن")


def test_a_new_certificate_on_another_token_supersedes_nothing(ca, applicant_person, office, clerk, catalogue,
                                                               applicant_token):
    from tests.requests.conftest import advance, make_draft

    old = _issue_reusing(applicant_person, office, clerk, catalogue, applicant_token)
    bought = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    identity_ok(bought, clerk)
    services.request_issue_on_token(request_id=bought.pk, actor=clerk, pin="975310", new_token=True)
    assert Certificate.objects.get(pk=old.pk).status == "active"
    assert IssuedCertificate.objects.get(serial_hex=old.serial).status == "active"
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert {o.serial for o in token.objects() if o.object_class == "certificate"} == {old.serial}
    token.logout()


def test_writing_the_new_certificate_fails_the_old_key_and_certificate_stay(ca, applicant_person, office, clerk,
                                                                            catalogue, applicant_token, monkeypatch):
    from tests.requests.conftest import advance, make_draft
    from tokens import Token, TokenRemoved

    old = _issue_reusing(applicant_person, office, clerk, catalogue, applicant_token)
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    before = token.objects()
    token.logout()
    assert len(before) == 3
    second = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                     "awaiting_issuance", clerk=clerk)
    identity_ok(second, clerk)

    def removed(self, cert, key_id, label):
        raise TokenRemoved("token removed or session invalid: import certificate")

    monkeypatch.setattr(Token, "import_certificate", removed)
    with pytest.raises(services.DeskError):
        services.request_issue_on_token(request_id=second.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    _assert_unchanged(second, "token_removed")
    assert Certificate.objects.get(pk=old.pk).status == "active"
    assert IssuedCertificate.objects.get(serial_hex=old.serial).status == "active"
    assert not AuditEntry.objects.filter(event="certificate.superseded").exists()
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == before  # the old key pair and certificate, and nothing of the new key
    token.logout()


# --- failures: the request stays awaiting issuance, nothing half-issued, an audit row -----------------


def _assert_unchanged(req, code):
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
    assert not Certificate.objects.filter(request=req).exists()
    attempt = IssuanceAttempt.objects.filter(request=req).latest("id")
    assert attempt.status == "failed" and attempt.error_code == code
    entry = AuditEntry.objects.for_object(attempt).get(event="issuance.failed")
    assert entry.extra["code"] == code and entry.reason
    return attempt


def test_wrong_pin(ca, awaiting_issuance, clerk, applicant_token):
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="999999",
                                        token_serial=applicant_token.serial)
    assert "رمز (PIN) توکن نادرست است" in exc.value.message
    _assert_unchanged(awaiting_issuance, "wrong_pin")
    assert not IssuedCertificate.objects.exclude(profile="tsa").exists()
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == []
    token.logout()


def test_no_token(ca, awaiting_issuance, clerk):
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial="0000deadbeef0000")
    assert "توکن انتخاب‌شده پیدا نشد" in exc.value.message
    _assert_unchanged(awaiting_issuance, "no_token")


def test_locked_pin_is_refused_before_login(ca, awaiting_issuance, clerk, applicant_token, monkeypatch):
    """SoftHSM never locks a PIN (tokens/errors.py), so the token's flag is forced here."""
    import pkcs11

    from ramis.desk.workstation import InProcessTokens

    real = InProcessTokens.info

    def locked_info(self, *, serial):
        info = real(self, serial=serial)
        return dataclasses.replace(info, flags=info.flags | pkcs11.TokenFlag.USER_PIN_LOCKED)

    monkeypatch.setattr(InProcessTokens, "info", locked_info)
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert "قفل" in exc.value.message
    _assert_unchanged(awaiting_issuance, "pin_locked")


def test_lint_failure_deletes_the_key_and_issues_nothing(ca, awaiting_issuance, clerk, applicant_token,
                                                        pkilint_refuses):
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert "pkilint" in exc.value.message
    attempt = _assert_unchanged(awaiting_issuance, "lint")
    assert attempt.cleanup["token_objects_deleted"] == 2  # the private and public key generated for it
    assert not IssuedCertificate.objects.exclude(profile="tsa").exists()
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == []
    token.logout()


def test_writing_to_the_token_fails_the_ca_certificate_is_revoked(ca, awaiting_issuance, clerk, applicant_token,
                                                                  monkeypatch):
    from tokens import Token, TokenRemoved

    def removed(self, cert, key_id, label):
        raise TokenRemoved("token removed or session invalid: import certificate")

    monkeypatch.setattr(Token, "import_certificate", removed)
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError):
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    attempt = _assert_unchanged(awaiting_issuance, "token_removed")
    issued = IssuedCertificate.objects.exclude(profile="tsa").get()
    assert issued.status == "revoked" and issued.revocation_reason == "cessation_of_operation"
    assert attempt.cleanup["ca_revoked"] == issued.serial_hex
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == []
    token.logout()


def test_hsm_down_at_the_ca(ca, awaiting_issuance, clerk, applicant_token, monkeypatch):
    from ramis.ca import signing
    from tokens import TokenRemoved

    def down(ca):
        raise TokenRemoved("token removed or session invalid: 'ramis-issuing'")

    monkeypatch.setattr(signing, "signer", down)
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert "HSM" in exc.value.message
    _assert_unchanged(awaiting_issuance, "hsm")


def test_a_ca_token_is_never_offered_or_used(ca, awaiting_issuance, clerk):
    from ramis.desk import selectors

    identity_ok(awaiting_issuance, clerk)
    issuing = CertificateAuthority.objects.get(slug="issuing")
    pickable, _ = selectors.split_tokens(get_manager().list_tokens())
    assert issuing.token_serial not in {t.serial for t in pickable}
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="1234",
                                        token_serial=issuing.token_serial)
    assert exc.value.code == "system_token"
    _assert_unchanged(awaiting_issuance, "system_token")


# --- refusals before any token I/O -------------------------------------------------------------------


def test_issuance_needs_todays_passed_identity_check(ca, awaiting_issuance, clerk, applicant_token):
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert exc.value.code == "no_identity"
    identity_ok(awaiting_issuance, clerk, photo_matches=False)
    with pytest.raises(services.DeskError):
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert not IssuanceAttempt.objects.exists()


def test_issuance_refused_for_another_office_and_for_the_applicant(ca, awaiting_issuance, clerk, other_office_clerk,
                                                                   applicant_person, applicant_token):
    from django.core.exceptions import PermissionDenied

    identity_ok(awaiting_issuance, clerk)
    for actor in (other_office_clerk, applicant_person.user):
        with pytest.raises(PermissionDenied):
            services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=actor, pin=TOKEN_PIN,
                                            token_serial=applicant_token.serial)
    assert not IssuanceAttempt.objects.exists()


@pytest.mark.parametrize("case, code", [
    ("not_awaiting_issuance", "state"), ("no_identity_check", "no_identity"), ("identity_refused", "no_identity"),
    ("other_office_clerk", "permission"), ("applicant", "permission"), ("attempt_running", "in_progress"),
    ("no_pin", "no_pin"), ("no_token_picked", "no_token"), ("new_token_short_pin", "pin_short"),
    ("no_identity_check_nor_pin", "no_identity"), ("no_identity_check_reuse_new_token", "no_identity"),
    ("no_workstation", "no_workstation"), ("no_so_pin", "no_so_pin"),
])
def test_refusals_before_an_attempt_exists_are_audited(case, code, request, ca, applicant_person, office, clerk,
                                                       catalogue, applicant_token):
    """Every failure of issuance leaves an audit row (issue 5), also before an attempt exists."""
    from django.core.exceptions import PermissionDenied

    from ramis.common.errors import InvalidTransition
    from tests.requests.conftest import advance, make_draft

    if case == "not_awaiting_issuance":
        req = advance(make_draft(applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)
    elif case == "no_identity_check_reuse_new_token":  # the input would be refused too, after the identity
        req = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                      "awaiting_issuance", clerk=clerk)
    else:
        req = request.getfixturevalue("awaiting_issuance")
        if not case.startswith("no_identity_check"):
            identity_ok(req, clerk, photo_matches=case != "identity_refused")
    actor = {"other_office_clerk": request.getfixturevalue("other_office_clerk"),
             "applicant": applicant_person.user}.get(case, clerk)
    running = None
    if case == "attempt_running":
        running = IssuanceAttempt.objects.create(request=req, clerk=clerk, key_type="rsa2048",
                                                 identity_check=req.identity_checks.first())
    status = CertificateRequest.objects.get(pk=req.pk).status
    kwargs = {"pin": "" if case in ("no_pin", "no_identity_check_nor_pin") else TOKEN_PIN,
              "token_serial": "" if case == "no_token_picked" else applicant_token.serial}
    if case == "new_token_short_pin":  # the form asks for it too; the service holds the rule
        kwargs = {"pin": "12345", "new_token": True}
    elif case == "no_identity_check_reuse_new_token":
        kwargs = {"pin": "975310", "new_token": True}
    elif case == "no_so_pin":  # a bought token to re-initialise, without its vendor's SO PIN
        kwargs = {"pin": "975310", "reinit_serial": "VENDOR-TOKEN-1"}
    elif case == "no_workstation":  # the agent backend needs the clerk's workstation
        request.getfixturevalue("settings").OFFICE_TOKEN_BACKEND = "ramis.desk.agent.AgentTokens"

    with pytest.raises((services.DeskError, InvalidTransition, PermissionDenied)):
        services.request_issue_on_token(request_id=req.pk, actor=actor, **kwargs)

    entry = AuditEntry.objects.for_object(req).get(event="issuance.refused")
    assert entry.extra["code"] == code and entry.extra["request"] == req.reference and entry.reason
    assert entry.actor_id == actor.pk and entry.old == entry.new == status
    assert CertificateRequest.objects.get(pk=req.pk).status == status
    assert list(IssuanceAttempt.objects.filter(request=req)) == ([running] if running else [])
    assert not AuditEntry.objects.filter(event__in=["issuance.started", "issuance.failed"]).exists()


def test_an_abandoned_attempt_is_reaped_and_its_certificate_revoked(ca, awaiting_issuance, clerk, applicant_token,
                                                                     settings):
    """A process that died between the CA and the record: the next attempt revokes what it left."""
    from ramis.desk.selectors import certificate_subject
    from tests.conftest import issue_test_certificate

    check = identity_ok(awaiting_issuance, clerk)
    stale = IssuanceAttempt.objects.create(request=awaiting_issuance, clerk=clerk, identity_check=check,
                                           key_type="rsa2048")
    IssuanceAttempt.objects.filter(pk=stale.pk).update(started_at=stale.started_at.replace(year=2020))
    left = issue_test_certificate("signature", certificate_subject(awaiting_issuance))
    IssuedCertificate.objects.filter(pk=left.pk).update(request_ref=f"{awaiting_issuance.reference}/{stale.pk}")
    services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                    token_serial=applicant_token.serial)
    stale = IssuanceAttempt.objects.get(pk=stale.pk)
    assert stale.status == "failed" and stale.error_code == "abandoned"
    assert IssuedCertificate.objects.get(pk=left.pk).status == "revoked"


def test_a_running_attempt_blocks_a_second_clerk(ca, awaiting_issuance, clerk, office, applicant_token):
    from ramis.offices.models import Clerk
    from tests.conftest import make_staff

    second = make_staff("clerk-b")
    Clerk.objects.create(user=second, office=office)
    check = identity_ok(awaiting_issuance, clerk)
    IssuanceAttempt.objects.create(request=awaiting_issuance, clerk=clerk, identity_check=check, key_type="rsa2048")
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=second, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert exc.value.code == "in_progress"


@pytest.fixture
def reusing(applicant_person, office, clerk, catalogue):
    """A request whose applicant brings their own token (R8), awaiting issuance."""
    from tests.requests.conftest import advance, make_draft

    return advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue), "awaiting_issuance",
                   clerk=clerk)


def test_issue_view_lists_tokens_and_issues(ca, reusing, clerk, clerk_client, applicant_token):
    identity_ok(reusing, clerk)
    url = reverse("desk:issue", args=[reusing.pk])
    page = clerk_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert applicant_token.serial in html and "ramis-issuing" not in html and "ramis-root" not in html
    response = clerk_client.post(url, {"token": applicant_token.serial, "pin": "111111"})
    assert response.status_code == 302 and response["Location"] == url
    follow = clerk_client.get(url)
    assert "رمز (PIN) توکن نادرست است" in follow.content.decode()
    response = clerk_client.post(url, {"token": applicant_token.serial, "pin": TOKEN_PIN})
    assert response["Location"] == reverse("desk:review", args=[reusing.pk])
    assert CertificateRequest.objects.get(pk=reusing.pk).status == "issued"
    pdf = clerk_client.get(reverse("desk:handover", args=[reusing.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def _token_field_error(response) -> str:
    assert response.status_code == 200
    return " ".join(response.context["form"].errors.get("token", []))


def test_a_bought_token_is_only_initialised_new(ca, awaiting_issuance, clerk, clerk_client, applicant_token):
    """The applicant bought a token of a catalogue model: the form offers a new token, or the
    present ones only to be wiped and re-initialised (a token its vendor initialised; with its SO
    PIN, tests/desk/test_workstations.py) — never one as it is."""
    req = awaiting_issuance
    assert req.token_choice == "buy"
    identity_ok(req, clerk)
    url = reverse("desk:issue", args=[req.pk])
    form = clerk_client.get(url).context["form"]
    values = [value for value, _label in form.fields["token"].choices]
    assert values[0] == "__new__" and f"wipe:{applicant_token.serial}" in values
    assert all(v.startswith("wipe:") for v in values[1:])
    assert "ePass 2003" in form.fields["token"].choices[0][1]

    # the clerk posts an existing token anyway: a Persian error next to the field, nothing done
    response = clerk_client.post(url, {"token": applicant_token.serial, "pin": TOKEN_PIN})
    assert "توکن نو خریده است" in _token_field_error(response)
    assert "توکن نو خریده است" in response.content.decode()
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
    assert not IssuanceAttempt.objects.exists()
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == []
    token.logout()

    response = clerk_client.post(url, {"token": "__new__", "pin": "975310", "pin_again": "975310"})
    assert response.status_code == 302
    certificate = Certificate.objects.get(request=req)
    assert certificate.token_serial != applicant_token.serial and IssuanceAttempt.objects.get().new_token


def test_a_reused_token_is_only_picked_never_initialised(ca, reusing, clerk, clerk_client, applicant_token):
    identity_ok(reusing, clerk)
    url = reverse("desk:issue", args=[reusing.pk])
    form = clerk_client.get(url).context["form"]
    values = [value for value, _label in form.fields["token"].choices]
    assert applicant_token.serial in values and "__new__" not in values
    before = {t.serial for t in get_manager().list_tokens()}

    response = clerk_client.post(url, {"token": "__new__", "pin": "975310", "pin_again": "975310"})
    assert "توکن فعلی خود را به کار می‌برد" in _token_field_error(response)
    assert CertificateRequest.objects.get(pk=reusing.pk).status == "awaiting_issuance"
    assert {t.serial for t in get_manager().list_tokens()} == before  # no token initialised
    assert not IssuanceAttempt.objects.exists()

    # and the service refuses it too, audited
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=reusing.pk, actor=clerk, pin="975310", new_token=True)
    assert exc.value.code == "token_choice"
    assert AuditEntry.objects.for_object(reusing).get(event="issuance.refused").extra["code"] == "token_choice"
    assert {t.serial for t in get_manager().list_tokens()} == before

    response = clerk_client.post(url, {"token": applicant_token.serial, "pin": TOKEN_PIN})
    assert response.status_code == 302
    assert Certificate.objects.get(request=reusing).token_serial == applicant_token.serial


def test_handover_pdf_content(ca, awaiting_issuance, clerk, clerk_client, other_clerk_client, applicant_token,
                              tmp_path, settings):
    from ramis.common.jalali import jalali_date

    settings.PUBLIC_BASE_URL = "http://pki.ramis.ir"
    clerk.first_name, clerk.last_name = "زهرا", "محمدی"
    clerk.save()
    identity_ok(awaiting_issuance, clerk)
    certificate = services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                                  token_serial=applicant_token.serial)
    url = reverse("desk:handover", args=[awaiting_issuance.pk])
    assert other_clerk_client.get(url).status_code == 404
    response = clerk_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    lines = {line.strip() for line in text.splitlines()}
    issued = IssuedCertificate.objects.get(serial_hex=certificate.serial)

    # the full SHA-256 fingerprint of the certificate's DER, in its two printed lines
    fingerprint = hashes.Hash(hashes.SHA256())
    fingerprint.update(bytes(issued.der))
    pairs = [f"{b:02X}" for b in fingerprint.finalize()]
    assert ":".join(pairs[:16]) in lines and ":".join(pairs[16:]) in lines
    # serial, token, the subject
    serial = x509.load_der_x509_certificate(bytes(issued.der)).serial_number
    assert format(serial, "x") == certificate.serial and certificate.serial in lines
    assert applicant_token.serial in text
    flat = " ".join(text.split())
    # the subject in Persian labels, one attribute a line, Latin values isolated (not RFC 4514 text)
    assert "کد ملی" in flat and "0499370899" in flat and "Rezaei" in flat
    assert "serialNumber=" not in flat and "SN=" not in flat
    # validity in Jalali (Tehran) dates, both ends
    assert jalali_date(certificate.not_before) in text and jalali_date(certificate.not_after) in text
    assert jalali_date(certificate.not_before) != jalali_date(certificate.not_after)
    # the CA's OCSP and CRL addresses, as the certificate itself carries them
    assert "http://pki.ramis.ir/ca/ocsp/issuing/" in lines
    assert "http://pki.ramis.ir/ca/crl/issuing.crl" in lines
    # the clerk's name and the applicant's acknowledgement with both signature lines
    assert "زهرا محمدی" in text
    assert "اقرار تحویلگیرنده" in text
    # (pdftotext reads the lam-alef ligature of «بالا» back as «باال»: the words around it)
    assert "اینجانب گواهی الکترونیکی" in flat
    assert "توکن سختافزاری حامل کلید خصوصی آن را تحویل گرفتم" in flat
    assert "علی رضایی" in text and text.count("امضا") >= 2


def test_new_token_with_a_non_softhsm_module_and_no_token_plugged_in(settings, ca, awaiting_issuance, clerk):
    """Any module can initialise a new token (C_InitToken); OpenSC without a reader has none to offer."""
    settings.OFFICE_PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310", new_token=True)
    assert exc.value.code == "no_token" and "پیدا نشد" in exc.value.message
    _assert_unchanged(awaiting_issuance, "no_token")
