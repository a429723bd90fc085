"""Cancel after payment (DESIGN: cancel from any state before issued): the appointment or visit is
given up and its slot freed, the paid invoice gets a refund of what was paid (split per payee), an
operator records the refund as paid in the admin; refused after issuance and to other people."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from ramis.requests import selectors, services
from ramis.requests.models import Appointment, CertificateRequest, Invoice, Payment, Refund
from tests.conftest import last_sms, login_staff, make_person, make_role, make_staff

from .conftest import advance, make_draft, user_of


def _paid_amount(req) -> int:
    return Payment.objects.get(invoice__request=req, status=Payment.Status.PAID).amount_rials


@pytest.mark.parametrize(("service_type", "stage", "status"), [
    ("in_person", "paid", "awaiting_appointment"),
    ("on_site", "paid", "awaiting_visit"),
    ("in_person", "awaiting_issuance", "awaiting_issuance"),
    ("on_site", "awaiting_issuance", "awaiting_issuance"),
])
def test_applicant_cancels_after_payment(applicant_client, applicant_person, office, clerk, catalogue,
                                         service_type, stage, status):
    req = advance(make_draft(applicant_person, office, service_type=service_type, catalogue=catalogue), stage,
                  clerk=clerk)
    assert req.status == status
    paid = _paid_amount(req)
    booked = list(req.appointments.active())
    assert len(booked) == (1 if stage == "awaiting_issuance" else 0)
    page = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert reverse("requests:cancel", args=[req.pk]) in page
    # the link opens a page that says what cancelling does; opening it changes nothing (issue 13)
    page = applicant_client.get(reverse("requests:cancel", args=[req.pk])).content.decode()
    assert "مبلغ پرداخت‌شده" in page and "بازگردانده می‌شود" in page and "بله، درخواست لغو شود" in page
    assert CertificateRequest.objects.get(pk=req.pk).status == status

    response = applicant_client.post(reverse("requests:cancel", args=[req.pk]), follow=True)
    assert "درخواست لغو شد" in response.content.decode()
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "cancelled"
    assert not req.appointments.active().exists()
    for appointment in Appointment.objects.filter(pk__in=[a.pk for a in booked]):
        assert not appointment.is_active and appointment.cancelled_at is not None
    refund = Refund.objects.get(request=req)
    invoice = Invoice.objects.get(pk=refund.invoice_id)
    assert refund.amount_rials == paid == invoice.total_rials
    assert refund.treasury_rials + refund.office_rials == paid
    assert refund.treasury_rials == sum(line.amount_rials for line in invoice.lines.filter(payee="treasury"))
    assert refund.status == "requested" and refund.payment.status == "paid" and invoice.status == "paid"
    entry = AuditEntry.objects.get(event="request.cancelled", target_id=str(req.pk))
    assert (entry.old, entry.new, entry.extra["refund_rials"]) == (status, "cancelled", paid)
    assert len(entry.extra["appointments_freed"]) == len(booked)
    assert AuditEntry.objects.filter(event="refund.requested", target_id=str(refund.pk)).count() == 1
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "request_cancelled" and "بازگردانده می‌شود" in sms.body
    page = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert 'id="refund"' in page and "در انتظار بازپرداخت" in page


def test_cancel_before_payment_voids_the_invoice_without_refund(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    services.request_cancel(request_id=req.pk, actor=applicant_person.user)
    assert Invoice.objects.get(request=req).status == "void" and not Refund.objects.exists()
    assert "بازگردانده" not in last_sms(applicant_person.mobile).body


def test_cancel_frees_the_booked_slot(applicant_person, office, clerk, catalogue, company):
    office.slot_capacity = 1
    office.save()
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    slot = req.appointments.active().get().starts_at

    def left() -> int:
        return dict(s for day in selectors.free_slots(office).values() for s in day)[slot]

    assert left() == 0
    second = make_person("0013542419", "09125550000", first_name="مریم", last_name="کریمی")
    make_role(second, company)
    other = advance(make_draft(second, office, catalogue=catalogue), "paid", clerk=clerk)
    with pytest.raises(services.SlotUnavailable):
        services.appointment_book(request_id=other.pk, actor=user_of(second), starts_at=slot)
    services.request_cancel(request_id=req.pk, actor=applicant_person.user)
    assert left() == 1
    services.appointment_book(request_id=other.pk, actor=user_of(second), starts_at=slot)
    assert CertificateRequest.objects.get(pk=other.pk).status == "awaiting_issuance" and left() == 0


def test_office_clerk_may_cancel_another_office_and_applicant_may_not(
        applicant_person, other_applicant_person, office, clerk, other_office_clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    for outsider in (other_office_clerk, user_of(other_applicant_person)):
        with pytest.raises(PermissionDenied):
            services.request_cancel(request_id=req.pk, actor=outsider)
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance" and not Refund.objects.exists()
    services.request_cancel(request_id=req.pk, actor=clerk, reason="متقاضی در دفتر انصراف داد.")
    assert CertificateRequest.objects.get(pk=req.pk).status == "cancelled"
    entry = AuditEntry.objects.get(event="request.cancelled", target_id=str(req.pk))
    assert entry.actor_id == clerk.pk and entry.reason == "متقاضی در دفتر انصراف داد."
    assert Refund.objects.get(request=req).amount_rials == _paid_amount(req)


def test_cancel_refused_after_issuance(applicant_client, applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk).request
    assert reverse("requests:cancel", args=[req.pk]) not in applicant_client.get(
        reverse("requests:detail", args=[req.pk])).content.decode()
    response = applicant_client.post(reverse("requests:cancel", args=[req.pk]), follow=True)
    assert response.status_code == 200
    for actor in (applicant_person.user, clerk):
        with pytest.raises(InvalidTransition):
            services.request_cancel(request_id=req.pk, actor=actor)
    assert CertificateRequest.objects.get(pk=req.pk).status == "issued" and not Refund.objects.exists()
    assert not AuditEntry.objects.filter(event="request.cancelled").exists()


@pytest.fixture
def refund(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    services.request_cancel(request_id=req.pk, actor=applicant_person.user)
    return Refund.objects.get(request=req)


@pytest.fixture
def reviewer(db):
    call_command("reviewer_group", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = make_staff("refund-reviewer")
    user.groups.add(Group.objects.get(name="SEO reviewers"))
    return user


def test_reviewer_records_the_refund_as_paid_in_the_admin(refund, reviewer, applicant_person,
                                                           applicant_client):
    client = login_staff(Client(), reviewer)
    change = reverse("admin:certrequests_refund_change", args=[refund.pk])
    transition = reverse("admin:certrequests_refund_transition", args=[refund.pk, "mark_paid"])
    assert transition in client.get(change).content.decode()
    assert client.post(transition, {"bank_ref": "  "}).status_code == 200  # the form asks again
    assert Refund.objects.get(pk=refund.pk).status == "requested"
    response = client.post(transition, {"bank_ref": "RF-778899"})
    assert response.status_code == 302
    refund = Refund.objects.get(pk=refund.pk)
    assert (refund.status, refund.bank_ref, refund.paid_by_id) == ("paid", "RF-778899", reviewer.pk)
    entry = AuditEntry.objects.get(event="refund.paid", target_id=str(refund.pk))
    assert (entry.old, entry.new, entry.actor_id) == ("requested", "paid", reviewer.pk)
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "refund_paid" and "RF-778899" in sms.body
    assert transition not in client.get(change).content.decode()  # done once
    page = applicant_client.get(reverse("requests:detail", args=[refund.request_id])).content.decode()
    assert "بازپرداخت شد" in page and "RF-778899" in page


def test_refund_payment_needs_the_permission(refund, clerk):
    for actor in (clerk, refund.request.applicant.user):
        with pytest.raises(PermissionDenied):
            services.refund_mark_paid(refund_id=refund.pk, actor=actor, bank_ref="X1")
    client = login_staff(Client(), clerk)
    assert client.post(reverse("admin:certrequests_refund_transition", args=[refund.pk, "mark_paid"]),
                       {"bank_ref": "X1"}).status_code == 403
    assert Refund.objects.get(pk=refund.pk).status == "requested"
    assert not OutboxMessage.objects.filter(template="refund_paid").exists()


def test_refund_is_paid_once(refund, reviewer):
    services.refund_mark_paid(refund_id=refund.pk, actor=reviewer, bank_ref="A1")
    with pytest.raises(InvalidTransition):
        services.refund_mark_paid(refund_id=refund.pk, actor=reviewer, bank_ref="A2")
    with pytest.raises(services.DomainError):
        services.refund_mark_paid(refund_id=refund.pk, actor=reviewer, bank_ref=" ")
    assert Refund.objects.get(pk=refund.pk).bank_ref == "A1"
    assert AuditEntry.objects.filter(event="refund.paid").count() == 1
