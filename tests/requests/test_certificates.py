"""Certificates in the panel: issuance result, renewal bound to the office (R15, R20),
revocation with RFC 5280 reasons (R19, R21), role end, expiry reminders and expiry."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from ramis.registry.models import Role
from ramis.requests import selectors, services
from ramis.requests.models import Certificate, CertificateRequest, RevocationRequest
from tests.conftest import issue_test_certificate, last_sms

from .conftest import advance, make_draft


@pytest.fixture
def certificate(applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)


def test_issuance_is_recorded_by_the_office(applicant_person, office, clerk, other_office_clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    issued = issue_test_certificate("signature")
    with pytest.raises(PermissionDenied):
        services.request_mark_issued(request_id=req.pk, actor=other_office_clerk, serial=issued.serial_hex,
                                     not_before=issued.not_before, not_after=issued.not_after)
    cert = services.request_mark_issued(request_id=req.pk, actor=clerk, serial=issued.serial_hex.upper(),
                                        not_before=issued.not_before, not_after=issued.not_after)
    assert cert.serial == issued.serial_hex and cert.office == office and cert.status == "active"
    assert CertificateRequest.objects.get(pk=req.pk).status == "issued"
    assert AuditEntry.objects.filter(event="certificate.issued", target_type="certrequests.certificate").count() == 1
    assert AuditEntry.objects.filter(event="certificate.issued", target_type="ca.issuedcertificate").count() == 1
    assert last_sms(applicant_person.mobile).template == "request_issued"


# --- renewal (R15, R20) -------------------------------------------------------------------------------


def test_renewal_is_bound_to_the_issuing_office(applicant_client, applicant_person, certificate, office,
                                               other_office, catalogue):
    response = applicant_client.post(reverse("requests:renew", args=[certificate.pk]))
    renewal = CertificateRequest.objects.get(kind="renew")
    assert response["Location"] == reverse("requests:step", args=[renewal.pk, "details"])
    assert (renewal.office, renewal.renews, renewal.token_choice) == (office, certificate, "reuse")
    assert renewal.latin_last_name == "Rezaei"  # details carried over from the original request
    # the office cannot be changed, neither through the form nor the service
    page = applicant_client.get(reverse("requests:step", args=[renewal.pk, "office"])).content.decode()
    assert "disabled" in page and "همان دفتری" in page
    applicant_client.post(reverse("requests:step", args=[renewal.pk, "office"]),
                          {"office": other_office.pk, "service_type": "in_person"})
    assert CertificateRequest.objects.get(pk=renewal.pk).office == office
    with pytest.raises(services.DomainError):
        services.request_update(request_id=renewal.pk, actor=applicant_person.user, step="office",
                                data={"office": other_office})
    # pressing Renew again opens the same renewal
    applicant_client.post(reverse("requests:renew", args=[certificate.pk]))
    assert CertificateRequest.objects.filter(kind="renew").count() == 1


def test_renewal_issuance_supersedes_the_old_certificate(applicant_person, certificate, clerk):
    renewal = services.renewal_start(certificate_id=certificate.pk, actor=applicant_person.user)
    # a renewal asks only for the documents marked for renewal (not the birth certificate here)
    assert not any("شناسنامه" in m for m in services.selectors.missing_items(renewal))
    from .conftest import pdf_upload

    for requirement in services.DocumentRequirement.objects.for_request(renewal).filter(required=True):
        services.document_upload(request_id=renewal.pk, requirement_id=requirement.pk, upload=pdf_upload(),
                                 actor=applicant_person.user)
    renewal = CertificateRequest.objects.get(pk=renewal.pk)
    new = advance(renewal, "issued", clerk=clerk)
    assert Certificate.objects.get(pk=certificate.pk).status == "superseded"
    assert new.status == "active" and new.office == certificate.office
    assert AuditEntry.objects.filter(event="certificate.superseded", target_id=str(certificate.pk),
                               target_type="certrequests.certificate").count() == 1


def _issue_on(req, clerk, token_serial: str) -> Certificate:
    issued = issue_test_certificate(req.cert_type)
    return services.request_mark_issued(request_id=req.pk, actor=clerk, serial=issued.serial_hex,
                                        not_before=issued.not_before, not_after=issued.not_after,
                                        token_serial=token_serial)


def test_superseded_says_why_renewal_or_a_new_certificate_on_the_same_token(applicant_client, applicant_person,
                                                                         office, clerk, catalogue):
    from .conftest import pdf_upload

    user = applicant_person.user
    first = _issue_on(advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                              "awaiting_issuance", clerk=clerk), clerk, "TOKEN-A")
    renewal = services.renewal_start(certificate_id=first.pk, actor=user)
    for requirement in services.DocumentRequirement.objects.for_request(renewal).filter(required=True):
        services.document_upload(request_id=renewal.pk, requirement_id=requirement.pk, upload=pdf_upload(), actor=user)
    renewed = _issue_on(advance(CertificateRequest.objects.get(pk=renewal.pk), "awaiting_issuance", clerk=clerk),
                        clerk, "TOKEN-A")
    # not a renewal: a new request of the same role and type, issued onto the same token
    replacing = _issue_on(advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                                  "awaiting_issuance", clerk=clerk), clerk, "TOKEN-A")
    first, renewed = Certificate.objects.get(pk=first.pk), Certificate.objects.get(pk=renewed.pk)
    assert (first.status, first.superseded_by_id, first.superseded_why) == ("superseded", renewed.pk, "با تمدید")
    assert (renewed.status, renewed.superseded_by_id, renewed.superseded_why) == (
        "superseded", replacing.pk, "با گواهی تازه روی همان توکن")
    assert replacing.superseded_why == "" and first.get_status_display() == "جایگزین‌شده"

    panel = applicant_client.get(reverse("requests:panel")).content.decode()
    rows = {cert.serial: panel[panel.index(cert.serial):].split("</tr>")[0] for cert in (first, renewed, replacing)}
    assert "جایگزین‌شده" in rows[first.serial] and "با تمدید" in rows[first.serial]
    assert "جایگزین‌شده" in rows[renewed.serial] and "با گواهی تازه روی همان توکن" in rows[renewed.serial]
    assert "تمدید</small>" not in rows[renewed.serial] and "جایگزین" not in rows[replacing.serial]

    # certificates superseded before the field existed get it from their audit entry (migration 0004)
    import importlib

    from django.apps import apps

    migration = importlib.import_module("ramis.requests.migrations.0004_certificate_superseded_by")
    Certificate.objects.filter(pk__in=[first.pk, renewed.pk]).update(superseded_by=None)
    migration.superseded_by_from_the_audit_trail(apps, None)
    assert dict(Certificate.objects.filter(status="superseded").values_list("pk", "superseded_by")) == {
        first.pk: renewed.pk, renewed.pk: replacing.pk}


def test_only_the_holder_renews_an_active_certificate(other_applicant_client, other_applicant_person,
                                                     applicant_person, certificate):
    assert other_applicant_client.post(reverse("requests:renew", args=[certificate.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.renewal_start(certificate_id=certificate.pk, actor=other_applicant_person.user)
    services.certificate_revoke(certificate_id=certificate.pk, actor=certificate.office.clerks.get().user,
                                reason="unspecified")
    with pytest.raises(InvalidTransition):
        services.renewal_start(certificate_id=certificate.pk, actor=applicant_person.user)


# --- revocation (R19, R21) ----------------------------------------------------------------------------


def test_key_compromise_revokes_at_once(applicant_client, applicant_person, certificate):
    page = applicant_client.get(reverse("requests:revoke", args=[certificate.pk])).content.decode()
    assert "افشای کلید" in page and "گم شدن یا سرقت توکن" in page
    response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                     {"reason": "token_lost", "note": "توکن در سفر گم شد.", "confirm": "on"})
    assert response["Location"] == reverse("requests:panel")
    cert = Certificate.objects.get(pk=certificate.pk)
    assert cert.status == "revoked" and cert.revocation_reason == "token_lost" and cert.revoked_at
    revocation = RevocationRequest.objects.get()
    assert revocation.status == "confirmed" and revocation.decided_by == applicant_person.user
    entry = AuditEntry.objects.get(event="certificate.revoked", target_type="certrequests.certificate")
    assert entry.extra["rfc5280"] == "key_compromise" and (entry.old, entry.new) == ("active", "revoked")
    assert last_sms(applicant_person.mobile).template == "certificate_revoked"


def test_other_reasons_wait_for_the_office(applicant_person, certificate, clerk, other_office_clerk):
    outcome = services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                          reason="affiliation_changed")
    assert not outcome.immediate and outcome.revocation.status == "submitted"
    assert Certificate.objects.get(pk=certificate.pk).status == "active"
    assert last_sms(applicant_person.mobile).template == "revocation_requested"
    with pytest.raises(services.DomainError):  # one open revocation at a time
        services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user, reason="unspecified")
    with pytest.raises(PermissionDenied):
        services.revocation_confirm(revocation_id=outcome.revocation.pk, actor=other_office_clerk)
    with pytest.raises(PermissionDenied):
        services.revocation_confirm(revocation_id=outcome.revocation.pk, actor=applicant_person.user)
    services.revocation_confirm(revocation_id=outcome.revocation.pk, actor=clerk)
    cert = Certificate.objects.get(pk=certificate.pk)
    assert cert.status == "revoked" and cert.revocation_reason == "affiliation_changed"
    assert AuditEntry.objects.get(event="certificate.revoked", target_type="certrequests.certificate").extra["rfc5280"] == "affiliation_changed"


def test_office_can_reject_a_revocation_request(applicant_person, certificate, clerk):
    outcome = services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                          reason="unspecified")
    services.revocation_reject(revocation_id=outcome.revocation.pk, actor=clerk, reason="درخواست تکراری")
    assert RevocationRequest.objects.get().status == "rejected"
    assert Certificate.objects.get(pk=certificate.pk).status == "active"
    assert "درخواست تکراری" in last_sms(applicant_person.mobile).body


def test_within_30_days_of_expiry_renewal_replaces_revocation(applicant_client, applicant_person, certificate):
    Certificate.objects.filter(pk=certificate.pk).update(not_after=timezone.now() + dt.timedelta(days=20))
    panel = applicant_client.get(reverse("requests:panel")).content.decode()
    assert "کمتر از ۳۰ روز تا انقضا" in panel and reverse("requests:renew", args=[certificate.pk]) in panel
    page = applicant_client.get(reverse("requests:revoke", args=[certificate.pk])).content.decode()
    assert "affiliation_changed" not in page and "key_compromise" in page
    with pytest.raises(services.DomainError):
        services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                    reason="affiliation_changed")
    services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user, reason="key_compromise")
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"


def test_someone_elses_certificate_cannot_be_revoked(other_applicant_client, other_applicant_person, certificate):
    url = reverse("requests:revoke", args=[certificate.pk])
    assert other_applicant_client.get(url).status_code == 404
    assert other_applicant_client.post(url, {"reason": "key_compromise", "confirm": "on"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.revocation_request(certificate_id=certificate.pk, actor=other_applicant_person.user,
                                    reason="key_compromise")
    assert Certificate.objects.get(pk=certificate.pk).status == "active"


def test_revocation_cancels_an_open_renewal(applicant_person, certificate):
    renewal = services.renewal_start(certificate_id=certificate.pk, actor=applicant_person.user)
    services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user, reason="key_compromise")
    assert CertificateRequest.objects.get(pk=renewal.pk).status == "cancelled"


def test_seo_ending_a_role_revokes_its_certificates(applicant_person, certificate, seo_reviewer, other_office_clerk):
    role = certificate.role
    with pytest.raises(PermissionDenied):
        services.role_end_with_revocation(role_id=role.pk, actor=other_office_clerk, reason="x")
    revoked = services.role_end_with_revocation(role_id=role.pk, actor=seo_reviewer, reason="پایان عضویت هیئت‌مدیره")
    assert [c.pk for c in revoked] == [certificate.pk]
    assert Role.objects.get(pk=role.pk).status == "ended"
    cert = Certificate.objects.get(pk=certificate.pk)
    assert cert.status == "revoked" and cert.revocation_reason == "affiliation_changed"
    assert AuditEntry.objects.get(event="certificate.revoked", target_type="certrequests.certificate").actor == seo_reviewer


def test_role_end_admin_action_revokes(client, certificate, seo_reviewer):
    from django.contrib.auth.models import Permission

    from tests.conftest import login_staff

    seo_reviewer.user_permissions.add(Permission.objects.get(codename="view_role"))
    login_staff(client, seo_reviewer)
    response = client.post(reverse("admin:registry_role_changelist"), {
        "action": "end_roles_and_revoke", "_selected_action": [certificate.role_id], "apply": "1",
        "reason": "پایان سمت",
    })
    assert response.status_code == 302
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"


# --- expiry (R20) -------------------------------------------------------------------------------------


def test_expiry_reminders_at_30_and_7_days_once_each(applicant_person, certificate):
    now = timezone.now()
    Certificate.objects.filter(pk=certificate.pk).update(not_after=now + dt.timedelta(days=29, hours=12))
    assert services.certificates_remind_expiring(now=now) == 1
    assert services.certificates_remind_expiring(now=now) == 0  # not twice
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "certificate_expiring" and "۳۰ روز" in sms.body and "/panel/" in sms.body
    assert services.certificates_remind_expiring(now=now + dt.timedelta(days=20)) == 0
    assert services.certificates_remind_expiring(now=now + dt.timedelta(days=23)) == 1
    assert "۷ روز" in last_sms(applicant_person.mobile).body
    assert OutboxMessage.objects.filter(template="certificate_expiring").count() == 2


def test_a_late_first_run_sends_one_reminder_not_two(certificate):
    now = timezone.now()
    Certificate.objects.filter(pk=certificate.pk).update(not_after=now + dt.timedelta(days=5))
    assert services.certificates_remind_expiring(now=now) == 1
    assert Certificate.objects.get(pk=certificate.pk).reminders_sent == [7, 30]
    assert services.certificates_remind_expiring(now=now) == 0


def test_expiry_beat_task_and_command(applicant_person, certificate):
    from io import StringIO

    from django.core.management import call_command

    from ramis.requests.tasks import certificates_expiry

    Certificate.objects.filter(pk=certificate.pk).update(not_after=timezone.now() - dt.timedelta(minutes=1))
    assert certificates_expiry.delay().get() == {"expired": 1, "reminded": 0}
    assert Certificate.objects.get(pk=certificate.pk).status == "expired"
    assert last_sms(applicant_person.mobile).template == "certificate_expired"
    out = StringIO()
    call_command("certificates_expiry", stdout=out)
    assert "0 certificate(s) expired" in out.getvalue()


def test_immediate_revocation_is_visible_in_ocsp_and_crl(applicant_client, certificate, client,
                                                         django_capture_on_commit_callbacks):
    """R19: the applicant reports a lost token; the CA's OCSP responder and CRL say revoked at once."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    from ramis.ca.models import CertificateAuthority, IssuedCertificate

    issued = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    issuer = CertificateAuthority.objects.get(slug="issuing")
    leaf = x509.load_der_x509_certificate(bytes(issued.der))
    ca_cert = x509.load_der_x509_certificate(bytes(issuer.certificate_der))
    query = ocsp.OCSPRequestBuilder().add_certificate(leaf, ca_cert, hashes.SHA1()).build()  # noqa: S303

    def ask():
        body = query.public_bytes(serialization.Encoding.DER)
        raw = client.post("/ca/ocsp/issuing/", body, content_type="application/ocsp-request").content
        return ocsp.load_der_ocsp_response(raw)

    assert ask().certificate_status == ocsp.OCSPCertStatus.GOOD
    with django_capture_on_commit_callbacks(execute=True):
        applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                              {"reason": "token_lost", "note": "گم شد", "confirm": "on"})
    answer = ask()
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    crl = x509.load_der_x509_crl(client.get("/ca/crl/issuing.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None


def test_ending_a_role_closes_its_open_requests(applicant_person, office, clerk, seo_reviewer, catalogue):
    """R2/R19: a role that ended stops every request made for it, wherever it stands."""
    submitted = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    draft = make_draft(applicant_person, office, catalogue=catalogue)
    services.role_end_with_revocation(role_id=submitted.role_id, actor=seo_reviewer, reason="پایان همکاری")
    for req in (submitted, draft):
        req = CertificateRequest.objects.get(pk=req.pk)
        assert req.status == "cancelled"
        assert AuditEntry.objects.filter(event="request.withdrawn", target_id=str(req.pk)).exists()
    assert last_sms(applicant_person.mobile).template == "request_withdrawn"


def test_a_request_of_an_ended_role_cannot_move_on(applicant_person, office, clerk, seo_reviewer, catalogue):
    from ramis.registry import services as registry_services

    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    registry_services.role_end(role_id=req.role_id, actor=seo_reviewer, reason="x")  # ended outside the desk
    with pytest.raises(InvalidTransition):
        services.request_approve(request_id=req.pk, actor=clerk)
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"
    assert "دیگر تأییدشده نیست" in " ".join(selectors.missing_items(req))


def test_revocation_reject_refused_to_other_office_and_applicant(applicant_person, certificate, clerk,
                                                                 other_office_clerk):
    outcome = services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                          reason="unspecified")
    for outsider in (other_office_clerk, applicant_person.user):
        with pytest.raises(PermissionDenied):
            services.revocation_reject(revocation_id=outcome.revocation.pk, actor=outsider, reason="نه")
    assert RevocationRequest.objects.get().status == "submitted"
    assert not AuditEntry.objects.filter(event__startswith="revocation.rejected").exists()


def test_revocation_already_done_at_the_ca_is_reported(applicant_person, certificate, office, clerk, catalogue):
    from ramis.ca import services as ca_services
    from ramis.ca.models import IssuedCertificate

    # a revocation at the CA reaches this record at once (tests/requests/test_ca_operator.py) ...
    ca_services.certificate_revoke(serial=certificate.serial, reason="key_compromise", actor=None)
    with pytest.raises(InvalidTransition):
        services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user, reason="token_lost")
    # ... a CA record revoked before this room followed the CA (an older row) is reported as such
    older = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)
    IssuedCertificate.objects.filter(serial_hex=older.serial).update(status="revoked")
    services.revocation_request(certificate_id=older.pk, actor=applicant_person.user, reason="token_lost")
    assert Certificate.objects.get(pk=older.pk).status == "revoked"
    entry = AuditEntry.objects.for_object(older).get(event="certificate.revoked")
    assert entry.extra["ca"] == "already_revoked"


@pytest.mark.parametrize("ca_state", ["unknown_serial", "expired_at_ca"])
def test_certificate_stays_active_when_the_ca_does_not_revoke(applicant_client, applicant_person, certificate,
                                                              ca_state):
    from ramis.ca import services as ca_services
    from ramis.ca.models import IssuedCertificate

    if ca_state == "unknown_serial":  # the CA has no record of this serial
        IssuedCertificate.objects.filter(serial_hex=certificate.serial).update(serial_hex="00ff")
    else:  # the CA's record ran out before ours
        ca_services.certificates_expire_due(now=timezone.now() + dt.timedelta(days=3650))
    response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                     {"reason": "token_lost", "note": "گم شد", "confirm": "on"}, follow=True)
    assert "ابطال" in response.content.decode() and "مرجع صدور گواهی" in response.content.decode()
    with pytest.raises(services.CARevocationFailed):
        services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user, reason="token_lost")
    assert Certificate.objects.get(pk=certificate.pk).status == "active"
    assert not RevocationRequest.objects.exists()
    assert not AuditEntry.objects.for_object(certificate).filter(event="certificate.revoked").exists()
    assert not AuditEntry.objects.filter(event="revocation.requested").exists()
    assert not OutboxMessage.objects.filter(template="certificate_revoked").exists()


# --- a superseded certificate is still valid until it expires: it can be revoked (R19) -----------------


def _renew_onto_a_new_token(applicant_person, certificate, clerk, catalogue):
    """Renew with a bought token: the old certificate, on the old token, becomes superseded."""
    from .conftest import pdf_upload

    user = applicant_person.user
    renewal = services.renewal_start(certificate_id=certificate.pk, actor=user)
    services.request_update(request_id=renewal.pk, actor=user, step="token",
                            data={"token_choice": "buy", "token_model": catalogue["token"]})
    for requirement in services.DocumentRequirement.objects.for_request(renewal).filter(required=True):
        services.document_upload(request_id=renewal.pk, requirement_id=requirement.pk, upload=pdf_upload(),
                                 actor=user)
    renewal = advance(CertificateRequest.objects.get(pk=renewal.pk), "awaiting_issuance", clerk=clerk)
    issued = issue_test_certificate(renewal.cert_type)
    new = services.request_mark_issued(request_id=renewal.pk, actor=clerk, serial=issued.serial_hex,
                                       not_before=issued.not_before, not_after=issued.not_after,
                                       token_serial="NEW-TOKEN-0001")
    assert Certificate.objects.get(pk=certificate.pk).status == "superseded"
    return new


def _ocsp_status(client, serial: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    from ramis.ca import responder
    from ramis.ca.models import CertificateAuthority, IssuedCertificate

    responder.clear_cache()
    issued = IssuedCertificate.objects.get(serial_hex=serial)
    issuer = CertificateAuthority.objects.get(slug="issuing")
    query = ocsp.OCSPRequestBuilder().add_certificate(
        x509.load_der_x509_certificate(bytes(issued.der)), x509.load_der_x509_certificate(bytes(issuer.certificate_der)),
        hashes.SHA1()).build()  # noqa: S303
    raw = client.post("/ca/ocsp/issuing/", query.public_bytes(serialization.Encoding.DER),
                      content_type="application/ocsp-request").content
    return ocsp.load_der_ocsp_response(raw)


def test_holder_revokes_a_superseded_certificate_whose_old_token_is_lost(
        applicant_client, applicant_person, certificate, clerk, catalogue, client,
        django_capture_on_commit_callbacks):
    from cryptography import x509
    from cryptography.x509 import ocsp

    from ramis.ca.models import IssuedCertificate

    new = _renew_onto_a_new_token(applicant_person, certificate, clerk, catalogue)
    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).status == "superseded"
    assert _ocsp_status(client, certificate.serial).certificate_status == ocsp.OCSPCertStatus.GOOD
    # the panel offers Revoke for the superseded (unexpired) certificate, Renew only for the new one
    page = applicant_client.get(reverse("requests:panel")).content.decode()
    assert reverse("requests:revoke", args=[certificate.pk]) in page
    assert reverse("requests:renew", args=[certificate.pk]) not in page
    assert reverse("requests:renew", args=[new.pk]) in page
    assert applicant_client.get(reverse("requests:revoke", args=[certificate.pk])).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                         {"reason": "key_compromise", "note": "توکن قبلی گم شد", "confirm": "on"})
    assert response["Location"] == reverse("requests:panel")
    old = Certificate.objects.get(pk=certificate.pk)
    assert old.status == "revoked" and old.revocation_reason == "key_compromise"
    assert Certificate.objects.get(pk=new.pk).status == "active"
    ca_row = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    assert (ca_row.status, ca_row.revocation_reason) == ("revoked", "key_compromise")
    entry = AuditEntry.objects.for_object(old).get(event="certificate.revoked")
    assert (entry.old, entry.new) == ("superseded", "revoked")
    assert AuditEntry.objects.filter(event="certificate.revoked", target_type="ca.issuedcertificate",
                                     old="superseded", new="revoked").exists()
    answer = _ocsp_status(client, certificate.serial)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    assert _ocsp_status(client, new.serial).certificate_status == ocsp.OCSPCertStatus.GOOD
    crl = x509.load_der_x509_crl(client.get("/ca/crl/issuing.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(int(certificate.serial, 16)) is not None
    assert crl.get_revoked_certificate_by_serial_number(int(new.serial, 16)) is None


def test_an_expired_superseded_certificate_is_not_revocable(applicant_client, applicant_person, certificate, clerk,
                                                            catalogue):
    from ramis.ca import services as ca_services
    from ramis.ca.models import IssuedCertificate

    _renew_onto_a_new_token(applicant_person, certificate, clerk, catalogue)
    past = timezone.now() - dt.timedelta(minutes=1)
    Certificate.objects.filter(pk=certificate.pk).update(not_after=past)
    IssuedCertificate.objects.filter(serial_hex=certificate.serial).update(not_after=past)
    assert reverse("requests:revoke", args=[certificate.pk]) not in \
        applicant_client.get(reverse("requests:panel")).content.decode()
    response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                     {"reason": "key_compromise", "confirm": "on"})
    assert response["Location"] == reverse("requests:panel")
    with pytest.raises(InvalidTransition):
        services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                    reason="key_compromise")
    with pytest.raises(InvalidTransition):
        ca_services.certificate_revoke(serial=certificate.serial, reason="key_compromise", actor=None)
    assert Certificate.objects.get(pk=certificate.pk).status == "superseded"
    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).status == "superseded"


def test_the_office_and_a_role_end_revoke_superseded_certificates(applicant_person, certificate, clerk, catalogue,
                                                                  seo_reviewer):
    from ramis.desk import services as desk_services

    new = _renew_onto_a_new_token(applicant_person, certificate, clerk, catalogue)
    from .conftest import pdf_upload

    desk_services.certificate_revoke_by_office(certificate_id=certificate.pk, actor=clerk, reason="token_lost",
                                               form_upload=pdf_upload("form.pdf"))
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"
    # a second renewal's superseded certificate goes with the role
    newer = _renew_onto_a_new_token(applicant_person, new, clerk, catalogue)
    revoked = services.role_end_with_revocation(role_id=certificate.role_id, actor=seo_reviewer, reason="پایان سمت")
    assert sorted(c.pk for c in revoked) == sorted([new.pk, newer.pk])
    assert Certificate.objects.get(pk=new.pk).status == "revoked"


def test_the_office_page_offers_revocation_of_a_superseded_certificate(client, applicant_person, certificate, clerk,
                                                                       catalogue):
    from tests.conftest import login_staff

    _renew_onto_a_new_token(applicant_person, certificate, clerk, catalogue)
    login_staff(client, clerk)
    page = client.get(reverse("desk:certificate", args=[certificate.pk])).content.decode()
    assert 'id="revoke"' in page


def test_certificate_issued_finds_the_ca_record(certificate):
    from ramis.ca.models import IssuedCertificate

    assert certificate.issued() == IssuedCertificate.objects.get(serial_hex=certificate.serial)


# --- a holder's revocation request waiting for the office is overtaken (R19) --------------------------


def _pending_revocation(applicant_person, certificate) -> RevocationRequest:
    outcome = services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                          reason="affiliation_changed", note="از شرکت رفتم")
    assert outcome.revocation.status == "submitted"
    return outcome.revocation


def test_a_lost_token_revokes_at_once_despite_a_waiting_request(applicant_client, applicant_person, certificate):
    waiting = _pending_revocation(applicant_person, certificate)
    panel = applicant_client.get(reverse("requests:panel")).content.decode()
    assert "درخواست ابطال در انتظار تأیید دفتر" in panel
    assert reverse("requests:revoke", args=[certificate.pk]) in panel and "ابطال فوری" in panel
    page = applicant_client.get(reverse("requests:revoke", args=[certificate.pk])).content.decode()
    assert 'value="token_lost"' in page and 'value="unspecified"' not in page
    with pytest.raises(services.DomainError, match="فقط ابطال فوری"):
        services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user, reason="unspecified")
    response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                     {"reason": "token_lost", "note": "توکن گم شد", "confirm": "on"})
    assert response["Location"] == reverse("requests:panel")
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and waiting.decided_at
    urgent = RevocationRequest.objects.exclude(pk=waiting.pk).get()
    assert (urgent.status, urgent.reason) == ("confirmed", "token_lost")
    entry = AuditEntry.objects.for_object(waiting).get(event="revocation.cancelled")
    assert (entry.old, entry.new, entry.actor_id) == ("submitted", "cancelled", applicant_person.user.pk)


def _revoke_by_office(certificate, **people):
    services.certificate_revoke(certificate_id=certificate.pk, actor=people["clerk"], reason="privilege_withdrawn")


def _end_role(certificate, **people):
    services.role_end_with_revocation(role_id=certificate.role_id, actor=people["seo_reviewer"], reason="پایان سمت")


def _revoke_at_ca(certificate, **people):
    from django.core.management import call_command

    call_command("ca", "revoke", "--serial", certificate.serial, "--reason", "privilege_withdrawn")


def _expire(certificate, **people):
    assert services.certificates_expire(now=certificate.not_after) == 1


@pytest.mark.parametrize("overtake, status", [(_revoke_by_office, "revoked"), (_end_role, "revoked"),
                                              (_revoke_at_ca, "revoked"), (_expire, "expired")])
def test_a_waiting_request_is_cancelled_when_the_certificate_goes_another_way(
        client, applicant_person, certificate, clerk, seo_reviewer, overtake, status):
    from tests.conftest import login_staff

    waiting = _pending_revocation(applicant_person, certificate)
    overtake(certificate, clerk=clerk, seo_reviewer=seo_reviewer)
    assert Certificate.objects.get(pk=certificate.pk).status == status
    assert RevocationRequest.objects.get(pk=waiting.pk).status == "cancelled"
    entry = AuditEntry.objects.for_object(waiting).get(event="revocation.cancelled")
    assert (entry.old, entry.new) == ("submitted", "cancelled")
    sms = OutboxMessage.objects.get(template="revocation_cancelled", to=applicant_person.mobile)
    assert certificate.serial in sms.body and "لغو" in sms.body
    login_staff(client, clerk)
    assert certificate.serial not in client.get(reverse("desk:revocations")).content.decode()


def test_confirming_a_request_whose_certificate_is_gone_says_why(client, applicant_person, certificate, clerk):
    from tests.conftest import login_staff

    waiting = _pending_revocation(applicant_person, certificate)
    Certificate.objects.filter(pk=certificate.pk).update(status="revoked")  # an older row, before the cancel
    with pytest.raises(InvalidTransition) as refused:
        services.revocation_confirm(revocation_id=waiting.pk, actor=clerk)
    assert "دیگر قابل ابطال نیست" in refused.value.message and "ابطال‌شده" in refused.value.message
    login_staff(client, clerk)
    response = client.post(reverse("desk:revocation_confirm", args=[waiting.pk]), follow=True)
    assert response.status_code == 200 and "دیگر قابل ابطال نیست" in response.content.decode()
    assert RevocationRequest.objects.get(pk=waiting.pk).status == "submitted"


@pytest.mark.parametrize("status, days_left, revocable", [
    ("active", 100, True), ("on_hold", 100, True), ("superseded", 100, True), ("superseded", -1, False),
    ("revoked", 100, False), ("expired", -1, False),
])
def test_revocable_is_the_revoke_transitions_states_and_condition(status, days_left, revocable):
    certificate = Certificate(status=status, not_after=timezone.now() + dt.timedelta(days=days_left))
    assert certificate.revocable is revocable
