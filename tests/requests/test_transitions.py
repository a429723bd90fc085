"""Every transition of ``ramis.requests.services`` in one table (issue 4, "Tests that must exist"):
its happy path (the state it reaches, its audit rows with actor and old/new, the SMS it queues),
the states it refuses and the people it refuses — a refusal writes nothing.

A row names the state to build (with the real services, ``States`` below), the call, who may
make it, what it must write, and the wrong states and wrong people to try."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from ramis.ca import services as ca_services
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from ramis.requests import selectors, services
from ramis.requests.models import (
    Appointment,
    Certificate,
    CertificateRequest,
    Invoice,
    Payment,
    Refund,
    RevocationRequest,
)
from ramis.requests.payments import GatewayResult
from tests.conftest import issue_test_certificate, make_staff

from .conftest import advance, make_draft, pdf_upload, user_of


def _settle(payment: Payment, ok: bool = True) -> Payment:
    return services.payment_settle(result=GatewayResult(
        token=payment.token, ok=ok, amount_rials=payment.amount_rials, invoice_id=payment.invoice_id, bank_ref="B7"))


def _free_slot(req, *, other_than=None) -> dt.datetime:
    return next(start for day in selectors.free_slots(req.office).values() for start, left in day
                if left and start != other_than)


class States:
    """Build a request (and what hangs on it) in a named state, through the services."""

    def __init__(self, applicant, office, clerk, catalogue, personas):
        self.applicant, self.office, self.clerk, self.catalogue, self.p = applicant, office, clerk, catalogue, personas

    def _req(self, stage: str, service_type: str = "in_person"):
        draft = make_draft(self.applicant, self.office, service_type=service_type, catalogue=self.catalogue)
        return advance(draft, stage, clerk=self.clerk)

    def at(self, name: str, prepare=None) -> SimpleNamespace:
        s = getattr(self, name)()
        if prepare is not None:
            prepare(s)
        return s

    def role(self):
        return SimpleNamespace(role=self.applicant.roles.get())

    def draft(self):
        return SimpleNamespace(req=self._req("draft"))

    def cancelled(self):
        s = self.draft()
        services.request_cancel(request_id=s.req.pk, actor=self.p["applicant"])
        return s

    def submitted(self):
        return SimpleNamespace(req=self._req("submitted"))

    def returned(self):
        s = self.submitted()
        services.request_return(request_id=s.req.pk, actor=self.clerk, notes={"details": "نام لاتین را اصلاح کنید"})
        return s

    def awaiting_payment(self):
        return SimpleNamespace(req=self._req("awaiting_payment"))

    def payment_pending(self):
        s = self.awaiting_payment()
        s.payment = services.payment_start(request_id=s.req.pk, actor=self.p["applicant"], backend_name="sandbox")
        return s

    def payment_pending_on_paid_invoice(self):
        """Two payments started on one invoice; the first paid it, the second is still at the gateway."""
        s = self.payment_pending()
        first = s.payment
        s.payment = services.payment_start(request_id=s.req.pk, actor=self.p["applicant"], backend_name="sandbox")
        _settle(first)
        return s

    def awaiting_appointment(self):
        return SimpleNamespace(req=self._req("paid"))

    def awaiting_visit(self):
        return SimpleNamespace(req=self._req("paid", service_type="on_site"))

    def awaiting_issuance(self):
        return SimpleNamespace(req=self._req("awaiting_issuance"))

    def issued(self):
        certificate = self._req("issued")
        return SimpleNamespace(req=certificate.request, certificate=certificate)

    def revoked(self):
        s = self.issued()
        services.certificate_revoke(certificate_id=s.certificate.pk, actor=self.clerk, reason="unspecified")
        return s

    def on_hold(self):
        s = self.issued()
        ca_services.certificate_hold(serial=s.certificate.serial, actor=None, reason="بررسی")
        return s

    def revocation_submitted(self):
        s = self.issued()
        s.revocation = services.revocation_request(certificate_id=s.certificate.pk, actor=self.p["applicant"],
                                                   reason="affiliation_changed").revocation
        return s

    def revocation_rejected(self):
        s = self.revocation_submitted()
        services.revocation_reject(revocation_id=s.revocation.pk, actor=self.clerk, reason="مدرک کافی نیست")
        return s

    def refund_requested(self):
        s = self.awaiting_appointment()
        services.request_cancel(request_id=s.req.pk, actor=self.p["applicant"])
        s.refund = Refund.objects.get(request=s.req)
        return s

    def refund_paid(self):
        s = self.refund_requested()
        services.refund_mark_paid(refund_id=s.refund.pk, actor=self.p["refund_operator"], bank_ref="R1")
        return s


@dataclass(frozen=True)
class Case:
    id: str
    state: str
    call: Callable  # (s, actor) -> Any
    actor: str | None  # the persona who may (None: the system: a callback, a beat task)
    audit: tuple  # (event, old, new) rows the happy path appends, each by ``actor``
    target: Callable  # (s, result) -> the row whose status the happy path sets
    status: str  # ... to this
    sms: tuple = ()  # the templates queued for the applicant, in order
    wrong_states: tuple = ()
    wrong_persons: tuple = ()
    refusal: type[Exception] | None = InvalidTransition  # None: the call does nothing (an idempotent task)
    prepare: Callable | None = None  # (s) -> None: what happens elsewhere before the call


def _req(s, result):
    return s.req


def _cert(s, result):
    return s.certificate


def _expiry_now(s, days_after_not_after: float) -> dt.datetime:
    certificate = getattr(s, "certificate", None) or Certificate.objects.get()
    return certificate.not_after + dt.timedelta(days=days_after_not_after)


def _ca_issues(s) -> None:
    """The CA's issuance, which the office's issuance step makes before it records the result."""
    s.issued = issue_test_certificate("signature")


def _issue(s, actor):
    issued = s.issued
    return services.request_mark_issued(request_id=s.req.pk, actor=actor, serial=issued.serial_hex,
                                        not_before=issued.not_before, not_after=issued.not_after)


CASES = [
    Case("request_create", "role",
         lambda s, a: services.request_create(role_id=s.role.pk, cert_type="signature", actor=a),
         "applicant", (("request.created", "", "draft"),), lambda s, r: r, "draft",
         wrong_persons=("other_applicant", "clerk")),
    Case("document_upload", "draft",
         lambda s, a: services.document_upload(request_id=s.req.pk, requirement_id=s.req.documents.first().requirement_id,
                                               upload=pdf_upload(), actor=a),
         "applicant", (("request.document_uploaded", "draft", "draft"),), _req, "draft",
         wrong_states=("submitted", "awaiting_payment"), wrong_persons=("other_applicant", "clerk")),
    Case("request_submit", "draft", lambda s, a: services.request_submit(request_id=s.req.pk, actor=a),
         "applicant", (("request.submitted", "draft", "submitted"),), _req, "submitted", ("request_submitted",),
         wrong_states=("submitted", "awaiting_payment", "cancelled"), wrong_persons=("other_applicant", "clerk")),
    Case("request_submit-resubmit", "returned", lambda s, a: services.request_submit(request_id=s.req.pk, actor=a),
         "applicant", (("request.resubmitted", "returned", "submitted"),), _req, "submitted", ("request_submitted",),
         wrong_persons=("other_applicant", "clerk")),
    Case("request_approve", "submitted", lambda s, a: services.request_approve(request_id=s.req.pk, actor=a),
         "clerk", (("request.approved", "submitted", "awaiting_payment"),), _req, "awaiting_payment",
         ("request_approved",), wrong_states=("draft", "returned", "awaiting_payment"),
         wrong_persons=("other_office_clerk", "applicant", "seo_reviewer")),
    Case("request_return", "submitted",
         lambda s, a: services.request_return(request_id=s.req.pk, actor=a, notes={"token": "مدل توکن را بنویسید"}),
         "clerk", (("request.returned", "submitted", "returned"),), _req, "returned", ("request_returned",),
         wrong_states=("draft", "returned"), wrong_persons=("other_office_clerk", "applicant")),
    Case("request_reject", "submitted",
         lambda s, a: services.request_reject(request_id=s.req.pk, actor=a, reason="معرفی‌نامه جعلی است"),
         "clerk", (("request.rejected", "submitted", "rejected"),), _req, "rejected", ("request_rejected",),
         wrong_states=("draft", "awaiting_payment"), wrong_persons=("other_office_clerk", "applicant")),
    Case("request_cancel-draft", "draft", lambda s, a: services.request_cancel(request_id=s.req.pk, actor=a),
         "applicant", (("request.cancelled", "draft", "cancelled"),), _req, "cancelled", ("request_cancelled",),
         wrong_states=("cancelled", "issued"), wrong_persons=("other_applicant", "other_office_clerk")),
    Case("request_cancel-paid", "awaiting_appointment",
         lambda s, a: services.request_cancel(request_id=s.req.pk, actor=a, reason="به دفتر دیگری می‌روم"),
         "clerk", (("refund.requested", "", "requested"), ("request.cancelled", "awaiting_appointment", "cancelled")),
         _req, "cancelled", ("request_cancelled",),
         wrong_persons=("other_applicant", "other_office_clerk", "seo_reviewer")),
    Case("refund_mark_paid", "refund_requested",
         lambda s, a: services.refund_mark_paid(refund_id=s.refund.pk, actor=a, bank_ref="RF-1"),
         "refund_operator", (("refund.paid", "requested", "paid"),), lambda s, r: s.refund, "paid", ("refund_paid",),
         wrong_states=("refund_paid",), wrong_persons=("clerk", "applicant")),
    Case("payment_start", "awaiting_payment",
         lambda s, a: services.payment_start(request_id=s.req.pk, actor=a, backend_name="sandbox"),
         "applicant", (("payment.started", "", "pending"),), lambda s, r: r, "pending",
         wrong_states=("draft", "submitted", "awaiting_appointment"),
         wrong_persons=("other_applicant", "clerk", "other_office_clerk")),
    Case("payment_settle", "payment_pending", lambda s, a: _settle(s.payment),
         None, (("payment.paid", "pending", "paid"), ("request.paid", "awaiting_payment", "awaiting_appointment")),
         _req, "awaiting_appointment", ("request_paid",)),
    Case("payment_settle-duplicate", "payment_pending_on_paid_invoice", lambda s, a: _settle(s.payment),
         None, (("payment.duplicate", "pending", "refund_due"), ("refund.requested", "", "requested")),
         lambda s, r: s.payment, "refund_due", ("payment_duplicate",)),
    Case("payment_settle-cancelled", "payment_pending",
         lambda s, a: services.payment_settle(result=GatewayResult(token=s.payment.token, ok=False, amount_rials=None, cancelled=True)),
         None, (("payment.cancelled", "pending", "cancelled"),), lambda s, r: s.payment, "cancelled"),
    Case("appointment_book", "awaiting_appointment",
         lambda s, a: services.appointment_book(request_id=s.req.pk, actor=a, starts_at=_free_slot(s.req)),
         "applicant", (("request.booked", "awaiting_appointment", "awaiting_issuance"),), _req, "awaiting_issuance",
         ("appointment_booked",), wrong_states=("awaiting_payment", "awaiting_visit", "issued"),
         wrong_persons=("other_applicant", "clerk")),
    Case("appointment_book-rebook", "awaiting_issuance",
         lambda s, a: services.appointment_book(request_id=s.req.pk, actor=a, starts_at=_free_slot(
             s.req, other_than=s.req.appointments.active().get().starts_at)),
         "applicant", (("request.rebooked", "awaiting_issuance", "awaiting_issuance"),), _req, "awaiting_issuance",
         ("appointment_booked",), wrong_persons=("other_applicant", "clerk")),
    Case("visit_schedule", "awaiting_visit",
         lambda s, a: services.visit_schedule(request_id=s.req.pk, actor=a,
                                              starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2)),
         "clerk", (("request.visit_scheduled", "awaiting_visit", "awaiting_issuance"),), _req, "awaiting_issuance",
         ("visit_scheduled",), wrong_states=("awaiting_payment", "awaiting_appointment", "awaiting_issuance"),
         wrong_persons=("other_office_clerk", "applicant")),
    Case("request_mark_issued", "awaiting_issuance", _issue,
         "clerk", (("request.issued", "awaiting_issuance", "issued"), ("certificate.issued", "", "active")),
         _req, "issued", ("request_issued",), wrong_states=("awaiting_appointment", "awaiting_visit", "issued"),
         wrong_persons=("other_office_clerk", "applicant"), prepare=_ca_issues),
    Case("renewal_start", "issued", lambda s, a: services.renewal_start(certificate_id=s.certificate.pk, actor=a),
         "applicant", (("request.created", "", "draft"),), lambda s, r: r, "draft",
         wrong_states=("revoked",), wrong_persons=("other_applicant", "clerk")),
    Case("revocation_request-immediate", "issued",
         lambda s, a: services.revocation_request(certificate_id=s.certificate.pk, actor=a, reason="token_lost"),
         "applicant", (("revocation.requested", "", "submitted"), ("revocation.confirmed", "submitted", "confirmed"),
                       ("certificate.revoked", "active", "revoked")),
         _cert, "revoked", ("certificate_revoked",), wrong_states=("revoked",),
         wrong_persons=("other_applicant", "clerk")),
    Case("revocation_request-to-the-office", "issued",
         lambda s, a: services.revocation_request(certificate_id=s.certificate.pk, actor=a, reason="unspecified"),
         "applicant", (("revocation.requested", "", "submitted"),), lambda s, r: r.revocation, "submitted",
         ("revocation_requested",), wrong_states=("revoked",), wrong_persons=("other_applicant", "clerk")),
    Case("revocation_confirm", "revocation_submitted",
         lambda s, a: services.revocation_confirm(revocation_id=s.revocation.pk, actor=a),
         "clerk", (("revocation.confirmed", "submitted", "confirmed"), ("certificate.revoked", "active", "revoked")),
         _cert, "revoked", ("certificate_revoked",), wrong_states=("revocation_rejected",),
         wrong_persons=("other_office_clerk", "applicant")),
    Case("revocation_reject", "revocation_submitted",
         lambda s, a: services.revocation_reject(revocation_id=s.revocation.pk, actor=a, reason="مدرک کافی نیست"),
         "clerk", (("revocation.rejected", "submitted", "rejected"),), lambda s, r: s.revocation, "rejected",
         ("revocation_rejected",), wrong_states=("revocation_rejected",),
         wrong_persons=("other_office_clerk", "applicant")),
    Case("certificate_revoke", "issued",
         lambda s, a: services.certificate_revoke(certificate_id=s.certificate.pk, actor=a,
                                                  reason="privilege_withdrawn"),
         "clerk", (("certificate.revoked", "active", "revoked"),), _cert, "revoked", ("certificate_revoked",),
         wrong_states=("revoked",), wrong_persons=("other_office_clerk", "applicant")),
    Case("role_end_with_revocation", "issued",
         lambda s, a: services.role_end_with_revocation(role_id=s.certificate.role_id, actor=a, reason="پایان همکاری"),
         "seo_reviewer", (("role.ended", "approved", "ended"), ("certificate.revoked", "active", "revoked")),
         _cert, "revoked", ("certificate_revoked",), wrong_persons=("clerk", "applicant")),
    Case("certificate_follow_ca-hold", "issued",
         lambda s, a: services.certificate_follow_ca(serial=s.certificate.serial, event="certificate.held",
                                                     note="بررسی سوءاستفاده"),
         None, (("certificate.held", "active", "on_hold"),), _cert, "on_hold", ("certificate_hold",),
         wrong_states=("on_hold", "revoked"), refusal=None),
    Case("certificate_follow_ca-release", "on_hold",
         lambda s, a: services.certificate_follow_ca(serial=s.certificate.serial, event="certificate.released"),
         None, (("certificate.released", "on_hold", "active"),), _cert, "active", ("certificate_release",),
         wrong_states=("issued", "revoked"), refusal=None),
    Case("certificate_follow_ca-revoke", "on_hold",
         lambda s, a: services.certificate_follow_ca(serial=s.certificate.serial, event="certificate.revoked",
                                                     ca_reason="key_compromise"),
         None, (("certificate.revoked", "on_hold", "revoked"),), _cert, "revoked", ("certificate_revoked",),
         wrong_states=("revoked",), refusal=None),
    Case("certificates_remind_expiring", "issued",
         lambda s, a: services.certificates_remind_expiring(now=_expiry_now(s, -20)),
         None, (("certificate.expiry_reminded", "active", "active"),), _cert, "active", ("certificate_expiring",),
         wrong_states=("revoked",), refusal=None),
    Case("certificates_expire", "issued", lambda s, a: services.certificates_expire(now=_expiry_now(s, 0.01)),
         None, (("certificate.expired", "active", "expired"),), _cert, "expired", ("certificate_expired",),
         wrong_states=("revoked",), refusal=None),
]


@pytest.fixture
def personas(applicant_person, other_applicant_person, clerk, other_office_clerk, seo_reviewer):
    call_command("reviewer_group", stdout=open("/dev/null", "w"))  # noqa: SIM115
    operator = make_staff("refund-operator")
    operator.groups.add(Group.objects.get(name="SEO reviewers"))
    return {"applicant": user_of(applicant_person), "other_applicant": user_of(other_applicant_person),
            "clerk": clerk, "other_office_clerk": other_office_clerk, "seo_reviewer": seo_reviewer,
            "refund_operator": operator, None: None}


@pytest.fixture
def states(applicant_person, office, clerk, catalogue, personas):
    return States(applicant_person, office, clerk, catalogue, personas)


def _written() -> tuple:
    """Everything a transition may write: the audit trail, the outbox and every status."""
    statuses = tuple(tuple(model.objects.order_by("pk").values_list("pk", "status"))
                     for model in (CertificateRequest, Invoice, Payment, Refund, Certificate, RevocationRequest))
    return (AuditEntry.objects.count(), OutboxMessage.objects.count(), statuses,
            tuple(Appointment.objects.order_by("pk").values_list("pk", "is_active", "starts_at")))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_happy_path_state_audit_and_sms(case, states, personas, applicant_person):
    s = states.at(case.state, case.prepare)
    last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    last_sms = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    actor = personas[case.actor]
    result = case.call(s, actor)
    target = case.target(s, result)
    target.refresh_from_db()
    assert target.status == case.status
    entries = AuditEntry.objects.filter(id__gt=last_audit).exclude(target_type__startswith="ca.")
    assert [(e.event, e.old, e.new) for e in entries.order_by("id")] == list(case.audit)
    assert {e.actor_id for e in entries} == {getattr(actor, "pk", None)}
    entry = entries.get(event=case.audit[0][0]) if len(case.audit) == 1 else None
    if entry is not None:  # the one row names the row that moved
        assert (entry.target_type, entry.target_id) == (target._meta.label_lower, str(target.pk))
    sms = OutboxMessage.objects.filter(id__gt=last_sms, channel="sms").order_by("id")
    assert [(m.to, m.template) for m in sms] == [(applicant_person.mobile, t) for t in case.sms]


WRONG_STATES = [(c, w) for c in CASES for w in c.wrong_states]


@pytest.mark.parametrize(("case", "wrong_state"), WRONG_STATES, ids=[f"{c.id}-in-{w}" for c, w in WRONG_STATES])
def test_wrong_state_is_refused_and_writes_nothing(case, wrong_state, states, personas):
    s = states.at(wrong_state, case.prepare)
    before = _written()
    if case.refusal is None:
        case.call(s, personas[case.actor])
    else:
        with pytest.raises(case.refusal):
            case.call(s, personas[case.actor])
    assert _written() == before


WRONG_PERSONS = [(c, p) for c in CASES for p in c.wrong_persons]


@pytest.mark.parametrize(("case", "person"), WRONG_PERSONS, ids=[f"{c.id}-by-{p}" for c, p in WRONG_PERSONS])
def test_wrong_person_is_refused_and_writes_nothing(case, person, states, personas):
    s = states.at(case.state, case.prepare)
    before = _written()
    with pytest.raises(PermissionDenied):
        case.call(s, personas[person])
    assert _written() == before
