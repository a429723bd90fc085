"""Every clerk action refused (issue 5: "every clerk action and its refusal for a clerk of another
office and for an applicant"), with the data a real clerk would post, and nothing changed
afterwards: the request, its certificate at both ends, the rows each action would add, the audit
trail (not one row), the applicant's token.

Through the views: a clerk of another office gets 404, the applicant (logged in, the request's
own) is sent to the staff login. Through the services: both raise ``PermissionDenied``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from ramis.ca.models import IssuedCertificate
from ramis.common.jalali import jalali_date
from ramis.common.models import AuditEntry
from ramis.desk import services
from ramis.desk.models import Handover, IdentityCheck, IssuanceAttempt, OfficeRevocation
from ramis.requests import services as request_services
from ramis.requests.models import Appointment, Certificate, CertificateRequest, Invoice, Refund, ReturnNote
from tests.requests.conftest import PDF_BYTES, advance, make_draft, pdf_upload
from tokens.conf import get_manager

from .conftest import TOKEN_PIN, attorney_ok, identity_ok


def _request_in(name, fixture):
    """The request (and what belongs to it) that the action ``name`` acts on."""
    person, office, clerk, catalogue = (fixture(n) for n in ("applicant_person", "office", "clerk", "catalogue"))
    if name in ("approve", "return", "reject", "document", "document_preview"):
        return advance(make_draft(person, office, catalogue=catalogue), "submitted"), None
    if name == "visit":
        return advance(make_draft(person, office, service_type="on_site", catalogue=catalogue), "paid",
                       clerk=clerk), None
    if name in ("identity", "issue", "cancel", "power_of_attorney"):
        req = fixture("awaiting_issuance")
        if name == "issue":
            identity_ok(req, clerk)
        if name == "power_of_attorney":  # with its scan: without one the view 404s for everyone
            assert attorney_ok(req, clerk).power_file
        return req, None
    certificate = advance(make_draft(person, office, catalogue=catalogue), "issued", clerk=clerk)
    if name == "revocation_form":  # the office revoked it with the holder's signed form
        services.certificate_revoke_by_office(certificate_id=certificate.pk, actor=clerk, reason="affiliation_changed",
                                              form_upload=pdf_upload("form.pdf"))
    return certificate.request, certificate


def _snapshot(req, certificate, token_serial):
    req = CertificateRequest.objects.get(pk=req.pk)
    token = get_manager().open(serial=token_serial, pin=TOKEN_PIN)
    objects = token.objects()
    token.logout()
    return {
        "status": req.status, "audit": AuditEntry.objects.count(),
        "identity_checks": IdentityCheck.objects.count(), "attempts": IssuanceAttempt.objects.count(),
        "appointments": list(Appointment.objects.filter(request=req).values_list("pk", "is_active")),
        "return_notes": ReturnNote.objects.count(), "invoices": Invoice.objects.count(),
        "office_revocations": OfficeRevocation.objects.count(), "refunds": Refund.objects.count(),
        "handovers": Handover.objects.count(),
        "token_objects": objects,
        "certificate": certificate and Certificate.objects.get(pk=certificate.pk).status,
        "at_the_ca": certificate and IssuedCertificate.objects.get(serial_hex=certificate.serial).status,
    }


def _post(name, req, certificate, clerk, token_serial):
    """(method, url, data) of the action as the request's own clerk would send it."""
    if name == "approve":
        return "post", reverse("desk:approve", args=[req.pk]), {}
    if name == "return":
        return "post", reverse("desk:return", args=[req.pk]), {"note_details": "نام لاتین را اصلاح کنید"}
    if name == "reject":
        return "post", reverse("desk:reject", args=[req.pk]), {"reason": "معرفی‌نامه معتبر نیست"}
    if name == "visit":
        return "post", reverse("desk:visit", args=[req.pk]), {
            "date": jalali_date(timezone.now() + dt.timedelta(days=3)), "time": "10:30", "address": "تهران",
            "assigned_to": clerk.pk}
    if name == "identity":
        return "post", reverse("desk:identity", args=[req.pk]), {
            "national_card_seen": "on", "second_document": "passport", "photo_matches": "on", "presenter": "owner"}
    if name == "issue":
        return "post", reverse("desk:issue", args=[req.pk]), {"token": token_serial, "pin": TOKEN_PIN}
    if name == "cancel":
        return "post", reverse("desk:cancel", args=[req.pk]), {"reason": "متقاضی انصراف داد", "confirm": "on"}
    if name == "handover":
        return "get", reverse("desk:handover", args=[req.pk]), {}
    if name == "handover_record":
        return "post", reverse("desk:handover_record", args=[req.pk]), {
            "sheet": SimpleUploadedFile("sheet.pdf", PDF_BYTES, content_type="application/pdf")}
    if name == "power_of_attorney":
        return "get", reverse("desk:power_of_attorney", args=[IdentityCheck.objects.get(request=req).pk]), {}
    if name == "revocation_form":
        return "get", reverse("desk:revocation_form", args=[OfficeRevocation.objects.get(certificate=certificate).pk]), {}
    if name == "revoke":
        return "post", reverse("desk:certificate", args=[certificate.pk]), {
            "reason": "affiliation_changed", "confirm": "on", "note": "پایان همکاری",
            "form_file": SimpleUploadedFile("form.pdf", PDF_BYTES, content_type="application/pdf")}
    doc = req.documents.first()
    return "get", reverse(f"desk:{name}", args=[doc.pk]), {}


ACTIONS = ["approve", "return", "reject", "visit", "identity", "issue", "cancel", "handover", "revoke", "document",
           "document_preview", "power_of_attorney", "revocation_form", "handover_record"]


@pytest.mark.parametrize("who", ["other_office_clerk", "applicant"])
@pytest.mark.parametrize("name", ACTIONS)
def test_clerk_actions_refused_through_the_views(name, who, request, clerk, applicant_token, ca):
    req, certificate = _request_in(name, request.getfixturevalue)
    method, url, data = _post(name, req, certificate, clerk, applicant_token.serial)
    client = request.getfixturevalue("other_clerk_client" if who == "other_office_clerk" else "applicant_client")
    before = _snapshot(req, certificate, applicant_token.serial)

    response = getattr(client, method)(url, data)

    if who == "other_office_clerk":
        assert response.status_code == 404
    else:
        assert response.status_code == 302 and response["Location"].startswith(reverse("certauth:staff_login"))
    assert _snapshot(req, certificate, applicant_token.serial) == before


def _call(name, req, certificate, actor, clerk, token_serial):
    if name == "approve":
        request_services.request_approve(request_id=req.pk, actor=actor)
    elif name == "return":
        request_services.request_return(request_id=req.pk, actor=actor, notes={"details": "اصلاح کنید"})
    elif name == "reject":
        request_services.request_reject(request_id=req.pk, actor=actor, reason="معتبر نیست")
    elif name == "visit":
        request_services.visit_schedule(request_id=req.pk, actor=actor, address="تهران", assigned_to=clerk,
                                        starts_at=timezone.now() + dt.timedelta(days=3))
    elif name == "identity":
        facts = services.IdentityFacts(national_card_seen=True, second_document="passport", photo_matches=True,
                                       presenter="owner")
        services.identity_check_record(request_id=req.pk, actor=actor, facts=facts)
    elif name == "issue":
        services.request_issue_on_token(request_id=req.pk, actor=actor, pin=TOKEN_PIN, token_serial=token_serial)
    elif name == "handover_record":
        services.handover_record(request_id=req.pk, actor=actor, sheet=pdf_upload("sheet.pdf"))
    elif name == "revoke":
        services.certificate_revoke_by_office(certificate_id=certificate.pk, actor=actor, reason="affiliation_changed",
                                              form_upload=pdf_upload("form.pdf"))


@pytest.mark.parametrize("who", ["other_office_clerk", "applicant"])
@pytest.mark.parametrize("name", ["approve", "return", "reject", "visit", "identity", "issue", "revoke",
                                  "handover_record"])
def test_clerk_services_refuse_a_foreign_clerk_and_the_applicant(name, who, request, clerk, applicant_token, ca):
    req, certificate = _request_in(name, request.getfixturevalue)
    actor = request.getfixturevalue(who) if who == "other_office_clerk" else req.applicant.user
    before = _snapshot(req, certificate, applicant_token.serial)

    with pytest.raises(PermissionDenied):
        _call(name, req, certificate, actor, clerk, applicant_token.serial)

    after = _snapshot(req, certificate, applicant_token.serial)
    if name == "issue":  # a refused issuance is audited, and that is the only change (issue 5)
        refused = AuditEntry.objects.for_object(req).get(event="issuance.refused")
        assert refused.extra["code"] == "permission" and refused.actor_id == actor.pk
        after["audit"] -= 1
    assert after == before
