"""The clerk's desk (R10–R15, R19, X7): views parse input, call a service, render.

Every view runs for a staff user with a verified TOTP session who is a clerk of an office, and
only ever sees that office's requests and certificates (404 for anything else)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from certauth.decorators import staff_required
from ramis.ca import signing
from ramis.ca.models import IssuedCertificate
from ramis.common import event_words
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.jalali import parse_jalali_date
from ramis.common.pdf import render_pdf
from ramis.common.templatetags.jalali import rials
from ramis.common.uploads import serve_private
from ramis.offices import hours
from ramis.requests import certificate_files
from ramis.requests import selectors as request_selectors
from ramis.requests import services as request_services
from ramis.requests.models import (
    Certificate,
    CertificateRequest,
    Invoice,
    Payment,
    RevocationRequest,
)
from tokens import TokenError

from . import forms, previews, selectors, services
from .decorators import clerk_required
from .station import station_for

Status = CertificateRequest.Status
DESK_EVENT_LABELS = request_selectors.EVENT_LABELS


def _fail(request, exc) -> None:
    messages.error(request, getattr(exc, "message", None) or "این عملیات انجام نشد.")


# --- the queue ----------------------------------------------------------------------------------------


@clerk_required
def queue(request):
    """Tabs per status, search, pagination; a fixed number of queries per page (STYLE 18)."""
    tab = selectors.TAB_BY_KEY.get(request.GET.get("tab") or "submitted")
    if tab is None:
        raise Http404
    form = forms.SearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(selectors.queue(request.office, tab, search), settings.OFFICE_QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page"))
    counts = selectors.tab_counts(request.office)
    tabs = [(t, counts[t.key]) for t in selectors.TABS]
    return render(request, "desk/queue.html", {
        "office": request.office, "tab": tab, "tabs": tabs, "page": page, "form": form, "search": search,
        "revocation_count": selectors.open_revocations(request.office).count(),
    })


@clerk_required
def day(request):
    """The office's appointments of one day (today by default), in person and on site."""
    try:
        when = parse_jalali_date(request.GET["date"]) if request.GET.get("date") else hours.today_in_tehran()
    except ValueError as exc:
        messages.error(request, str(exc))
        when = hours.today_in_tehran()
    return render(request, "desk/day.html", {
        "office": request.office, "day": when, "appointments": selectors.appointments_on(request.office, when),
        "previous": when - dt.timedelta(days=1), "next": when + dt.timedelta(days=1),
        "is_today": when == hours.today_in_tehran(),
    })


# --- review (R10) -------------------------------------------------------------------------------------


def _review_context(request, req: CertificateRequest, *, cancel_form=None, handover_form=None) -> dict:
    documents = list(req.documents.select_related("requirement"))
    timeline = [(e, event_words.phrase(e.event, e.target_type)) for e in selectors.request_timeline(req)]
    context = {
        "office": request.office, "req": req, "documents": documents, "timeline": timeline,
        "invoice": Invoice.objects.filter(request=req).prefetch_related("lines").first(),
        "appointment": request_selectors.active_appointment(req),
        "identity": selectors.latest_identity_check(req),
        "identity_valid": selectors.valid_identity_check(req),
        "attempts": req.issuance_attempts.select_related("clerk")[:10],
        "certificate": Certificate.objects.filter(request=req).first(),
        "missing": request_selectors.missing_items(req) if req.status == Status.SUBMITTED else [],
        "notes": request_selectors.label_return_notes(req.return_notes.select_related("created_by")),
        "refunds": req.refunds.select_related("invoice", "payment"),
        "handover": req.handovers.select_related("handed_over_by").first(),
    }
    if context["certificate"] is not None and context["handover"] is None and req.status == Status.ISSUED:
        context["handover_form"] = handover_form or forms.HandoverForm()
    if req.status == Status.SUBMITTED:
        context["return_form"] = forms.ReturnForm(items=request_selectors.return_items(req))
        context["reject_form"] = forms.RejectForm()
    if can_proceed(req.cancel):
        context["cancel_form"] = cancel_form or forms.CancelForm()
        context["cancel_paid"] = req.status in CertificateRequest.PAID
    return context


@clerk_required
def review(request, pk: int):
    """The applicant's data, role and company, each document inline, the actions of this state."""
    req = selectors.get_request_for_office(request.office, pk)
    return render(request, "desk/review.html", _review_context(request, req))


@clerk_required
@require_POST
def approve(request, pk: int):
    req = selectors.get_request_for_office(request.office, pk)
    try:
        request_services.request_approve(request_id=req.pk, actor=request.user, ctx=audit_context(request))
    except (request_services.DomainError, InvalidTransition) as exc:
        _fail(request, exc)
        return redirect("desk:review", pk=req.pk)
    messages.success(request, f"درخواست {req.reference} تأیید شد؛ صورت‌حساب برای متقاضی پیامک شد.")
    return redirect(reverse("desk:queue") + "?tab=submitted")


@clerk_required
@require_POST
def return_for_correction(request, pk: int):
    req = selectors.get_request_for_office(request.office, pk)
    form = forms.ReturnForm(request.POST, items=request_selectors.return_items(req))
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("desk:review", pk=req.pk)
    try:
        request_services.request_return(request_id=req.pk, actor=request.user, notes=form.notes(),
                                        reason=form.cleaned_data["reason"], ctx=audit_context(request))
    except (request_services.DomainError, InvalidTransition) as exc:
        _fail(request, exc)
        return redirect("desk:review", pk=req.pk)
    messages.success(request, f"درخواست {req.reference} برای اصلاح به متقاضی برگشت.")
    return redirect(reverse("desk:queue") + "?tab=submitted")


@clerk_required
@require_POST
def reject(request, pk: int):
    req = selectors.get_request_for_office(request.office, pk)
    form = forms.RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "دلیل رد درخواست را بنویسید.")
        return redirect("desk:review", pk=req.pk)
    try:
        request_services.request_reject(request_id=req.pk, actor=request.user, reason=form.cleaned_data["reason"],
                                        ctx=audit_context(request))
    except (request_services.DomainError, InvalidTransition) as exc:
        _fail(request, exc)
        return redirect("desk:review", pk=req.pk)
    messages.success(request, f"درخواست {req.reference} رد شد.")
    return redirect(reverse("desk:queue") + "?tab=submitted")


@clerk_required
@require_POST
def cancel(request, pk: int):
    """The office cancels the request before issuance (the applicant withdrew at the desk, …):
    after payment the slot is freed and a refund of what was paid is recorded."""
    req = selectors.get_request_for_office(request.office, pk)
    form = forms.CancelForm(request.POST)
    if not form.is_valid():
        return render(request, "desk/review.html", _review_context(request, req, cancel_form=form), status=400)
    try:
        request_services.request_cancel(request_id=req.pk, actor=request.user, reason=form.cleaned_data["reason"],
                                        ctx=audit_context(request))
    except (request_services.DomainError, InvalidTransition) as exc:
        _fail(request, exc)
        return redirect("desk:review", pk=req.pk)
    refund = req.refunds.filter(payment__status=Payment.Status.PAID).first()  # not a duplicate payment's
    if refund:
        messages.success(request, f"درخواست {req.reference} لغو شد؛ بازپرداخت {rials(refund.amount_rials)} ریال "
                                  "ثبت شد و برای متقاضی پیامک شد.")
    else:
        messages.success(request, f"درخواست {req.reference} لغو شد و برای متقاضی پیامک شد.")
    return redirect("desk:review", pk=req.pk)


def _office_document(request, pk: int):
    doc = request_selectors.get_document_for_user(request.user, pk)  # the panel's permission check (X8)
    if doc.request.office_id != request.office.pk:
        raise Http404
    return doc


@clerk_required
def document(request, pk: int):
    """A request document for this office's clerk, as uploaded."""
    doc = _office_document(request, pk)
    return serve_private(doc.file, download_name=f"{doc.request.reference}-{doc.requirement.code}.{doc.kind}")


@clerk_required
def document_preview(request, pk: int):
    """An inline preview: the image itself, or a PDF's first page as PNG (404 if it cannot be drawn)."""
    doc = _office_document(request, pk)
    if doc.kind != "pdf":
        return serve_private(doc.file, download_name=f"{doc.request.reference}-{doc.requirement.code}.{doc.kind}")
    with doc.file.open("rb") as fh:
        png = previews.pdf_first_page_png(fh.read())
    if png is None:
        raise Http404
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- on-site visit (R12) ------------------------------------------------------------------------------


@clerk_required
def visit(request, pk: int):
    req = selectors.get_request_for_office(request.office, pk)
    if req.status != Status.AWAITING_VISIT:
        messages.error(request, "این درخواست در انتظار هماهنگی مراجعه در محل نیست.")
        return redirect("desk:review", pk=req.pk)
    from certauth.models import User

    clerks = User.objects.filter(clerk__office=request.office, is_active=True).order_by("last_name", "username")
    form = forms.VisitForm(request.POST or None, clerks=clerks,
                           initial={"address": req.on_site_address, "assigned_to": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            request_services.visit_schedule(
                request_id=req.pk, actor=request.user, starts_at=form.starts_at(),
                address=form.cleaned_data["address"], assigned_to=form.cleaned_data["assigned_to"], ctx=audit_context(request),
            )
        except (request_services.DomainError, InvalidTransition) as exc:
            _fail(request, exc)
        else:
            messages.success(request, "زمان مراجعه در محل ثبت و برای متقاضی پیامک شد.")
            return redirect("desk:review", pk=req.pk)
    return render(request, "desk/visit.html", {"office": request.office, "req": req, "form": form})


# --- at the visit: identity check and issuance (R13, R14, R18) -----------------------------------------


@clerk_required
def identity(request, pk: int):
    req = selectors.get_request_for_office(request.office, pk)
    if req.status != Status.AWAITING_ISSUANCE:
        messages.error(request, "احراز هویت حضوری فقط برای درخواست «در انتظار صدور» است.")
        return redirect("desk:review", pk=req.pk)
    form = forms.IdentityCheckForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        facts = services.IdentityFacts(
            national_card_seen=data["national_card_seen"], second_document=data["second_document"],
            photo_matches=data["photo_matches"], presenter=data["presenter"], attorney_name=data["attorney_name"],
            attorney_national_code=data["attorney_national_code"] or "", power_kind=data["power_kind"],
            power_number=data["power_number"], power_date=data["power_date"], power_notary=data["power_notary"],
            note=data["note"],
        )
        try:
            check = services.identity_check_record(request_id=req.pk, actor=request.user, facts=facts,
                                                   power_file=data.get("power_file"), ctx=audit_context(request))
        except (services.DeskError, InvalidTransition) as exc:
            _fail(request, exc)
        else:
            if check.passed:
                messages.success(request, "هویت فرد حاضر تأیید شد؛ اکنون گواهی را روی توکن صادر کنید.")
                return redirect("desk:issue", pk=req.pk)
            for failure in check.failures:
                messages.error(request, failure)
            messages.error(request, "احراز هویت پذیرفته نشد و ثبت شد؛ گواهی صادر نمی‌شود.")
            return redirect("desk:review", pk=req.pk)
    return render(request, "desk/identity.html", {"office": request.office, "req": req, "form": form})


@staff_required
def power_of_attorney(request, pk: int):
    """The attorney's power-of-attorney scan: for the office's clerks and for reviewers with the
    view permission (linked from the admin); 404 for anyone else on the staff side."""
    check = selectors.get_identity_check_for_staff(request.user, pk)
    if not check.power_file:
        raise Http404
    return serve_private(check.power_file, download_name=f"{check.request.reference}-power.{check.power_file_kind}")


@staff_required
def revocation_form(request, pk: int):
    """The holder's signed revocation form of an office revocation: same rule as the power of attorney."""
    revocation = selectors.get_office_revocation_for_staff(request.user, pk)
    return serve_private(revocation.form_file,
                         download_name=f"revocation-{revocation.certificate.serial}.{revocation.form_kind}")


@sensitive_post_parameters("pin", "pin_again", "so_pin")
@clerk_required
def issue(request, pk: int):
    """Issue onto the applicant's token: pick it (or initialise a new one), the applicant types the PIN."""
    req = selectors.get_request_for_office(request.office, pk)
    check = selectors.valid_identity_check(req)
    if request.method == "POST" and (req.status != Status.AWAITING_ISSUANCE or check is None):
        return _issue_refused(request, req)
    if req.status != Status.AWAITING_ISSUANCE:
        messages.error(request, "این درخواست در انتظار صدور نیست.")
        return redirect("desk:review", pk=req.pk)
    if check is None:
        messages.error(request, "پیش از صدور، احراز هویت حضوری امروز را ثبت کنید.")
        return redirect("desk:identity", pk=req.pk)
    station = station_for(request, check=request.method == "GET")
    backend = station.backend
    tokens, system_tokens, token_error = [], [], None
    try:
        tokens, system_tokens = selectors.split_tokens(backend.list_tokens())
    except TokenError as exc:
        token_error = exc.message_fa
    form = forms.IssueForm(request.POST or None, tokens=tokens, can_init=backend.can_init and token_error is None,
                           token_choice=req.token_choice, token_model=req.token_model, system_tokens=system_tokens)
    if request.method == "POST" and form.is_valid():
        try:
            certificate = services.request_issue_on_token(
                request_id=req.pk, actor=request.user, pin=form.cleaned_data["pin"],
                token_serial="" if form.new_token or form.reinit_serial else form.cleaned_data["token"],
                new_token=form.new_token, workstation_id=station.pk, reinit_serial=form.reinit_serial,
                so_pin=form.cleaned_data.get("so_pin") or "", ctx=audit_context(request),
            )
        except (services.DeskError, InvalidTransition) as exc:
            if getattr(exc, "code", "") not in ("wrong_so_pin", "so_pin_locked"):
                _fail(request, exc)
                return redirect("desk:issue", pk=req.pk)
            form.add_error("so_pin", exc.message)  # next to the field; the token was not touched
        else:
            return _issued(request, req, certificate)
    return render(request, "desk/issue.html", {
        "office": request.office, "req": req, "form": form, "tokens": tokens, "token_error": token_error,
        "check": check, "running": selectors.issuance_in_progress(req), "station": station,
        "key_words": selectors.KEY_TYPE_WORDS.get(settings.OFFICE_KEY_TYPES.get(req.cert_type, "rsa2048"),
                                                  ("", settings.OFFICE_KEY_TYPES.get(req.cert_type, ""), "")),
        "subject": selectors.subject_rows(req),
    })


def _issue_refused(request, req: CertificateRequest):
    """A POST to issue that this page would not have offered (the request is not awaiting
    issuance, or has no identity check passed today): the service decides, so the refusal is
    audited (``issuance.refused``) like every other, and the clerk reads its message. The service
    checks the state and the identity check under the row lock before any input, so nothing is
    issued from here unless the request became ready meanwhile, and then only as the service allows."""
    token = request.POST.get("token", "")
    new_token = token == forms.IssueForm.NEW
    try:
        certificate = services.request_issue_on_token(
            request_id=req.pk, actor=request.user, pin=request.POST.get("pin", ""),
            token_serial="" if new_token else token, new_token=new_token, ctx=audit_context(request))
    except (services.DeskError, InvalidTransition) as exc:
        _fail(request, exc)
        return redirect("desk:identity" if getattr(exc, "code", "") == "no_identity" else "desk:review", pk=req.pk)
    return _issued(request, req, certificate)


def _issued(request, req: CertificateRequest, certificate):
    messages.success(request, f"گواهی با سریال {certificate.serial} صادر و روی توکن نوشته شد. "
                              "برگه تحویل را چاپ کنید و به امضای متقاضی برسانید.")
    return redirect("desk:review", pk=req.pk)


def _fingerprint_lines(hex_digest: str) -> list[str]:
    """``AB:CD:…`` in two lines of 16 bytes: one line does not fit the sheet, and a break the
    layout chooses would split a byte (and the reader's comparison with the screen)."""
    pairs = [hex_digest[i:i + 2].upper() for i in range(0, len(hex_digest), 2)]
    return [":".join(pairs[:16]), ":".join(pairs[16:])]


@clerk_required
def handover_pdf(request, pk: int):
    """The handover sheet (X5): subject, serial, validity, fingerprint, OCSP/CRL, clerk, acknowledgement."""
    req = selectors.get_request_for_office(request.office, pk)
    certificate = Certificate.objects.filter(request=req).first()
    if certificate is None:
        raise Http404
    issued = IssuedCertificate.objects.select_related("ca").get(serial_hex=certificate.serial)
    attempt = req.issuance_attempts.filter(certificate_serial=certificate.serial).select_related(
        "clerk", "identity_check").first()
    urls = signing.urls(issued.ca.slug)
    pdf = render_pdf("pdf/handover.html", {
        "req": req, "certificate": certificate, "issued": issued, "attempt": attempt,
        "check": attempt.identity_check if attempt else None, "clerk": attempt.clerk if attempt else request.user,
        "ocsp_url": urls.ocsp, "crl_url": urls.crl, "ca_issuers_url": urls.ca_issuers,
        "subject_rows": certificate_files.subject_rows(certificate_files.load(issued)),
        "sha256_lines": _fingerprint_lines(issued.sha256),
    })
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="handover-{req.reference}.pdf"'
    return response


@clerk_required
@require_POST
def handover_record(request, pk: int):
    """The clerk records the handover: now, by them, to the person identified; optional signed sheet."""
    req = selectors.get_request_for_office(request.office, pk)
    form = forms.HandoverForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "desk/review.html", _review_context(request, req, handover_form=form), status=400)
    try:
        services.handover_record(request_id=req.pk, actor=request.user, sheet=form.cleaned_data["sheet"],
                                 ctx=audit_context(request))
    except (services.DeskError, InvalidTransition) as exc:
        _fail(request, exc)
    else:
        messages.success(request, "تحویل گواهی و توکن ثبت شد.")
    return redirect("desk:review", pk=req.pk)


@staff_required
def handover_sheet(request, pk: int):
    """The signed handover sheet's scan: same rule as the power of attorney."""
    handover = selectors.get_handover_for_staff(request.user, pk)
    if not handover.sheet_file:
        raise Http404
    return serve_private(handover.sheet_file,
                         download_name=f"{handover.request.reference}-handover.{handover.sheet_kind}")


# --- certificates and revocation (R19) ----------------------------------------------------------------


@clerk_required
def certificate_detail(request, pk: int):
    certificate = selectors.get_certificate_for_office(request.office, pk)
    form = forms.OfficeRevokeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.certificate_revoke_by_office(
                certificate_id=certificate.pk, actor=request.user, reason=data["reason"], note=data["note"],
                form_upload=data["form_file"], ctx=audit_context(request),
            )
        except (services.DeskError, request_services.DomainError, InvalidTransition) as exc:
            _fail(request, exc)
        else:
            messages.success(request, "گواهی ابطال شد؛ فهرست ابطال (CRL) و پاسخ OCSP همین حالا به‌روز شد.")
            return redirect("desk:certificate", pk=certificate.pk)
    issued = IssuedCertificate.objects.filter(serial_hex=certificate.serial).first()
    return render(request, "desk/certificate.html", {
        "office": request.office, "certificate": certificate, "form": form, "issued": issued,
        "subject": selectors.subject_text(issued.der) if issued else certificate.subject_cn,
        "revocations": certificate.office_revocations.select_related("revoked_by"),
        "holder_requests": certificate.revocations.select_related("requested_by"),
    })


@clerk_required
def revocations(request):
    return render(request, "desk/revocations.html", {
        "office": request.office, "revocations": selectors.open_revocations(request.office),
        "reject_form": forms.RevocationRejectForm(),
    })


def _get_revocation(office, pk) -> RevocationRequest:
    try:
        return RevocationRequest.objects.get(pk=pk, certificate__office=office)
    except (RevocationRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@clerk_required
@require_POST
def revocation_confirm(request, pk: int):
    revocation = _get_revocation(request.office, pk)
    try:
        request_services.revocation_confirm(revocation_id=revocation.pk, actor=request.user, ctx=audit_context(request))
    except (request_services.DomainError, InvalidTransition) as exc:
        _fail(request, exc)
    else:
        messages.success(request, "درخواست ابطال تأیید و گواهی ابطال شد.")
    return redirect("desk:revocations")


@clerk_required
@require_POST
def revocation_reject(request, pk: int):
    revocation = _get_revocation(request.office, pk)
    form = forms.RevocationRejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "دلیل رد درخواست ابطال را بنویسید.")
        return redirect("desk:revocations")
    try:
        request_services.revocation_reject(revocation_id=revocation.pk, actor=request.user,
                                           reason=form.cleaned_data["reason"], ctx=audit_context(request))
    except (request_services.DomainError, InvalidTransition) as exc:
        _fail(request, exc)
    else:
        messages.success(request, "درخواست ابطال رد شد و به دارنده پیامک شد.")
    return redirect("desk:revocations")
