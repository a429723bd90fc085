"""The SEO reviewer's admin (OTP-protected): the catalogue pages, requests and certificates
read-only with their audit trail, and FSM transitions as buttons only where the reviewer has
that permission — each button calling the same service as the staff views."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ramis.common.models import AuditEntry
from ramis.registry.models import Role
from ramis.requests.models import Certificate, CertificateRequest, RevocationRequest
from tests.conftest import login_staff, make_person, make_role, make_staff
from tests.requests.conftest import PDF_BYTES, advance, make_draft, pdf_upload


@pytest.fixture
def certificate(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)
    return req if isinstance(req, Certificate) else Certificate.objects.get(request=req)


def _change(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _transition(obj, name):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_transition", args=[obj.pk, name])


def test_admin_needs_a_verified_otp_device(reviewer):
    c = Client()
    c.force_login(reviewer, backend="django.contrib.auth.backends.ModelBackend")
    response = c.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_reviewer_manages_the_catalogue(reviewer_client, office):
    for model in ("offices/registrationoffice", "offices/clerk", "offices/tariff", "offices/tokenmodel",
                  "offices/holiday", "certrequests/documentrequirement", "registry/role", "desk/identitycheck",
                  "desk/issuanceattempt", "certrequests/certificaterequest", "certrequests/certificate"):
        assert reviewer_client.get(f"/admin/{model}/").status_code == 200, model
    assert reviewer_client.get("/admin/offices/holiday/add/").status_code == 200
    assert reviewer_client.get(_change(office)).status_code == 200


def test_requests_are_read_only_with_their_audit_trail_and_no_clerk_buttons(reviewer_client, applicant_person,
                                                                            office, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    html = reviewer_client.get(_change(req)).content.decode()
    assert "رد ممیزی" in html and "request.submitted" in html and "request.created" in html
    assert 'name="_save"' not in html  # read-only
    assert 'id="transition-buttons"' not in html  # approving is the office's, not the reviewer's
    assert reviewer_client.post(_transition(req, "approve")).status_code == 403
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"


def test_certificate_revoke_button_calls_the_service(reviewer_client, reviewer, certificate,
                                                    django_capture_on_commit_callbacks):
    html = reviewer_client.get(_change(certificate)).content.decode()
    assert _transition(certificate, "revoke") in html and "certificate.issued" in html
    assert reviewer_client.get(_transition(certificate, "revoke")).status_code == 200  # asks for the reason
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_client.post(_transition(certificate, "revoke"),
                                        {"reason": "privilege_withdrawn", "note": "سلب اختیار امضا"})
    assert response.status_code == 302
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"
    entry = AuditEntry.objects.get(event="certificate.revoked", target_type="certrequests.certificate")
    assert entry.actor_id == reviewer.pk and entry.extra["reason"] == "privilege_withdrawn"
    from ramis.ca.models import IssuedCertificate

    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).status == "revoked"
    # no second button on a revoked certificate
    assert _transition(certificate, "revoke") not in reviewer_client.get(_change(certificate)).content.decode()


def test_no_button_without_the_permission(certificate):
    viewer = make_staff("viewer", perms=["certrequests.view_certificate"])
    c = login_staff(Client(), viewer)
    html = c.get(_change(certificate)).content.decode()
    assert _transition(certificate, "revoke") not in html
    assert c.post(_transition(certificate, "revoke"), {"reason": "unspecified"}).status_code == 403
    assert Certificate.objects.get(pk=certificate.pk).status == "active"


def test_revocation_request_buttons(reviewer_client, certificate, applicant_person,
                                    django_capture_on_commit_callbacks):
    from ramis.requests import services

    outcome = services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                          reason="affiliation_changed")
    revocation = outcome.revocation
    html = reviewer_client.get(_change(revocation)).content.decode()
    assert _transition(revocation, "confirm") in html and _transition(revocation, "reject") in html
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(_transition(revocation, "confirm"))
    assert RevocationRequest.objects.get(pk=revocation.pk).status == "confirmed"
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"


def test_role_buttons_approve_and_end_with_revocation(reviewer_client, company, certificate,
                                                      django_capture_on_commit_callbacks):
    pending = make_role(make_person("0013542419", "09351112233"), company, status="pending")
    html = reviewer_client.get(_change(pending)).content.decode()
    assert _transition(pending, "approve") in html and _transition(pending, "end") not in html
    reviewer_client.post(_transition(pending, "approve"))
    assert Role.objects.get(pk=pending.pk).status == "approved"

    role = certificate.role
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(_transition(role, "end"), {"reason": "پایان همکاری با شرکت"})
    assert Role.objects.get(pk=role.pk).status == "ended"
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"


def test_reviewer_group_command_adds_users_and_fails_clearly(db):
    from django.core.management.base import CommandError

    user = make_staff("seo2")
    call_command("reviewer_group", "seo2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert user.groups.filter(name="SEO reviewers").exists()
    with pytest.raises(CommandError):
        call_command("reviewer_group", "nobody", stdout=open("/dev/null", "w"))  # noqa: SIM115


# --- the office's uploads, opened from the admin (X8) ---------------------------------------------------


@pytest.fixture
def office_uploads(certificate, clerk, applicant_person, office, catalogue):
    """An attorney's identity check with its power-of-attorney scan, and an office revocation with
    the holder's signed form: (check, revocation)."""
    from ramis.desk import services

    from .conftest import attorney_ok

    pending = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    check = attorney_ok(pending, clerk)
    revocation = services.certificate_revoke_by_office(certificate_id=certificate.pk, actor=clerk,
                                                       reason="affiliation_changed", form_upload=pdf_upload("form.pdf"))
    return check, revocation


def _files(check, revocation):
    return [reverse("desk:power_of_attorney", args=[check.pk]), reverse("desk:revocation_form", args=[revocation.pk])]


def test_reviewer_opens_the_offices_uploads_from_the_admin(reviewer_client, office_uploads):
    check, revocation = office_uploads
    for obj, url in zip(office_uploads, _files(*office_uploads), strict=True):
        html = reviewer_client.get(_change(obj)).content.decode()
        assert f'href="{url}"' in html, obj  # the link is the permission-checked view, not a storage URL
        assert (obj.power_file if obj is check else obj.form_file).name not in html  # nor the storage path
        response = reviewer_client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Cache-Control"] == "private, no-store"


def test_the_offices_uploads_for_its_clerks_only(office_uploads, clerk_client, other_clerk_client, applicant_client):
    without_view = login_staff(Client(), make_staff("viewer", perms=["desk.view_issuanceattempt"]))
    for url in _files(*office_uploads):
        assert clerk_client.get(url).status_code == 200, url
        assert other_clerk_client.get(url).status_code == 404, url
        assert without_view.get(url).status_code == 404, url  # staff, but no view permission on the record
        response = applicant_client.get(url)  # the applicant's own request: refused all the same
        assert response.status_code == 302 and response["Location"].startswith(reverse("certauth:staff_login")), url


def test_a_reviewer_needs_the_view_permission_of_that_record(office_uploads):
    check, revocation = office_uploads
    sees_checks = login_staff(Client(), make_staff("checks", perms=["desk.view_identitycheck"]))
    power, form = _files(check, revocation)
    assert sees_checks.get(power).status_code == 200
    assert sees_checks.get(form).status_code == 404
