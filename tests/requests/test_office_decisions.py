"""The office's transitions as services (R10, R11, R21); the staff pages come with the next issue."""

import pytest
from django.core.exceptions import PermissionDenied

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.offices.models import Tariff
from ramis.requests import services
from ramis.requests.models import CertificateRequest, Invoice
from tests.conftest import last_sms

from .conftest import advance, make_draft


def test_approve_issues_an_invoice_split_between_payees(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, service_type="on_site", catalogue=catalogue), "submitted")
    services.request_approve(request_id=req.pk, actor=clerk)
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "awaiting_payment"
    invoice = Invoice.objects.get(request=req)
    lines = [(line.payee, line.amount_rials) for line in invoice.lines.all()]
    assert lines == [("treasury", 1_500_000), ("office", 500_000), ("office", 4_500_000), ("office", 2_000_000)]
    assert invoice.total_rials == 8_500_000
    entry = AuditEntry.objects.get(event="request.approved")
    assert (entry.old, entry.new, entry.actor_id, entry.extra["total"]) == ("submitted", "awaiting_payment",
                                                                              clerk.pk, 8_500_000)
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "request_approved" and "۸٬۵۰۰٬۰۰۰" in sms.body


def test_reused_token_and_one_year_are_priced_by_tariff(applicant_person, office, clerk, catalogue):
    from ramis.requests.models import CertificateRequest as CR

    req = make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue)
    services.request_update(request_id=req.pk, actor=applicant_person.user, step="details",
                            data={"validity_years": 1})
    req = advance(CR.objects.get(pk=req.pk), "awaiting_payment", clerk=clerk)
    assert req.invoice.total_rials == 1_200_000


def test_latest_tariff_in_force_applies(applicant_person, office, clerk, catalogue):
    import datetime as dt

    Tariff.objects.create(item="signature", validity_years=2, treasury_rials=1_700_000, office_rials=600_000,
                          valid_from=dt.date(2024, 3, 20))
    Tariff.objects.create(item="signature", validity_years=2, treasury_rials=9, office_rials=9,
                          valid_from=dt.date(2999, 1, 1))
    req = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue), "awaiting_payment",
                  clerk=clerk)
    assert req.invoice.total_rials == 2_300_000


def test_missing_tariff_refuses_approval_and_changes_nothing(applicant_person, office, clerk, catalogue):
    Tariff.objects.filter(item="signature").delete()
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    with pytest.raises(services.DomainError):
        services.request_approve(request_id=req.pk, actor=clerk)
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"
    assert not Invoice.objects.exists()


def test_only_a_clerk_of_the_requests_office_decides(applicant_person, office, clerk, other_office_clerk,
                                                    seo_reviewer, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    for actor in (other_office_clerk, seo_reviewer, applicant_person.user):
        with pytest.raises(PermissionDenied):
            services.request_approve(request_id=req.pk, actor=actor)
        with pytest.raises(PermissionDenied):
            services.request_reject(request_id=req.pk, actor=actor, reason="x")
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"
    assert not AuditEntry.objects.filter(event="request.approved").exists()


def test_approve_in_wrong_state(applicant_person, office, clerk, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    with pytest.raises(InvalidTransition):
        services.request_approve(request_id=req.pk, actor=clerk)


def test_reject_needs_a_reason_and_notifies(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    with pytest.raises(services.DomainError):
        services.request_reject(request_id=req.pk, actor=clerk, reason=" ")
    services.request_reject(request_id=req.pk, actor=clerk, reason="معرفی‌نامه معتبر نیست.")
    assert CertificateRequest.objects.get(pk=req.pk).status == "rejected"
    assert "معرفی‌نامه معتبر نیست." in last_sms(applicant_person.mobile).body
    assert AuditEntry.objects.get(event="request.rejected").reason == "معرفی‌نامه معتبر نیست."


def test_return_needs_at_least_one_note(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    with pytest.raises(services.DomainError):
        services.request_return(request_id=req.pk, actor=clerk, notes={"details": "  "})


def test_audit_chain_verifies_after_a_whole_journey(applicant_person, office, clerk, catalogue):
    from ramis.common.audit import verify_chain

    advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)
    count, problems = verify_chain()
    assert count >= 8 and problems == []


def test_return_writes_its_audit_row_and_sms(applicant_person, office, clerk, other_office_clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    with pytest.raises(PermissionDenied):
        services.request_return(request_id=req.pk, actor=other_office_clerk, notes={"details": "نام لاتین"})
    with pytest.raises(PermissionDenied):
        services.request_return(request_id=req.pk, actor=applicant_person.user, notes={"details": "x"})
    services.request_return(request_id=req.pk, actor=clerk, notes={"details": "نام لاتین را با گذرنامه یکی کنید"})
    entry = AuditEntry.objects.get(event="request.returned")
    assert (entry.old, entry.new, entry.actor_id) == ("submitted", "returned", clerk.pk)
    assert last_sms(applicant_person.mobile).template == "request_returned"
    with pytest.raises(InvalidTransition):  # not twice
        services.request_return(request_id=req.pk, actor=clerk, notes={"details": "x"})
