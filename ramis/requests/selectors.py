"""Reads that several views share: fetch-and-authorise helpers (404 for anyone else), the
completeness check, the next step in words, timelines and free appointment slots."""

from __future__ import annotations

import datetime as dt
from collections import Counter, OrderedDict

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.http import Http404

from ramis.common.jalali import TEHRAN
from ramis.common.models import AuditEntry
from ramis.offices import hours
from ramis.offices.models import RegistrationOffice
from ramis.offices.selectors import is_clerk_of

from .models import (
    Appointment,
    Certificate,
    CertificateRequest,
    CertificateType,
    DocumentRequirement,
    RequestDocument,
    ReturnNote,
    RevocationRequest,
    ServiceType,
    TokenChoice,
)

Status = CertificateRequest.Status


# Audit events of a request, as a person reads them in its timeline.
EVENT_LABELS = {
    "request.created": "ایجاد درخواست",
    "request.document_uploaded": "بارگذاری مدرک",
    "request.email_code_sent": "ارسال کد تأیید رایانامه",
    "request.email_code_rejected": "ورود کد نادرست رایانامه",
    "request.email_confirmed": "تأیید رایانامه",
    "request.submitted": "ثبت نهایی و ارسال به دفتر",
    "request.resubmitted": "ارسال دوباره پس از اصلاح",
    "request.approved": "تأیید دفتر ثبت‌نام و صدور صورت‌حساب",
    "request.returned": "بازگشت برای اصلاح",
    "request.rejected": "رد درخواست",
    "request.cancelled": "لغو درخواست",
    "request.paid": "پرداخت صورت‌حساب",
    "request.booked": "تعیین نوبت",
    "request.rebooked": "تغییر نوبت",
    "request.visit_scheduled": "هماهنگی مراجعه در محل",
    "request.issued": "صدور گواهی",
    "request.identity_checked": "احراز هویت حضوری در دفتر",
    "request.handed_over": "گواهی و توکن تحویل شد",
}


# --- fetch and authorise ------------------------------------------------------------------------------


def _person_of(user):
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    if person is None:
        raise Http404
    return person


def get_request_for_applicant(user, pk: int) -> CertificateRequest:
    """The applicant's own request, or 404 (never 403: others' requests do not exist for them)."""
    person = _person_of(user)
    try:
        return CertificateRequest.objects.with_parties().get(pk=pk, applicant=person)
    except (CertificateRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_certificate_for_applicant(user, pk: int) -> Certificate:
    person = _person_of(user)
    try:
        return Certificate.objects.select_related("role", "role__company", "office").get(pk=pk, holder=person)
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_view_certificate(user, certificate: Certificate) -> bool:
    """X7, X9: the holder, a clerk of the issuing office, or a reviewer who may view certificates;
    every one of them with a verified second factor in this session."""
    if not (getattr(user, "is_authenticated", False) and user.is_verified()):
        return False
    if certificate.holder.user_id == user.pk:
        return True
    if not user.is_staff:
        return False
    return is_clerk_of(user, certificate.office_id) or user.has_perm("certrequests.view_certificate")


def get_certificate_for_user(user, pk: int) -> Certificate:
    """The certificate page's fetch-and-authorise: 404 for anyone ``can_view_certificate`` refuses."""
    try:
        certificate = Certificate.objects.select_related(
            "holder", "role", "role__company", "office", "request", "request__token_model", "superseded_by__request",
        ).get(pk=pk)
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_view_certificate(user, certificate):
        raise Http404
    return certificate


def can_view_request_files(user, req: CertificateRequest) -> bool:
    """X7/X8: the applicant, a clerk of the request's office, or a reviewer (view permission),
    staff only with a verified second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    if req.applicant.user_id == user.pk:
        return user.is_verified()
    if not (user.is_staff and user.is_verified()):
        return False
    if req.status == CertificateRequest.Status.DRAFT:
        return False  # a draft is the applicant's own until final submit
    return is_clerk_of(user, req.office_id) or user.has_perm("certrequests.view_certificaterequest")


def get_document_for_user(user, pk: int) -> RequestDocument:
    try:
        doc = RequestDocument.objects.select_related("request", "request__applicant", "requirement").get(pk=pk)
    except (RequestDocument.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_view_request_files(user, doc.request):
        raise Http404
    return doc


# --- lists --------------------------------------------------------------------------------------------


def requests_for_applicant(person):
    return CertificateRequest.objects.with_parties().filter(applicant=person).select_related("renews")


_CLOSED = [Status.ISSUED, Status.REJECTED, Status.CANCELLED]


def certificates_for_applicant(person):
    open_revocations = RevocationRequest.objects.filter(status=RevocationRequest.Status.SUBMITTED)
    return (
        Certificate.objects.filter(holder=person)
        .select_related("role", "role__company", "office", "superseded_by__request")
        .annotate(open_renewals=Count("renewals", filter=~Q(renewals__status__in=_CLOSED), distinct=True))
        .prefetch_related(Prefetch("revocations", queryset=open_revocations, to_attr="open_revocations"))
    )


def requests_for_office(office: RegistrationOffice):
    """The office's queue: what waits for a clerk (R9, R10, R12)."""
    waiting = [Status.SUBMITTED, Status.AWAITING_VISIT, Status.AWAITING_ISSUANCE]
    return (
        CertificateRequest.objects.with_parties().filter(office=office, status__in=waiting)
        .order_by("submitted_at", "id")
    )


def request_timeline(req: CertificateRequest):
    return AuditEntry.objects.for_object(req).select_related("actor").order_by("id")


# --- the completeness check (R9) ----------------------------------------------------------------------


# The items a clerk's return note can be about (``ReturnNote.item``), besides ``doc:<code>``.
RETURN_ITEMS = {"details": "مشخصات", "office": "دفتر و نوع خدمت", "token": "توکن"}


def _document_item(code: str, title: str) -> tuple[str, str]:
    return f"doc:{code}", f"مدرک: {title}"


def return_items(req: CertificateRequest) -> list[tuple[str, str]]:
    """What a clerk can return ``req`` for, ``(item, Persian label)``: the form's steps and each
    document the request asks for."""
    return [*RETURN_ITEMS.items(),
            *(_document_item(r.code, r.title) for r in DocumentRequirement.objects.for_request(req))]


def label_return_notes(notes) -> list[ReturnNote]:
    """The notes, each with ``label``: its item in Persian (the form's step, or «مدرک: <title>»
    for a document; an item no longer known is shown as stored)."""
    notes = list(notes)
    labels = dict(RETURN_ITEMS)
    codes = [note.item.removeprefix("doc:") for note in notes if note.item.startswith("doc:")]
    if codes:
        labels.update(_document_item(code, title) for code, title in
                      DocumentRequirement.objects.filter(code__in=codes).values_list("code", "title"))
    for note in notes:
        note.label = labels.get(note.item, note.item)
    return notes


def open_return_notes(req: CertificateRequest) -> list[ReturnNote]:
    """The open notes of a returned request, each with its Persian ``label``."""
    return label_return_notes(req.return_notes.filter(is_open=True))


def missing_items(req: CertificateRequest) -> list[str]:
    """What stops a final submit, in Persian; empty when the request is complete."""
    missing: list[str] = []
    if not req.role_in_force():
        missing.append("سمت شما در این شرکت دیگر تأییدشده نیست؛ درخواست قابل ارسال نیست.")
    if not req.email:
        missing.append("رایانامه وارد نشده است.")
    elif not req.email_is_confirmed:
        missing.append("رایانامه تأیید نشده است: کدی را که به آن فرستاده می‌شود در مرحلهٔ مشخصات وارد کنید.")
    if req.cert_type == CertificateType.SIGNATURE:
        if not (req.latin_first_name and req.latin_last_name):
            missing.append("نام و نام خانوادگی به لاتین وارد نشده است.")
    elif not req.latin_company_name:
        missing.append("نام شرکت به لاتین وارد نشده است.")
    if req.cert_type == CertificateType.SEAL and not req.role.has_signing_authority:
        missing.append("گواهی مهر سازمانی فقط برای سمتی که حق امضا دارد صادر می‌شود.")
    if req.office_id is None:
        missing.append("دفتر ثبت‌نام انتخاب نشده است.")
    elif not req.office.is_active:
        missing.append("دفتر ثبت‌نام انتخاب‌شده فعال نیست؛ دفتر دیگری انتخاب کنید.")
    if not req.service_type:
        missing.append("نوع خدمت (حضوری یا در محل) انتخاب نشده است.")
    elif req.office_id and req.service_type == ServiceType.ON_SITE and not req.office.offers_on_site:
        missing.append("دفتر انتخاب‌شده خدمت در محل ارائه نمی‌دهد.")
    elif req.office_id and req.service_type == ServiceType.IN_PERSON and not req.office.offers_in_person:
        missing.append("دفتر انتخاب‌شده خدمت حضوری ارائه نمی‌دهد.")
    if req.service_type == ServiceType.ON_SITE and not req.on_site_address.strip():
        missing.append("نشانی محل خدمت در محل وارد نشده است.")
    if not req.token_choice:
        missing.append("وضعیت توکن (توکن فعلی یا خرید توکن) انتخاب نشده است.")
    elif req.token_choice == TokenChoice.BUY and (req.token_model_id is None or not req.token_model.is_active):
        missing.append("مدل توکن برای خرید انتخاب نشده است.")
    uploaded = set(req.documents.values_list("requirement_id", flat=True))
    for requirement in DocumentRequirement.objects.for_request(req).filter(required=True):
        if requirement.pk not in uploaded:
            missing.append(f"مدرک «{requirement.title}» بارگذاری نشده است.")
    return missing


# --- the next step in words (STYLE 15) ----------------------------------------------------------------

_NEXT_STEP = {
    Status.DRAFT: "فرم را کامل کنید، مدارک را بارگذاری کنید و «ثبت نهایی» را بزنید.",
    Status.SUBMITTED: "درخواست در صف بررسی دفتر ثبت‌نام است؛ نتیجه پیامک می‌شود.",
    Status.RETURNED: "دفتر درخواست را برای اصلاح برگردانده است؛ موارد یادداشت‌شده را اصلاح و دوباره ثبت کنید.",
    Status.REJECTED: "درخواست رد شده است؛ در صورت نیاز درخواست تازه‌ای ثبت کنید.",
    Status.AWAITING_PAYMENT: "درخواست تأیید شد؛ هزینه را از همین صفحه پرداخت کنید.",
    Status.AWAITING_APPOINTMENT: "هزینه پرداخت شد؛ روز و ساعت مراجعه به دفتر را در فرم نوبت انتخاب کنید.",
    Status.AWAITING_VISIT: "هزینه پرداخت شد؛ دفتر برای هماهنگی زمان مراجعه در محل با شما تماس می‌گیرد.",
    Status.AWAITING_ISSUANCE: "در زمان نوبت، خود دارنده گواهی (یا وکیل با وکالت‌نامه محضری) با اصل مدارک "
                              "و توکن برای احراز هویت و صدور گواهی حاضر شود.",
    Status.ISSUED: "گواهی صادر شده است و در فهرست گواهی‌های شما دیده می‌شود.",
    Status.CANCELLED: "درخواست لغو شده است.",
}


def next_step(req: CertificateRequest) -> str:
    return _NEXT_STEP[Status(req.status)]


# --- appointment slots (R12) --------------------------------------------------------------------------


def booking_window(now: dt.datetime | None = None) -> tuple[dt.date, int]:
    """Bookable days: from tomorrow (Tehran) for ``APPOINTMENT_DAYS_AHEAD`` days."""
    tomorrow = hours.today_in_tehran(now) + dt.timedelta(days=1)
    return tomorrow, settings.APPOINTMENT_DAYS_AHEAD


def booked_counts(office: RegistrationOffice, starts: list[dt.datetime]) -> Counter:
    if not starts:
        return Counter()
    rows = Appointment.objects.active().filter(
        office=office, kind=ServiceType.IN_PERSON, starts_at__range=(starts[0], starts[-1])
    ).values_list("starts_at", flat=True)
    return Counter(rows)


def free_slots(office: RegistrationOffice, *, now: dt.datetime | None = None):
    """``{date: [(start, remaining), ...]}`` for the booking window, days in order (Tehran)."""
    first, days = booking_window(now)
    starts = hours.slot_starts(office, first=first, days=days)
    counts = booked_counts(office, starts)
    by_day: OrderedDict[dt.date, list[tuple[dt.datetime, int]]] = OrderedDict()
    for start in starts:
        remaining = office.slot_capacity - counts.get(start, 0)
        by_day.setdefault(start.astimezone(TEHRAN).date(), []).append((start, max(0, remaining)))
    return by_day


def active_appointment(req: CertificateRequest) -> Appointment | None:
    return req.appointments.active().first()


def applicant_message_addresses(person) -> tuple[list[str], list[str]]:
    """The addresses whose messages the applicant may read again (ramis.common.inbox): the mobile
    the office registered (their login codes come there), the registry's and their account's e-mail,
    and every address they confirmed with a code in one of their requests. An address typed into a
    request but never confirmed is not theirs yet. One query."""
    emails = [person.email, person.user.email if person.user_id else ""]
    emails += CertificateRequest.objects.filter(applicant=person).exclude(email_confirmed="").values_list(
        "email_confirmed", flat=True)
    return [person.mobile], emails
