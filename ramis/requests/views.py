"""The applicant's panel (R5–R17, R19–R21): views parse input, call a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from certauth.decorators import applicant_required
from ramis.common import event_words, inbox
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.paging import page_of
from ramis.common.pdf import render_pdf
from ramis.common.templatetags.jalali import rials
from ramis.common.uploads import serve_private
from ramis.offices.models import RegistrationOffice
from ramis.registry.models import Role

from . import confirm_pages, email_confirmation, forms, lifecycle, selectors, services
from .models import (
    CertificateRequest,
    CertificateType,
    DocumentRequirement,
    Invoice,
    Payment,
    ServiceType,
)

Status = CertificateRequest.Status

STEPS = [
    ("type", "نوع گواهی"),
    ("details", "مشخصات"),
    ("documents", "مدارک"),
    ("office", "دفتر و نوع خدمت"),
    ("token", "توکن"),
    ("review", "بازبینی و ثبت نهایی"),
]
STEP_KEYS = [key for key, _ in STEPS]

EVENT_LABELS = selectors.EVENT_LABELS
# The statuses in which a request waits on its applicant (the panel's "next step").
APPLICANT_ACTS = (Status.DRAFT, Status.RETURNED, Status.AWAITING_PAYMENT, Status.AWAITING_APPOINTMENT)


def _done_steps(req: CertificateRequest) -> list[str]:
    done = ["type"]
    if req.email_is_confirmed and (req.latin_company_name if req.cert_type == CertificateType.SEAL
                      else req.latin_first_name and req.latin_last_name):
        done.append("details")
    required = set(DocumentRequirement.objects.for_request(req).filter(required=True).values_list("pk", flat=True))
    if required <= set(req.documents.values_list("requirement_id", flat=True)):
        done.append("documents")
    if req.office_id and req.service_type:
        done.append("office")
    if req.token_choice:
        done.append("token")
    return done


def _notes_by_item(req: CertificateRequest) -> dict[str, list[str]]:
    notes: dict[str, list[str]] = {}
    for note in req.return_notes.filter(is_open=True):
        notes.setdefault(note.item, []).append(note.note)
    return notes


# --- panel --------------------------------------------------------------------------------------------


@applicant_required
def panel(request):
    """The panel (R5, R16, R17): guide, roles with New request, requests, certificates, offices."""
    person = request.user.person
    roles = Role.objects.approved().with_parties().filter(person=person)
    reqs = list(selectors.requests_for_applicant(person))
    for req in reqs:
        req.next_step_text = selectors.next_step(req)
    certificates = list(selectors.certificates_for_applicant(person))
    for cert in certificates:
        cert.allowed_reasons = services.revocation_allowed_reasons(cert)
        cert.renewal_window = cert.days_left() < settings.RENEWAL_INSTEAD_OF_REVOCATION_DAYS
    offices = RegistrationOffice.objects.active()
    return render(request, "requests/panel.html", {
        "person": person, "roles": roles, "requests": reqs, "certificates": certificates, "offices": offices,
        "waiting_on_me": next((req for req in reqs if req.status in APPLICANT_ACTS), None),
    })


MESSAGES_PER_PAGE = 20


@applicant_required
def messages_page(request):
    """The SMS and e-mails the applicant was sent (issue 13, item 10), newest first, codes masked."""
    mobiles, emails = selectors.applicant_message_addresses(request.user.person)
    page, pager_query = page_of(request, inbox.messages_to(mobiles=mobiles, emails=emails), MESSAGES_PER_PAGE)
    return render(request, "requests/messages.html", {
        "page": page, "pager_query": pager_query, "message_cards": inbox.cards(page.object_list),
    })


@applicant_required
def request_new(request, role_id: int):
    """The two pages of R6: choose the signature or the seal certificate for a role."""
    role = get_object_or_404(Role.objects.approved().with_parties(), pk=role_id, person=request.user.person)
    if request.method == "POST":
        try:
            req = services.request_create(role_id=role.pk, cert_type=request.POST.get("cert_type", ""),
                                          actor=request.user, ctx=audit_context(request))
        except services.DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"پیش‌نویس درخواست {req.reference} ساخته شد؛ هر مرحله ذخیره می‌شود.")
            return redirect("requests:step", pk=req.pk, step="details")
    return render(request, "requests/new.html", {"role": role, "steps": STEPS, "current": "type", "done": []})


@applicant_required
def request_step(request, pk: int, step: str):
    """One step of the multi-step form; every POST saves the draft."""
    req = selectors.get_request_for_applicant(request.user, pk)
    if step not in STEP_KEYS or step == "type":
        raise Http404
    if not req.is_editable:
        return redirect("requests:detail", pk=req.pk)
    requirements = list(DocumentRequirement.objects.for_request(req))
    form = None
    code_form = forms.EmailCodeForm() if step == "details" else None
    if step == "details" and request.method == "POST" and request.POST.get("action") == "email_code":
        _send_email_code(request, req)
        return redirect(reverse("requests:step", args=[req.pk, "details"]) + "#email-confirm")
    if step == "details" and request.method == "POST" and request.POST.get("action") == "email_confirm":
        code_form = forms.EmailCodeForm(request.POST)
        if code_form.is_valid():
            try:
                email_confirmation.request_email_confirm(request_id=req.pk, actor=request.user,
                                                         code=code_form.cleaned_data["code"], ctx=audit_context(request))
            except ValidationError as exc:
                code_form.add_error("code", exc.messages[0])
            except InvalidTransition as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "رایانامه تأیید شد و در گواهی درج می‌شود.")
                return redirect("requests:step", pk=req.pk, step="documents")
    elif step == "details":
        form = forms.DetailsForm(request.POST or None, instance=req, cert_type=req.cert_type)
    elif step == "office":
        form = forms.OfficeForm(request.POST or None, instance=req, office_fixed=req.office_is_fixed)
    elif step == "token":
        form = forms.TokenForm(request.POST or None, instance=req)
    elif step == "documents":
        form = forms.DocumentsForm(request.POST or None, request.FILES or None, requirements=requirements)

    if request.method == "POST" and form is not None and form.is_valid():
        try:
            if step == "documents":
                for requirement, upload in form.uploads():
                    services.document_upload(request_id=req.pk, requirement_id=requirement.pk, upload=upload,
                                             actor=request.user, ctx=audit_context(request))
            else:
                data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
                if step == "office" and req.office_is_fixed:
                    data.pop("office", None)
                services.request_update(request_id=req.pk, actor=request.user, step=step, data=data)
        except (services.DomainError, InvalidTransition) as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "ذخیره شد.")
            if step == "details":
                req.refresh_from_db()
                if not req.email_is_confirmed:  # the address must be confirmed before the request goes on
                    _send_email_code(request, req)
                    return redirect(reverse("requests:step", args=[req.pk, "details"]) + "#email-confirm")
            following = STEP_KEYS[STEP_KEYS.index(step) + 1]
            if step == "documents" and "stay" in request.POST:
                following = "documents"
            return redirect("requests:step", pk=req.pk, step=following)

    uploaded = {doc.requirement_id: doc for doc in req.documents.all()}
    notes = _notes_by_item(req)
    rows = [{
        "requirement": r, "doc": uploaded.get(r.pk), "notes": notes.get(f"doc:{r.code}", []),
        "field": form[f"doc_{r.pk}"] if step == "documents" else None,
    } for r in requirements]
    context = {
        "req": req, "step": step, "form": form, "code_form": code_form, "steps": STEPS, "current": step,
        "done": _done_steps(req),
        "notes": notes, "requirements": rows,
        "previous": STEP_KEYS[STEP_KEYS.index(step) - 1] if step != "details" else None,
    }
    if step == "review":
        context["missing"] = selectors.missing_items(req)
        context["lines"], context["lines_error"] = [], None
        if not context["missing"]:
            try:
                context["lines"] = services.invoice_lines_for(req)
            except services.DomainError as exc:
                context["lines_error"] = exc.message
    return render(request, "requests/step.html", context)


def _send_email_code(request, req: CertificateRequest) -> None:
    try:
        email_confirmation.request_email_send_code(request_id=req.pk, actor=request.user, ctx=audit_context(request))
    except email_confirmation.Throttled as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, f"کد تأیید به {req.email} فرستاده شد؛ آن را در همین صفحه وارد کنید.")


@applicant_required
@require_POST
def request_submit(request, pk: int):
    req = selectors.get_request_for_applicant(request.user, pk)
    try:
        services.request_submit(request_id=req.pk, actor=request.user, ctx=audit_context(request))
    except services.IncompleteRequest as exc:
        for item in exc.missing:
            messages.error(request, item)
        return redirect("requests:step", pk=req.pk, step="review")
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return redirect("requests:detail", pk=req.pk)
    messages.success(request, f"درخواست {req.reference} ثبت نهایی شد و به دفتر ثبت‌نام ارسال شد.")
    return redirect("requests:detail", pk=req.pk)


@applicant_required
def request_cancel(request, pk: int):
    """GET: what cancelling does (a page, not a browser dialogue); POST: cancel."""
    req = selectors.get_request_for_applicant(request.user, pk)
    if request.method != "POST":
        return confirm_pages.cancel_page(request, req)
    try:
        req = services.request_cancel(request_id=req.pk, actor=request.user, ctx=audit_context(request))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        refund = req.refunds.first()
        messages.success(request, "درخواست لغو شد." + (
            f" مبلغ {rials(refund.amount_rials)} ریال به شما بازگردانده می‌شود." if refund else ""))
    return redirect("requests:detail", pk=req.pk)


@applicant_required
def request_detail(request, pk: int):
    """Status, the next step in words, the timeline (R16), invoice, appointment, documents."""
    req = selectors.get_request_for_applicant(request.user, pk)
    invoice = Invoice.objects.filter(request=req).prefetch_related("lines", "payments").first()
    timeline = [(entry, event_words.phrase(entry.event, entry.target_type)) for entry in selectors.request_timeline(req)]
    return render(request, "requests/detail.html", {
        "req": req, "next_step": selectors.next_step(req), "timeline": timeline, "invoice": invoice,
        "appointment": selectors.active_appointment(req), "documents": req.documents.select_related("requirement"),
        "notes": selectors.open_return_notes(req) if req.status == Status.RETURNED else [],
        "can_cancel": req.status in CertificateRequest.CANCELLABLE, "paid": req.status in CertificateRequest.PAID,
        "refunds": req.refunds.select_related("invoice", "payment"), "steps": STEPS,
        "lifecycle": lifecycle.strip(req),
    })


# --- documents (X8) -----------------------------------------------------------------------------------


def document_view(request, pk: int):
    """A private upload, for the applicant, their office's clerks and reviewers only (404 for others)."""
    doc = selectors.get_document_for_user(request.user, pk)
    return serve_private(doc.file, download_name=f"{doc.request.reference}-{doc.requirement.code}.{doc.kind}")


# --- payment (R11) ------------------------------------------------------------------------------------


@applicant_required
@require_POST
def payment_start(request, pk: int):
    from .payments import GatewayUnavailable, get_backend

    req = selectors.get_request_for_applicant(request.user, pk)
    backend = get_backend()
    try:
        payment = services.payment_start(request_id=req.pk, actor=request.user, backend_name=backend.name)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return redirect("requests:detail", pk=req.pk)
    callback = request.build_absolute_uri(reverse("payments:callback"))
    try:
        response = backend.start(payment=payment, request=request, callback_url=callback)
    except GatewayUnavailable:
        messages.error(request, "اتصال به درگاه پرداخت ممکن نشد؛ چند دقیقه بعد دوباره تلاش کنید.")
        return redirect("requests:detail", pk=req.pk)
    if payment.gateway_ref:
        type(payment).objects.filter(pk=payment.pk).update(gateway_ref=payment.gateway_ref)
    return response


@applicant_required
def receipt_pdf(request, pk: int):
    """The payment receipt (X5), once the invoice is paid."""
    req = selectors.get_request_for_applicant(request.user, pk)
    invoice = Invoice.objects.filter(request=req, status=Invoice.Status.PAID).prefetch_related("lines").first()
    if invoice is None:
        raise Http404
    payment = invoice.payments.filter(status=Payment.Status.PAID).first()
    pdf = render_pdf("pdf/payment_receipt.html", {"req": req, "invoice": invoice, "payment": payment})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{invoice.number}.pdf"'
    return response


# --- appointment (R12) --------------------------------------------------------------------------------


@applicant_required
def appointment(request, pk: int):
    req = selectors.get_request_for_applicant(request.user, pk)
    if req.status not in (Status.AWAITING_APPOINTMENT, Status.AWAITING_ISSUANCE) or req.office_id is None \
            or req.service_type != ServiceType.IN_PERSON:
        return redirect("requests:detail", pk=req.pk)
    current = selectors.active_appointment(req)
    free = selectors.free_slots(req.office)
    form = forms.SlotForm(request.POST or None, free=free)
    if request.method == "POST" and form.is_valid() and not request.POST.get("confirm"):
        return confirm_pages.booking_page(request, req, current, form.cleaned_data["slot"])
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_book(request_id=req.pk, actor=request.user, starts_at=form.cleaned_data["slot"],
                                      ctx=audit_context(request))
        except services.SlotUnavailable as exc:
            messages.error(request, exc.message)
        except (services.DomainError, InvalidTransition) as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "نوبت شما ثبت شد.")
            return redirect("requests:detail", pk=req.pk)
        free = selectors.free_slots(req.office)
    return render(request, "requests/appointment.html", {
        "req": req, "free": free, "form": form, "current": current,
    })


def _active_appointment_or_404(request, pk: int):
    req = selectors.get_request_for_applicant(request.user, pk)
    appointment = selectors.active_appointment(req)
    if appointment is None:
        raise Http404
    return req, appointment


@applicant_required
def appointment_slip(request, pk: int):
    """A printable slip of the booked appointment: when, where, what to bring."""
    req, appointment = _active_appointment_or_404(request, pk)
    return render(request, "requests/appointment_slip.html", {"req": req, "appointment": appointment})


@applicant_required
def appointment_calendar(request, pk: int):
    """The booked appointment as an .ics file for the holder's calendar."""
    req, appointment = _active_appointment_or_404(request, pk)
    response = HttpResponse(lifecycle.appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{req.reference}.ics"'
    return response


# --- certificates: renew and revoke (R17, R19, R20) ---------------------------------------------------


@applicant_required
def certificate_renew(request, pk: int):
    """GET: what renewing starts (a page); POST: start the renewal."""
    certificate = selectors.get_certificate_for_applicant(request.user, pk)
    if request.method != "POST":
        return confirm_pages.renew_page(request, certificate)
    try:
        req = services.renewal_start(certificate_id=certificate.pk, actor=request.user, ctx=audit_context(request))
    except (services.DomainError, InvalidTransition) as exc:
        messages.error(request, exc.message)
        return redirect("requests:panel")
    messages.success(request, f"درخواست تمدید {req.reference} در دفتر صادرکننده گواهی ساخته شد.")
    return redirect("requests:step", pk=req.pk, step="details")


@applicant_required
def certificate_revoke(request, pk: int):
    certificate = selectors.get_certificate_for_applicant(request.user, pk)
    if not certificate.revocable:
        messages.error(request, "این گواهی معتبر نیست.")
        return redirect("requests:panel")
    allowed = services.revocation_allowed_reasons(certificate)
    form = forms.RevokeForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        renewals = confirm_pages.open_renewals(certificate)
        try:
            outcome = services.revocation_request(
                certificate_id=certificate.pk, actor=request.user, reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"], ctx=audit_context(request),
            )
        except (services.DomainError, InvalidTransition) as exc:
            messages.error(request, exc.message)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, confirm_pages.revocation_message(outcome, renewals))
            return redirect("requests:panel")
    return render(request, "requests/revoke.html", {
        "certificate": certificate, "form": form,
        "renewal_window": len(allowed) < len(services.RevocationReason.values),
        "pending": services.revocation_pending(certificate),
        "open_renewals": confirm_pages.open_renewals(certificate),
    })

