"""The businesses room's pages for the holder (N6–N14): a new file, its details, services,
survey, contact checks, sending it for review, and the commitment letter (issue 14: the letter
as issued and its upload signed with a RAMIS certificate). They parse input, call a service
(``signed_letter`` for the letter), render the result."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from enamad.accounts import services as account_services
from enamad.accounts.decorators import account_required
from enamad.accounts.models import PhoneChallenge
from enamad.common import Throttled
from ramis.ca import signing
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition

from . import selectors as business_selectors
from . import services as business_services
from . import signed_letter
from .forms import ActivityForm, AddressCodeForm, BusinessForm, ServicesForm, SignedLetterForm, SurveyForm
from .models import BusinessStatus, ChecklistItem
from .presentation import business_steps


def _own(request, pk):
    return business_selectors.get_business_for_account(request.account, pk)


@account_required
def business_new(request):
    form = BusinessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            business = business_services.business_create(account_id=request.account.pk, actor=request.user,
                                                data=form.cleaned_data, ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error("domain", exc)
        else:
            messages.success(request, "ثبت دامنه با موفقیت انجام شد.")
            return redirect("enamad:technical", business.pk)
    return render(request, "enamad/business_form.html", {"form": form, "title": "افزودن کسب‌وکار"})


@account_required
def business_edit(request, pk):
    business = _own(request, pk)
    if not business.editable:
        messages.error(request, "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
        return redirect("enamad:business", pk)
    initial = {name: business.requested(name) for name in business_services.BUSINESS_FIELDS}
    form = BusinessForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            business_services.business_update(business_id=business.pk, actor=request.user, data=form.cleaned_data,
                                     ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error("domain", exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:business", pk)
        else:
            messages.success(request, "مشخصات کسب‌وکار ذخیره شد.")
            return redirect("enamad:business", pk)
    return render(request, "enamad/business_form.html", {"form": form, "title": "ویرایش مشخصات کسب‌وکار",
                                                         "business": business})


@account_required
def service_details(request, pk):
    business = _own(request, pk)
    service = getattr(business, "service", None)
    # In a renewal the page shows the corrections waiting for final approval.
    initial = business.requested_service() if service else {}
    form = ServicesForm(request.POST or None, request.FILES or None, initial=initial,
                        has_licence_file=bool(initial.get("licence_file")))
    if request.method == "POST" and form.is_valid():
        try:
            business_services.business_save_services(business_id=business.pk, actor=request.user, data=form.cleaned_data,
                                            licence_file=form.cleaned_data.get("licence_file"), ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:business", pk)
        else:
            messages.success(request, "خدمت موردنظر با موفقیت ثبت شد.")
            return redirect("enamad:business", pk)
    categories = [(c.pk, c.requires_licence, c.authority) for c in form.fields["category"].queryset]
    return render(request, "enamad/services.html", {"form": form, "business": business, "categories": categories,
                                                     **business_steps(business)})


@account_required
def survey(request, pk):
    business = _own(request, pk)
    if not business.editable:
        messages.error(request, "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
        return redirect("enamad:business", pk)
    form = SurveyForm(request.POST or None, instance=getattr(business, "survey", None))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in SurveyForm.Meta.fields}
        try:
            business_services.business_save_survey(business_id=business.pk, actor=request.user, data=data, ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:business", pk)
        messages.success(request, "نظرسنجی با موفقیت ثبت شد.")
        return redirect("enamad:business", pk)
    return render(request, "enamad/survey.html", {"form": form, "business": business, **business_steps(business)})


@account_required
def contacts(request, pk):
    """N10: e-mail by link, phone by IVR code, address by a code posted on paper."""
    business = _own(request, pk)
    code_form = AddressCodeForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "email":
                business_services.business_send_email_link(business_id=business.pk, actor=request.user, ctx=audit_context(request))
                messages.success(request, f"پیوند تأیید به {business.requested('email')} فرستاده شد.")
            elif action == "phone":
                account_services.phone_challenge_start(account_id=request.account.pk, actor=request.user,
                                               purpose=PhoneChallenge.Purpose.BUSINESS_PHONE, business_id=business.pk)
            elif action == "letter":
                business_services.business_send_address_letter(business_id=business.pk, actor=request.user, ctx=audit_context(request))
                messages.success(request, "نامه حاوی کد احراز به نشانی کسب‌وکار پست می‌شود.")
            elif action == "address_code":
                code_form = AddressCodeForm(request.POST)
                if code_form.is_valid():
                    if business_services.business_confirm_address(business_id=business.pk, actor=request.user,
                                                         code=code_form.cleaned_data["code"], ctx=audit_context(request)):
                        messages.success(request, "نشانی کسب‌وکار احراز شد.")
                        return redirect("enamad:contacts", pk)
                    code_form.add_error("code", "کد درست نیست.")
            else:
                raise Http404
        except Throttled as exc:
            messages.error(request, exc.message)
        if action != "address_code" or code_form.is_valid():
            return redirect("enamad:contacts", pk)
    phone_challenge = None
    if business.phone_verified_at is None:
        phone_challenge = (PhoneChallenge.objects.filter(business=business, phone=business.requested("phone"),
                                                         verified_at__isnull=True).first())
        if phone_challenge and not phone_challenge.is_live:
            phone_challenge = None
    return render(request, "enamad/contacts.html", {
        "business": business, "code_form": code_form, "phone_challenge": phone_challenge,
        "ivr_number": settings.ENAMAD_IVR_NUMBER, **business_steps(business),
    })


def confirm_email(request, token):
    """The e-mailed link shows a page (mail scanners pre-fetch links); only its button (a POST)
    confirms the business e-mail, once."""
    try:
        if request.method != "POST":
            business = business_services.business_email_link_check(token=token)
            template = "enamad/email_confirmed.html" if business.email_verified_at else "enamad/confirm_email.html"
            return render(request, template, {"business": business})
        business = business_services.business_confirm_email(token=token, ctx=audit_context(request))
    except account_services.ActivationError as exc:
        return render(request, "enamad/activation_failed.html", {"message": exc.message}, status=400)
    return render(request, "enamad/email_confirmed.html", {"business": business})


@account_required
def send(request, pk):
    """N11/N12: the checklist shown before sending, then send (or resend after a deficiency)."""
    business = _own(request, pk)
    if request.method == "POST":
        try:
            if business.status == BusinessStatus.DEFICIENT:
                replies = {int(k[6:]): v for k, v in request.POST.items()
                           if k.startswith("reply_") and re.fullmatch(r"[0-9]{1,12}", k[6:])}
                business_services.business_resend(business_id=business.pk, actor=request.user, replies=replies, ctx=audit_context(request))
            else:
                business_services.business_send(business_id=business.pk, actor=request.user, ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:send", pk)
        messages.success(request, "پرونده برای بررسی کارشناس ارسال شد. وضعیت: در حال بررسی.")
        return redirect("enamad:business", pk)
    review = business.reviews.prefetch_related("items__item").first() if business.status == BusinessStatus.DEFICIENT else None
    items = ChecklistItem.objects.filter(active=True) if business.status == BusinessStatus.DRAFT else []
    return render(request, "enamad/send.html", {
        "business": business, "items": items, "review": review, "missing": business.missing_for_send(),
        **business_steps(business),
    })


@account_required
def activity(request, pk):
    business = _own(request, pk)
    form = ActivityForm(request.POST or None, initial={"activity_type": business.activity_type})
    if request.method == "POST" and form.is_valid():
        try:
            business_services.business_change_activity(business_id=business.pk, actor=request.user,
                                              activity_type=form.cleaned_data["activity_type"], ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "نوع فعالیت تغییر کرد.")
        return redirect("enamad:business", pk)
    return render(request, "enamad/activity.html", {"form": form, "business": business})


@account_required
@require_POST
def resend_documents(request, pk):
    business = _own(request, pk)
    try:
        business_services.business_resend_documents(business_id=business.pk, actor=request.user, ctx=audit_context(request))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "ارسال دوباره مدارک ثبت شد.")
    return redirect("enamad:business", pk)


# --- the commitment letter (N14, issue 14) -----------------------------------------------------


LETTER_STATES = {BusinessStatus.PHYSICAL_DOCUMENTS, BusinessStatus.DOCUMENTS_REJECTED, BusinessStatus.MANAGER_REVIEW,
                 BusinessStatus.APPROVED}


@account_required
def commitment_pdf(request, pk):
    """N14: the letter issued for this business, the same bytes every time (its fingerprint is
    what a signed upload is checked against)."""
    business = business_selectors.get_business_for_account(request.account, pk)
    if business.status not in LETTER_STATES:
        raise Http404
    letter = signed_letter.issue_letter(business)
    with letter.file.open("rb") as fh:
        response = HttpResponse(fh.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="enamad-commitment-{business.reference}.pdf"'
    return response


@account_required
def sign_letter(request, pk):
    """How to sign, and the upload: a valid letter ends the postal step; a refusal says why."""
    business = business_selectors.get_business_for_account(request.account, pk)
    if business.status not in LETTER_STATES:
        raise Http404
    form = SignedLetterForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if business.status != BusinessStatus.PHYSICAL_DOCUMENTS:
            form.add_error(None, signed_letter.REASONS["wrong_state"])
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            upload.seek(0)
            try:
                signed_letter.signed_letter_upload(business_id=business.pk, actor=request.user, data=upload.read(),
                                                   ctx=audit_context(request))
            except signed_letter.LetterRefused as exc:
                form.add_error("file", ValidationError(exc.message, code=exc.code))
            else:
                messages.success(request, "تعهدنامه امضاشده پذیرفته شد؛ نیازی به ارسال پستی آن نیست. "
                                          "کارشناس مدارک پرونده را بررسی می‌کند.")
                return redirect("enamad:business", pk)
        status = 400
    base = signing.public_url().rstrip("/")  # where the certificates send relying parties (plain HTTP /ca/)
    response = render(request, "enamad/sign_letter.html", {
        "business": business, "form": form, "signed": business.signed_letters.first(),
        "tsa_url": base + reverse("ca:tsa"),
        "root_url": signing.urls("root").ca_issuers, "issuing_url": signing.urls("issuing").ca_issuers,
        "agent_port": settings.ENAMAD_LETTER_AGENT_PORT,
        "can_upload": business.status == BusinessStatus.PHYSICAL_DOCUMENTS,
    }, status=status)
    # django-csp's per-response update (what its csp_update decorator sets): the page may reach
    # the agent's one loopback origin, nothing else
    response._csp_update = {"connect-src": [f"http://127.0.0.1:{settings.ENAMAD_LETTER_AGENT_PORT}"]}
    return response
