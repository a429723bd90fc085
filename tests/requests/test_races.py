"""Transitions that race must not double-apply (STYLE 19): threads on PostgreSQL, where
``select_for_update`` really locks (SQLite serialises whole transactions instead)."""

import threading

import pytest
from django.db import close_old_connections, connection

from ramis.common.models import AuditEntry, OutboxMessage
from ramis.requests import selectors, services
from ramis.requests.models import Appointment, CertificateRequest, Payment
from ramis.requests.payments import GatewayResult
from tests.conftest import make_person, make_role

from .conftest import advance, make_draft

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL (DATABASE_URL=postgres://…); CI runs them there")


def race(*calls):
    """Run the calls at the same moment in threads; return their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_final_submits_apply_once(applicant_person, office, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    user = applicant_person.user
    results = race(*[lambda: services.request_submit(request_id=req.pk, actor=user)] * 4)
    assert sum(isinstance(r, CertificateRequest) for r in results) == 1, results
    assert all(isinstance(r, (CertificateRequest, services.InvalidTransition)) for r in results)
    assert AuditEntry.objects.filter(event="request.submitted").count() == 1
    assert OutboxMessage.objects.filter(template="request_submitted").count() == 1


def test_two_payment_callbacks_settle_once(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    payment = services.payment_start(request_id=req.pk, actor=applicant_person.user, backend_name="sandbox")
    result = GatewayResult(token=payment.token, ok=True, amount_rials=payment.amount_rials,
                           invoice_id=payment.invoice_id, bank_ref="R1")
    results = race(*[lambda: services.payment_settle(result=result)] * 4)
    assert all(isinstance(r, Payment) for r in results), results
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_appointment"
    assert AuditEntry.objects.filter(event="request.paid").count() == 1
    assert OutboxMessage.objects.filter(template="request_paid").count() == 1


def test_two_payments_of_one_invoice_pay_once(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    payments = [services.payment_start(request_id=req.pk, actor=applicant_person.user, backend_name="sandbox")
                for _ in range(2)]
    results = race(*[
        (lambda p=p: services.payment_settle(result=GatewayResult(
            token=p.token, ok=True, amount_rials=p.amount_rials, invoice_id=p.invoice_id, bank_ref=p.token[:6])))
        for p in payments
    ])
    assert sorted(r.status for r in results) == ["paid", "refund_due"]
    assert AuditEntry.objects.filter(event="request.paid").count() == 1


def test_the_last_slot_is_booked_once(office, clerk, catalogue, company):
    office.slot_capacity = 1
    office.save()
    people = [make_person(code, f"0912000000{i}")
              for i, code in enumerate(["0499370899", "0013542419", "0010350829"])]
    reqs = []
    for person in people:
        make_role(person, company)
        reqs.append(advance(make_draft(person, office, catalogue=catalogue), "paid", clerk=clerk))
    slot = next(start for slots in selectors.free_slots(office).values() for start, left in slots if left)
    results = race(*[
        (lambda r=r: services.appointment_book(request_id=r.pk, actor=r.applicant.user, starts_at=slot))
        for r in reqs
    ])
    assert sum(isinstance(r, Appointment) for r in results) == 1
    assert sum(isinstance(r, services.SlotUnavailable) for r in results) == len(reqs) - 1
    assert Appointment.objects.filter(starts_at=slot, is_active=True).count() == 1
    assert CertificateRequest.objects.filter(status="awaiting_issuance").count() == 1


def test_two_renewals_of_one_certificate_make_one_request(applicant_person, office, clerk, catalogue):
    cert = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)
    results = race(*[lambda: services.renewal_start(certificate_id=cert.pk, actor=applicant_person.user)] * 3)
    assert all(isinstance(r, CertificateRequest) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert CertificateRequest.objects.filter(kind="renew").count() == 1


def test_cancel_and_issuance_one_wins(applicant_person, office, clerk, catalogue):
    """A cancel and the office recording the issuance at once: either the request is issued and
    the cancel refused, or it is cancelled (with its refund) and the issuance refused."""
    from ramis.requests.models import Certificate, Refund
    from tests.conftest import issue_test_certificate

    for _ in range(3):
        req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
        issued = issue_test_certificate(req.cert_type)
        results = race(
            lambda r=req: services.request_cancel(request_id=r.pk, actor=applicant_person.user),
            lambda r=req, i=issued: services.request_mark_issued(
                request_id=r.pk, actor=clerk, serial=i.serial_hex, not_before=i.not_before, not_after=i.not_after),
        )
        cancelled, certificate = results
        final = CertificateRequest.objects.get(pk=req.pk)
        if isinstance(certificate, Certificate):
            assert isinstance(cancelled, services.InvalidTransition), results
            assert final.status == "issued" and not Refund.objects.filter(request=req).exists()
        else:
            assert isinstance(cancelled, CertificateRequest) and isinstance(certificate, services.InvalidTransition)
            assert final.status == "cancelled" and not Certificate.objects.filter(request=req).exists()
            assert Refund.objects.get(request=req).amount_rials == req.invoice.total_rials
        assert not final.appointments.active().exists()
        assert AuditEntry.objects.filter(target_id=str(req.pk), event__in=["request.cancelled", "request.issued"]
                                         ).count() == 1


def test_cancel_and_booking_one_wins(office, clerk, catalogue, company):
    """A cancel racing a booking of the last seat of a slot: whichever order the lock gives, the
    request ends cancelled with no active appointment and the seat stays free."""
    office.slot_capacity = 1
    office.save()
    person = make_person("0499370899", "09120000001")
    make_role(person, company)
    for _ in range(3):
        req = advance(make_draft(person, office, catalogue=catalogue), "paid", clerk=clerk)
        slot = next(start for slots in selectors.free_slots(office).values() for start, left in slots if left)
        results = race(
            lambda r=req: services.request_cancel(request_id=r.pk, actor=person.user),
            lambda r=req, s=slot: services.appointment_book(request_id=r.pk, actor=person.user, starts_at=s),
        )
        cancelled, booked = results
        assert isinstance(cancelled, CertificateRequest), results
        assert isinstance(booked, (Appointment, services.InvalidTransition)), results
        assert CertificateRequest.objects.get(pk=req.pk).status == "cancelled"
        assert not Appointment.objects.filter(request=req, is_active=True).exists()
        assert dict(s for day in selectors.free_slots(office).values() for s in day)[slot] == 1
