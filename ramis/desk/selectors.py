"""Reads the desk's views share: fetch-and-authorise for a clerk (404 outside their office), the
queue with its tabs and search, the day's appointments, the subject a request's certificate
gets, and which of the listed tokens a clerk may pick."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from cryptography import x509
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from ramis.ca import profiles
from ramis.ca import selectors as ca_selectors
from ramis.common.digits import to_latin_digits
from ramis.common.jalali import TEHRAN
from ramis.common.models import AuditEntry
from ramis.offices import hours
from ramis.offices.models import RegistrationOffice
from ramis.offices.selectors import is_clerk_of
from ramis.registry.models import Role
from ramis.requests.models import (
    Appointment,
    Certificate,
    CertificateRequest,
    CertificateType,
    RevocationRequest,
)
from tokens import TokenInfo

from .models import Handover, IdentityCheck, IssuanceAttempt, OfficeRevocation

Status = CertificateRequest.Status


# --- fetch and authorise ------------------------------------------------------------------------------


def get_request_for_office(office: RegistrationOffice, pk) -> CertificateRequest:
    """A request of the clerk's office, or 404: another office's requests do not exist for them (X7)."""
    try:
        return CertificateRequest.objects.with_parties().select_related("role__company__seo_department").get(
            pk=pk, office=office)
    except (CertificateRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_certificate_for_office(office: RegistrationOffice, pk) -> Certificate:
    try:
        return Certificate.objects.select_related("holder", "role", "role__company", "office", "request").get(
            pk=pk, office=office)
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_see_office_files(user, office_id: int | None, perm: str) -> bool:
    """X7/X8 for the office's uploads (a power of attorney, a signed revocation form): staff with a
    verified second factor who are a clerk of that office, or a reviewer with the model's view
    permission (``perm``)."""
    if not (getattr(user, "is_authenticated", False) and user.is_staff and user.is_verified()):
        return False
    return is_clerk_of(user, office_id) or user.has_perm(perm)


def _get_for_staff(queryset, pk, *, office_of, perm: str, user):
    try:
        obj = queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_see_office_files(user, office_of(obj), perm):
        raise Http404
    return obj


def get_identity_check_for_staff(user, pk) -> IdentityCheck:
    """An identity check for its office's clerk or a reviewer, or 404 (``may_see_office_files``)."""
    return _get_for_staff(IdentityCheck.objects.select_related("request"), pk, user=user,
                          office_of=lambda c: c.request.office_id, perm="desk.view_identitycheck")


def get_handover_for_staff(user, pk) -> Handover:
    """A handover (its signed sheet) for that office's clerk or a reviewer, or 404."""
    return _get_for_staff(Handover.objects.select_related("request"), pk, user=user,
                          office_of=lambda h: h.request.office_id, perm="desk.view_handover")


def get_office_revocation_for_staff(user, pk) -> OfficeRevocation:
    """An office revocation (its signed form) for that office's clerk or a reviewer, or 404."""
    return _get_for_staff(OfficeRevocation.objects.select_related("certificate"), pk, user=user,
                          office_of=lambda r: r.certificate.office_id, perm="desk.view_officerevocation")


# --- the queue ----------------------------------------------------------------------------------------


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=TEHRAN)
    return start, start + dt.timedelta(days=1)


def _today_q(now: dt.datetime | None = None) -> Q:
    start, end = day_bounds(hours.today_in_tehran(now))
    visit_today = Appointment.objects.filter(request=OuterRef("pk"), is_active=True, starts_at__gte=start,
                                             starts_at__lt=end)
    return Q(status=Status.AWAITING_ISSUANCE) & Q(Exists(visit_today))


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    order: tuple[str, ...]

    def q(self) -> Q:
        if self.key == "today":
            return _today_q()
        return Q(status=self.key)


TABS = [
    Tab("submitted", "در انتظار بررسی", ("submitted_at", "id")),
    Tab("awaiting_visit", "هماهنگی مراجعه در محل", ("submitted_at", "id")),
    Tab("today", "صدور امروز", ("submitted_at", "id")),
    Tab("awaiting_issuance", "در انتظار صدور", ("submitted_at", "id")),
    Tab("returned", "بازگشت برای اصلاح", ("-updated_at", "-id")),
    Tab("issued", "صادرشده", ("-updated_at", "-id")),
]
TAB_BY_KEY = {tab.key: tab for tab in TABS}
_REFERENCE = re.compile(r"^(?:RQ-?)?0*(\d{1,9})$", re.IGNORECASE)


def search_q(text: str) -> Q:
    """National code, a name (person or company) or a request number (``RQ-000012`` or ``12``)."""
    text = to_latin_digits(text or "").strip()
    if not text:
        return Q()
    match = _REFERENCE.match(text)
    if match:  # a request number, or digits that may also start a national code
        q = Q(pk=int(match.group(1)))
        if text.isdigit():
            q |= Q(applicant__national_code__startswith=text)
        return q
    q = Q()
    if text.isdigit():
        q |= Q(applicant__national_code__startswith=text)
    else:
        for word in text.split()[:4]:
            q &= (Q(applicant__first_name__icontains=word) | Q(applicant__last_name__icontains=word)
                  | Q(role__company__name__icontains=word) | Q(latin_last_name__icontains=word)
                  | Q(latin_company_name__icontains=word))
    return q


# What a row of the queue shows (templates/desk/queue.html): read alone, not every column of the
# request, its applicant, role, company, office and token model (a page of 25 rows: 33–39 ms
# instead of 43–50 in one process, bench/pages.py's data, 2026-12-07). A column a row's template
# reads and this misses costs a query per row: tests/desk/test_views.py pins the page's query count
# with many rows.
QUEUE_ROW = ("id", "office_id", "applicant_id", "role_id", "kind", "cert_type", "service_type", "submitted_at",
             "status", "applicant__first_name", "applicant__last_name", "applicant__national_code",
             "role__position", "role__company_id", "role__company__name")


def queue(office: RegistrationOffice, tab: Tab, search: str = ""):
    """One tab of the office's queue, with the active appointment prefetched (fixed queries)."""
    qs = (CertificateRequest.objects.select_related("applicant", "role__company").only(*QUEUE_ROW)
          .filter(office=office).filter(tab.q())
          .prefetch_related(Prefetch("appointments", queryset=Appointment.objects.active(),
                                     to_attr="active_appointments")))
    if search:
        qs = qs.filter(search_q(search))
    return qs.order_by(*tab.order)


def tab_counts(office: RegistrationOffice) -> dict[str, int]:
    """How many requests each tab holds: one query."""
    return CertificateRequest.objects.filter(office=office).aggregate(
        **{tab.key: Count("pk", filter=tab.q()) for tab in TABS}
    )


def open_revocations(office: RegistrationOffice):
    """Holders' revocation requests waiting for this office's decision."""
    return (RevocationRequest.objects.filter(status=RevocationRequest.Status.SUBMITTED, certificate__office=office)
            .select_related("certificate", "certificate__holder", "certificate__role__company", "requested_by")
            .order_by("created_at"))


def appointments_on(office: RegistrationOffice, day: dt.date):
    """The office's appointments of ``day`` (Tehran): in person and on site, with those already issued."""
    start, end = day_bounds(day)
    return (Appointment.objects.filter(office=office, starts_at__gte=start, starts_at__lt=end)
            .filter(Q(is_active=True) | Q(cancelled_at__isnull=True, request__status=Status.ISSUED))
            .select_related("request", "request__applicant", "request__role", "request__role__company",
                            "assigned_to")
            .order_by("starts_at", "id"))


def request_timeline(req: CertificateRequest):
    return AuditEntry.objects.for_object(req).select_related("actor").order_by("id")


# --- at the visit -------------------------------------------------------------------------------------


def latest_identity_check(req: CertificateRequest) -> IdentityCheck | None:
    return req.identity_checks.select_related("checked_by").order_by("-id").first()


def valid_identity_check(req: CertificateRequest, now: dt.datetime | None = None) -> IdentityCheck | None:
    """The identity check issuance relies on: the latest, passed, made today (Tehran)."""
    check = latest_identity_check(req)
    if check is None or not check.passed:
        return None
    if check.created_at.astimezone(TEHRAN).date() != hours.today_in_tehran(now):
        return None
    return check


def issuance_in_progress(req: CertificateRequest) -> IssuanceAttempt | None:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.OFFICE_ISSUANCE_TIMEOUT_SECONDS)
    return req.issuance_attempts.in_progress().filter(started_at__gte=cutoff).select_related("clerk").first()


# Positions in the certificate's subject (title): the Latin spelling, like the names.
POSITION_TITLES = {
    Role.Position.CEO: "Chief Executive Officer",
    Role.Position.CHAIRMAN: "Chairman of the Board",
    Role.Position.BOARD_MEMBER: "Board Member",
    Role.Position.AUTHORISED_SIGNATORY: "Authorised Signatory",
    Role.Position.COMPLIANCE_OFFICER: "Compliance Officer",
    Role.Position.EMPLOYEE: "Employee",
}


def certificate_subject(req: CertificateRequest) -> dict[str, str]:
    """The subject data the CA builds the certificate from (never the CSR's): the verified
    request — the person's Latin name, national code, company and position for a signature
    certificate; the company and its legal national ID for a seal; and, for both, the request's
    e-mail address once the applicant confirmed it (the subjectAltName)."""
    company = req.role.company
    # the subjectAltName's e-mail: the address the applicant confirmed by a code, never another one
    email = {"email": req.email_confirmed.strip()} if req.email_is_confirmed else {}
    if req.cert_type == CertificateType.SEAL:
        name = req.latin_company_name.strip() or company.name
        return {"common_name": name, "organization": name, "legal_national_id": company.national_id, **email}
    given, surname = req.latin_first_name.strip(), req.latin_last_name.strip()
    return {
        "common_name": f"{given} {surname}".strip(),
        "given_name": given,
        "surname": surname,
        "national_code": req.applicant.national_code,
        "organization": req.latin_company_name.strip() or company.name,
        "title": POSITION_TITLES.get(req.role.position, req.role.get_position_display()),
        **email,
    }


# The subject's fields (``certificate_subject``'s keys) as the clerk reads them on the issue page.
SUBJECT_FIELD_LABELS = {
    "common_name": "نام در گواهی",
    "given_name": "نام",
    "surname": "نام خانوادگی",
    "national_code": "کد ملی",
    "organization": "سازمان",
    "legal_national_id": "شناسه ملی شخص حقوقی",
    "title": "سمت",
    "email": "رایانامه",
}
# Key types (settings.OFFICE_KEY_TYPES) in words; the algorithm's Latin name stays in a <bdi>.
# (words before, Latin name, words after).
KEY_TYPE_WORDS = {
    "rsa2048": ("", "RSA", "با طول ۲۰۴۸ بیت"),
    "rsa3072": ("", "RSA", "با طول ۳۰۷۲ بیت"),
    "ec-p256": ("منحنی بیضوی", "P-256", ""),
    "ec-p384": ("منحنی بیضوی", "P-384", ""),
}


def subject_rows(req: CertificateRequest) -> list[tuple[str, str]]:
    """(Persian label, value) of what the certificate's subject will hold."""
    return [(SUBJECT_FIELD_LABELS.get(key, key), value) for key, value in certificate_subject(req).items()]


_NAMES = {
    x509.NameOID.SERIAL_NUMBER: "serialNumber", x509.NameOID.GIVEN_NAME: "GN", x509.NameOID.SURNAME: "SN",
    x509.NameOID.TITLE: "title", x509.NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


def subject_text(der: bytes) -> str:
    """A certificate's subject as people read it (RFC 4514 with names for every attribute we use)."""
    return x509.load_der_x509_certificate(bytes(der)).subject.rfc4514_string(_NAMES)


def check_subject(req: CertificateRequest) -> str | None:
    """Why the request's subject would not fit its profile (English detail), or None."""
    try:
        profiles.build_subject(profiles.get_profile(req.cert_type), certificate_subject(req))
    except profiles.SubjectError as exc:
        return str(exc)
    return None


def split_tokens(tokens: list[TokenInfo]) -> tuple[list[TokenInfo], list[TokenInfo]]:
    """The tokens a clerk may pick for a holder, and the system's own among those listed (the
    CAs', the TSA's, the audit anchor's: never offered, refused if posted by hand). The rule is
    the CA room's (:func:`ramis.ca.selectors.without_system_tokens`)."""
    pickable = ca_selectors.without_system_tokens(tokens)
    return pickable, [t for t in tokens if t not in pickable]
