"""The one write path for requests, payments, appointments, certificates and revocations.

Each service runs in one transaction: lock the row (``select_for_update``), check the
transition (``can_proceed``) and who may take it (``has_transition_perm``), transition, save,
append the audit entry, and queue the SMS in the outbox (delivered after commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from ramis.common import audit
from ramis.common.digits import to_persian_digits
from ramis.common.errors import InvalidTransition
from ramis.common.jalali import TEHRAN, jalali_datetime
from ramis.common.transitions import transition
from ramis.common.uploads import validate_upload
from ramis.offices import hours
from ramis.offices.models import RegistrationOffice, Tariff
from ramis.offices.selectors import is_clerk_of
from ramis.registry.models import Role

from . import selectors

# Certificates (revocation, the CA's record, expiry) have their own module; their services are
# callable from here too, as every caller has always called them.
from .certificate_services import (
    CA_EVENTS,
    CARevocationFailed,
    RevocationOutcome,
    certificate_follow_ca,
    certificate_revoke,
    certificates_expire,
    certificates_remind_expiring,
    revocation_allowed_reasons,
    revocation_confirm,
    revocation_pending,
    revocation_reject,
    revocation_request,
    role_end_with_revocation,
)
from .models import (
    Appointment,
    Certificate,
    CertificateRequest,
    CertificateType,
    DocumentRequirement,
    Invoice,
    InvoiceLine,
    Payee,
    Payment,
    Refund,
    RequestDocument,
    ReturnNote,
    RevocationReason,
    ServiceType,
    TokenChoice,
)
from .payments import GatewayResult
from .service_base import (
    DomainError,
    IncompleteRequest,
    SlotUnavailable,
    Status,
    _lock_request,
    _record,
    _require_owner,
    _sms_applicant,
    logger,
)

__all__ = [
    # the shared errors and the names callers read through this module
    "DomainError", "IncompleteRequest", "SlotUnavailable", "InvalidTransition", "DocumentRequirement",
    "RevocationReason", "selectors",
    # certificate_services.py
    "CA_EVENTS", "CARevocationFailed", "RevocationOutcome", "certificate_follow_ca", "certificate_revoke",
    "certificates_expire", "certificates_remind_expiring", "revocation_allowed_reasons", "revocation_confirm",
    "revocation_pending", "revocation_reject", "revocation_request", "role_end_with_revocation",
    # this module
    "request_create", "STEP_FIELDS", "request_update", "document_upload", "request_submit", "invoice_lines_for",
    "request_approve", "request_return", "request_reject", "request_cancel", "refund_mark_paid", "payment_start",
    "DUPLICATE_PAYMENT_REASON", "payment_settle", "appointment_book", "visit_schedule", "request_mark_issued",
    "renewal_start",
]

# --- drafts (R6–R8) -----------------------------------------------------------------------------------


@transaction.atomic
def request_create(*, role_id: int, cert_type: str, actor, ctx=None) -> CertificateRequest:
    """A new draft for one of the applicant's approved roles."""
    role = Role.objects.select_related("person").get(pk=role_id)
    if role.person.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if role.status != Role.Status.APPROVED:
        raise DomainError("این سمت تأییدشده نیست.")
    if cert_type not in CertificateType.values:
        raise DomainError("نوع گواهی نامعتبر است.")
    if cert_type == CertificateType.SEAL and not role.has_signing_authority:
        raise DomainError("گواهی مهر سازمانی فقط برای سمتی که حق امضا دارد صادر می‌شود.")
    req = CertificateRequest.objects.create(
        applicant=role.person, role=role, cert_type=cert_type, email=role.person.email,
        validity_years=settings.CERT_DEFAULT_VALIDITY_YEARS,
    )
    audit.record(actor=actor, target=req, event="request.created", new=req.status, ctx=ctx,
                 extra={"cert_type": cert_type, "role": role.pk})
    return req


# Which fields each step of the form may change.
STEP_FIELDS = {
    "details": ("validity_years", "email", "latin_first_name", "latin_last_name", "latin_company_name",
                "organizational_unit"),
    "office": ("office", "service_type", "on_site_address"),
    "token": ("token_choice", "token_model"),
}


@transaction.atomic
def request_update(*, request_id: int, actor, step: str, data: Mapping) -> CertificateRequest:
    """Save one step of a draft (or of a request returned for correction)."""
    req = _lock_request(request_id)
    _require_owner(req, actor)
    if not req.is_editable:
        raise InvalidTransition(req, "edit", "این درخواست دیگر قابل ویرایش نیست.")
    allowed = STEP_FIELDS[step]
    for name, value in data.items():
        if name not in allowed:
            raise ValueError(f"field {name} is not part of step {step}")
        if name == "office" and req.office_is_fixed and value != req.office:
            raise DomainError("تمدید گواهی فقط در دفتری انجام می‌شود که گواهی را صادر کرده است.")
        setattr(req, name, value)
    if req.service_type != ServiceType.ON_SITE:
        req.on_site_address = ""
    if req.token_choice != TokenChoice.BUY:
        req.token_model = None
    req.save()
    return req


@transaction.atomic
def document_upload(*, request_id: int, requirement_id: int, upload, actor, ctx=None) -> RequestDocument:
    """Store one document (type by content, size-limited, private), replacing an earlier one."""
    req = _lock_request(request_id)
    _require_owner(req, actor)
    if not req.is_editable:
        raise InvalidTransition(req, "upload", "در این وضعیت نمی‌توان مدرک بارگذاری کرد.")
    requirement = DocumentRequirement.objects.for_request(req).get(pk=requirement_id)
    kind = validate_upload(upload)
    doc = RequestDocument.objects.filter(request=req, requirement=requirement).first()
    old_file = doc.file.name if doc else None
    if doc is None:
        doc = RequestDocument(request=req, requirement=requirement)
    doc.kind, doc.size, doc.original_name = kind, upload.size, (upload.name or "")[:200]
    doc.file.save(f"upload.{kind}", upload, save=False)
    doc.save()
    if old_file:
        storage = doc.file.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    audit.record(actor=actor, target=req, event="request.document_uploaded", old=req.status, new=req.status,
                 extra={"requirement": requirement.code, "kind": kind, "size": upload.size}, ctx=ctx)
    return doc


# --- submit, office decisions (R9, R10) ---------------------------------------------------------------


@transaction.atomic
def request_submit(*, request_id: int, actor, ctx=None) -> CertificateRequest:
    """Final submit (draft) or resubmit (returned): only a complete request goes to the office."""
    req = _lock_request(request_id)
    name = "resubmit" if req.status == Status.RETURNED else "final_submit"
    if not can_proceed(getattr(req, name)):
        raise InvalidTransition(req, name)
    if not has_transition_perm(getattr(req, name), actor):
        raise PermissionDenied
    missing = selectors.missing_items(req)
    if missing:
        raise IncompleteRequest(missing)
    old = transition(req, name, actor=actor)
    req.save()
    req.return_notes.filter(is_open=True).update(is_open=False)
    _record(actor, req, "request.resubmitted" if name == "resubmit" else "request.submitted", old, ctx=ctx)
    _sms_applicant(req, "request_submitted", office=req.office)
    return req


def _tariff(item: str, years: int, on: dt.date) -> Tariff:
    tariff = Tariff.objects.in_force(on).filter(item=item, validity_years=years).first()
    if tariff is None:
        raise DomainError(f"تعرفه «{Tariff.Item(item).label}» ({years} ساله) تعریف نشده است؛ با مدیر سامانه تماس بگیرید.")
    return tariff


def invoice_lines_for(req: CertificateRequest, *, on: dt.date | None = None) -> list[InvoiceLine]:
    """The invoice of an approved request (R11, R21): the certificate fee by type and validity,
    the token if bought, the on-site service if chosen; each fee split treasury / office."""
    on = on or hours.today_in_tehran()
    lines: list[InvoiceLine] = []

    def add_split(tariff: Tariff, label: str) -> None:
        if tariff.treasury_rials:
            lines.append(InvoiceLine(description=f"{label} — سهم خزانه", payee=Payee.TREASURY,
                                     amount_rials=tariff.treasury_rials))
        if tariff.office_rials:
            lines.append(InvoiceLine(description=f"{label} — سهم دفتر ثبت‌نام", payee=Payee.OFFICE,
                                     amount_rials=tariff.office_rials))

    cert_item = Tariff.Item.SIGNATURE_CERTIFICATE if req.cert_type == CertificateType.SIGNATURE \
        else Tariff.Item.SEAL_CERTIFICATE
    kind = "تمدید" if req.kind == CertificateRequest.Kind.RENEW else "صدور"
    add_split(_tariff(cert_item, req.validity_years, on),
              f"{kind} {req.get_cert_type_display()} {to_persian_digits(req.validity_years)} ساله")
    if req.token_choice == TokenChoice.BUY and req.token_model_id:
        lines.append(InvoiceLine(description=f"توکن {req.token_model.name}", payee=Payee.OFFICE,
                                 amount_rials=req.token_model.price_rials))
    if req.service_type == ServiceType.ON_SITE:
        add_split(_tariff(Tariff.Item.ON_SITE_SERVICE, 0, on), "خدمت در محل")
    return lines


@transaction.atomic
def request_approve(*, request_id: int, actor, ctx=None) -> CertificateRequest:
    """The office approves: the request awaits payment of its invoice."""
    req = _lock_request(request_id)
    old = transition(req, "approve", actor=actor)
    lines = invoice_lines_for(req)
    req.save()
    invoice = Invoice.objects.create(request=req, total_rials=sum(line.amount_rials for line in lines))
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    _record(actor, req, "request.approved", old, extra={"invoice": invoice.number, "total": invoice.total_rials},
            ctx=ctx)
    _sms_applicant(req, "request_approved", amount=invoice.total_rials)
    return req


@transaction.atomic
def request_return(*, request_id: int, actor, notes: Mapping[str, str], reason: str = "", ctx=None
                   ) -> CertificateRequest:
    """The office returns the request for correction with a note per item (``details``,
    ``office``, ``token`` or ``doc:<requirement code>``)."""
    notes = {item: text.strip() for item, text in notes.items() if text and text.strip()}
    if not notes:
        raise DomainError("دست‌کم برای یک مورد توضیح اصلاح بنویسید.")
    req = _lock_request(request_id)
    old = transition(req, "return_for_correction", actor=actor)
    req.save()
    ReturnNote.objects.bulk_create([ReturnNote(request=req, item=item, note=text, created_by=actor)
                                    for item, text in notes.items()])
    _record(actor, req, "request.returned", old, reason=reason, extra={"notes": notes}, ctx=ctx)
    _sms_applicant(req, "request_returned")
    return req


@transaction.atomic
def request_reject(*, request_id: int, actor, reason: str, ctx=None) -> CertificateRequest:
    if not reason.strip():
        raise DomainError("دلیل رد درخواست را بنویسید.")
    req = _lock_request(request_id)
    old = transition(req, "reject", actor=actor)
    req.save()
    _record(actor, req, "request.rejected", old, reason=reason, ctx=ctx)
    _sms_applicant(req, "request_rejected", reason=reason)
    return req


@transaction.atomic
def request_cancel(*, request_id: int, actor, reason: str = "", ctx=None) -> CertificateRequest:
    """The applicant (or a clerk of the request's office) cancels a request before it is issued.
    An unpaid invoice is voided; a paid one gets a ``Refund`` of what was paid (split per payee as
    the invoice was), and the appointment or on-site visit is given up, freeing its slot. The
    request row is locked first, so a concurrent booking or issuance either finishes before (and
    its result is undone here) or finds the request cancelled."""
    req = _lock_request(request_id)
    old = transition(req, "cancel", actor=actor)
    req.save()
    invoice = Invoice.objects.select_for_update().filter(request=req).first()
    refund = None
    if invoice and can_proceed(invoice.void):
        invoice.void()
        invoice.save()
    elif invoice and invoice.status == Invoice.Status.PAID:
        payment = Payment.objects.select_for_update().get(invoice=invoice, status=Payment.Status.PAID)
        refund = _refund_create(req, invoice, payment, actor=actor, reason=reason, ctx=ctx)
    freed = []
    for appointment in req.appointments.active().select_for_update():
        appointment.is_active = False
        appointment.cancelled_at = timezone.now()
        appointment.save(update_fields=["is_active", "cancelled_at"])
        freed.append(appointment.starts_at.isoformat())
    _record(actor, req, "request.cancelled", old, reason=reason, ctx=ctx,
            extra={"refund_rials": refund.amount_rials if refund else 0, "appointments_freed": freed})
    _sms_applicant(req, "request_cancelled", refund=refund)
    return req


def _refund_create(req: CertificateRequest, invoice: Invoice, payment: Payment, *, actor, reason: str,
                   ctx=None) -> Refund:
    """The refund of ``payment`` (its invoice and it locked by the caller): the payment that paid
    a cancelled request's invoice, or a duplicate payment of an invoice already paid. Either paid
    the invoice's total (``payment_settle`` refuses any other amount), so it splits as the invoice."""
    shares = dict.fromkeys(Payee.values, 0)
    for line in invoice.lines.all():
        shares[line.payee] += line.amount_rials
    refund = Refund.objects.create(
        request=req, invoice=invoice, payment=payment, amount_rials=payment.amount_rials,
        treasury_rials=shares[Payee.TREASURY], office_rials=shares[Payee.OFFICE], reason=reason,
    )
    audit.record(actor=actor, target=refund, event="refund.requested", new=refund.status, ctx=ctx,
                 extra={"request": req.reference, "invoice": invoice.number, "amount": refund.amount_rials,
                        "treasury": refund.treasury_rials, "office": refund.office_rials})
    return refund


@transaction.atomic
def refund_mark_paid(*, refund_id: int, actor, bank_ref: str, ctx=None) -> Refund:
    """An operator or reviewer (``certrequests.pay_refund``) records that the money went back."""
    bank_ref = (bank_ref or "").strip()
    if not bank_ref:
        raise DomainError("شماره پیگیری واریز را بنویسید.")
    refund = Refund.objects.select_for_update().select_related(
        "request", "request__applicant", "payment").get(pk=refund_id)
    old = transition(refund, "mark_paid", actor=actor, kwargs={"bank_ref": bank_ref[:100], "by": actor})
    refund.save()
    audit.record(actor=actor, target=refund, event="refund.paid", old=old, new=refund.status, ctx=ctx,
                 extra={"request": refund.request.reference, "amount": refund.amount_rials, "bank_ref": bank_ref})
    _sms_applicant(refund.request, "refund_paid", amount=refund.amount_rials, bank_ref=bank_ref,
                   duplicate=refund.payment.status == Payment.Status.REFUND_DUE)
    return refund


# --- payment (R11, X4) --------------------------------------------------------------------------------


@transaction.atomic
def payment_start(*, request_id: int, actor, backend_name: str) -> Payment:
    """A new payment attempt for the request's invoice; the view then sends the payer to the
    gateway (outside this transaction)."""
    req = _lock_request(request_id)
    _require_owner(req, actor)
    if req.status != Status.AWAITING_PAYMENT:
        raise InvalidTransition(req, "pay")
    invoice = Invoice.objects.select_for_update().get(request=req)
    if invoice.status != Invoice.Status.UNPAID:
        raise InvalidTransition(invoice, "pay", "این صورت‌حساب قبلاً پرداخت شده است.")
    payment = Payment.objects.create(invoice=invoice, backend=backend_name, amount_rials=invoice.total_rials)
    audit.record(actor=actor, target=payment, event="payment.started", new=payment.status,
                 extra={"invoice": invoice.number, "amount": payment.amount_rials, "backend": backend_name})
    return payment


DUPLICATE_PAYMENT_REASON = "پرداخت تکراری صورت‌حسابی که پیش‌تر پرداخت شده بود"


@transaction.atomic
def payment_settle(*, result: GatewayResult, ctx=None) -> Payment:
    """Settle a verified gateway result. Idempotent: a payment that is no longer pending is
    returned unchanged (replays, double callbacks). The amount and invoice must match what was
    asked; a second success on a paid invoice is kept as ``refund_due``."""
    row = Payment.objects.filter(token=result.token).values("invoice_id", "invoice__request_id").first()
    if row is None:
        raise PermissionDenied("unknown payment")
    # One lock order everywhere (request → invoice → payment), as payment_start and
    # request_cancel take them, so concurrent callers never deadlock.
    req = _lock_request(row["invoice__request_id"])
    invoice = Invoice.objects.select_for_update().get(pk=row["invoice_id"])
    payment = Payment.objects.select_for_update().get(token=result.token)
    if payment.status != Payment.Status.PENDING:
        return payment
    payment.result = {**result.raw, "bank_ref": result.bank_ref}
    payment.bank_ref = result.bank_ref[:100]
    old_payment = payment.status

    mismatch = []
    if result.invoice_id is not None and result.invoice_id != invoice.pk:
        mismatch.append("invoice")
    if result.ok and result.amount_rials != payment.amount_rials:
        mismatch.append("amount")
    if result.ok and payment.amount_rials != invoice.total_rials:
        mismatch.append("invoice_total")

    if not result.ok or mismatch:
        (payment.cancel if result.cancelled and not mismatch else payment.fail)()
        payment.save()
        audit.record(actor=None, target=payment, event="payment.failed" if mismatch or not result.cancelled
                     else "payment.cancelled", old=old_payment, new=payment.status, ctx=ctx,
                     extra={"mismatch": mismatch, "reported_amount": result.amount_rials})
        if mismatch:
            logger.error("payment %s: gateway result does not match (%s)", payment.pk, ", ".join(mismatch))
        return payment

    if invoice.status != Invoice.Status.UNPAID or req.status != Status.AWAITING_PAYMENT:
        payment.succeed_duplicate()
        payment.save()
        audit.record(actor=None, target=payment, event="payment.duplicate", old=old_payment, new=payment.status,
                     extra={"invoice": invoice.number, "bank_ref": result.bank_ref}, ctx=ctx)
        logger.warning("payment %s paid an invoice already paid: refund due", payment.pk)
        refund = _refund_create(req, invoice, payment, actor=None, reason=DUPLICATE_PAYMENT_REASON, ctx=ctx)
        _sms_applicant(req, "payment_duplicate", refund=refund)
        return payment

    payment.succeed()
    payment.save()
    invoice.settle()
    invoice.save()
    old = transition(req, "pay", actor=None, check_perm=False)
    req.save()
    audit.record(actor=None, target=payment, event="payment.paid", old=old_payment, new=payment.status,
                 extra={"invoice": invoice.number, "amount": payment.amount_rials, "bank_ref": result.bank_ref},
                 ctx=ctx)
    _record(None, req, "request.paid", old, extra={"invoice": invoice.number, "bank_ref": result.bank_ref},
            ctx=ctx)
    _sms_applicant(req, "request_paid", amount=invoice.total_rials,
                   in_person=req.service_type == ServiceType.IN_PERSON)
    return payment


# --- appointments (R12, R13) --------------------------------------------------------------------------


@transaction.atomic
def appointment_book(*, request_id: int, actor, starts_at: dt.datetime, ctx=None) -> Appointment:
    """Book (or rebook, until the day before) an in-person slot at the request's office. The
    office row is locked while the slot is counted, so a full slot is never overbooked."""
    req = _lock_request(request_id)
    name = "rebook" if req.status == Status.AWAITING_ISSUANCE else "book"
    old = transition(req, name, actor=actor)
    current = req.appointments.active().select_for_update().first()
    today = hours.today_in_tehran()
    if current is not None and current.starts_at.astimezone(TEHRAN).date() <= today:
        raise DomainError("نوبت را فقط تا یک روز پیش از آن می‌توان تغییر داد.")
    first, days = selectors.booking_window()
    local_day = starts_at.astimezone(TEHRAN).date()
    if not (first <= local_day < first + dt.timedelta(days=days)):
        raise SlotUnavailable("این روز در بازه نوبت‌دهی نیست.")
    office = RegistrationOffice.objects.select_for_update().get(pk=req.office_id)
    if not hours.is_slot_start(office, starts_at):
        raise SlotUnavailable("این زمان جزو نوبت‌های کاری دفتر نیست.")
    taken = Appointment.objects.active().filter(office=office, kind=ServiceType.IN_PERSON, starts_at=starts_at)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if taken.count() >= office.slot_capacity:
        raise SlotUnavailable
    if current is not None:
        current.is_active = False
        current.cancelled_at = timezone.now()
        current.save(update_fields=["is_active", "cancelled_at"])
    appointment = Appointment.objects.create(
        request=req, office=office, kind=ServiceType.IN_PERSON, starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=office.slot_minutes),
    )
    req.save()
    when = jalali_datetime(starts_at)
    _record(actor, req, "request.rebooked" if current else "request.booked", old, ctx=ctx,
            extra={"starts_at": starts_at.isoformat(), "previous": current.starts_at.isoformat() if current else None})
    _sms_applicant(req, "appointment_booked", when=when, office=office)
    return appointment


@transaction.atomic
def visit_schedule(*, request_id: int, actor, starts_at: dt.datetime, address: str = "", assigned_to=None,
                   ctx=None) -> Appointment:
    """The office fixes the date of its on-site visit (R12): when, where (the request's on-site
    address unless the office gives another) and which of its clerks goes."""
    req = _lock_request(request_id)
    old = transition(req, "schedule_visit", actor=actor)
    if assigned_to is not None and not is_clerk_of(assigned_to, req.office_id):
        raise DomainError("کارشناس اعزامی باید از کارشناسان همین دفتر باشد.")
    if starts_at <= timezone.now():
        raise DomainError("زمان مراجعه باید در آینده باشد.")
    address = (address or "").strip() or req.on_site_address
    appointment = Appointment.objects.create(
        request=req, office_id=req.office_id, kind=ServiceType.ON_SITE, starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1), address=address, assigned_to=assigned_to,
    )
    req.save()
    when = jalali_datetime(starts_at)
    _record(actor, req, "request.visit_scheduled", old, ctx=ctx, extra={
        "starts_at": starts_at.isoformat(), "address": address,
        "assigned_to": getattr(assigned_to, "username", None),
    })
    _sms_applicant(req, "visit_scheduled", when=when, office=req.office, address=address)
    return appointment


# --- issuance result, renewal (R13, R15, R20) ---------------------------------------------------------


@transaction.atomic
def request_mark_issued(
    *, request_id: int, actor, serial: str, not_before: dt.datetime, not_after: dt.datetime,
    subject_cn: str = "", token_serial: str = "", ctx=None,
) -> Certificate:
    """Record the CA's issuance for this request (the office's issuance step calls
    ``ramis.ca.services.certificate_issue`` on the token first, then this). The certificates it
    replaces become superseded, here and at the CA: a renewal's old certificate, and the
    holder's certificate of the same role and type on the same token (a reused token)."""
    req = _lock_request(request_id)
    old = transition(req, "mark_issued", actor=actor)
    req.save()
    certificate = Certificate.objects.create(
        serial=serial.lower(), cert_type=req.cert_type, holder=req.applicant, role=req.role, office_id=req.office_id,
        subject_cn=subject_cn, not_before=not_before, not_after=not_after, token_serial=token_serial, request=req,
    )
    req.appointments.active().update(is_active=False)
    _record(actor, req, "request.issued", old, extra={"serial": certificate.serial}, ctx=ctx)
    audit.record(actor=actor, target=certificate, event="certificate.issued", new=certificate.status,
                 extra={"request": req.reference}, ctx=ctx)
    from ramis.ca import services as ca_services

    for previous in Certificate.objects.replaced_by(req, token_serial).select_for_update().order_by("pk"):
        was = previous.status
        previous.supersede(by=certificate)
        previous.save()
        ca_services.certificate_supersede(serial=previous.serial, actor=actor, ctx=ctx)
        audit.record(actor=actor, target=previous, event="certificate.superseded", old=was,
                     new=previous.status, extra={"by": certificate.serial}, ctx=ctx)
    _sms_applicant(req, "request_issued", serial=certificate.serial)
    return certificate


@transaction.atomic
def renewal_start(*, certificate_id: int, actor, ctx=None) -> CertificateRequest:
    """Renew an active certificate: a renewal request bound to the office that issued it,
    reusing the token, with the details of the original request."""
    certificate = Certificate.objects.select_for_update().select_related("holder", "role").get(pk=certificate_id)
    if certificate.holder.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if certificate.status != Certificate.Status.ACTIVE:
        raise InvalidTransition(certificate, "renew", "فقط گواهی معتبر تمدید می‌شود.")
    if certificate.role.status != Role.Status.APPROVED:
        raise DomainError("سمت این گواهی دیگر تأییدشده نیست؛ تمدید ممکن نیست.")
    existing = certificate.renewals.open().first()
    if existing:
        return existing
    source = certificate.request
    req = CertificateRequest(
        applicant=certificate.holder, role=certificate.role, kind=CertificateRequest.Kind.RENEW,
        cert_type=certificate.cert_type, office_id=certificate.office_id, renews=certificate,
        token_choice=TokenChoice.REUSE, validity_years=settings.CERT_DEFAULT_VALIDITY_YEARS,
        email=certificate.holder.email,
    )
    if source is not None:
        for name in ("email", "latin_first_name", "latin_last_name", "latin_company_name", "organizational_unit",
                     "service_type", "on_site_address", "validity_years"):
            setattr(req, name, getattr(source, name))
    try:
        with transaction.atomic():
            req.save()
    except IntegrityError:  # a concurrent renew of the same certificate won
        return certificate.renewals.open().get()
    audit.record(actor=actor, target=req, event="request.created", new=req.status, ctx=ctx,
                 extra={"kind": "renew", "renews": certificate.serial})
    return req
