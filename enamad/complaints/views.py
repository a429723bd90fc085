"""The complaints room's pages (N23): the holder's complaints against their businesses and
their answers; and, from a seal's page, anyone's complaint and its follow-up by tracking code."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from enamad.accounts.decorators import account_required
from enamad.common import error_text, posted
from enamad.seals import selectors as seal_selectors
from enamad.seals.presentation import invalid_seal
from ramis.common import throttle
from ramis.common.client_ip import client_ip
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import serve_private

from . import selectors as complaint_selectors
from . import services as complaint_services
from .forms import ComplaintAnswerForm, ComplaintForm, ComplaintLookupForm
from .models import Complaint, ComplaintAttachment, ComplaintStatus

# --- the holder's complaints (N23) -------------------------------------------------------------


@account_required
def complaints(request):
    return render(request, "enamad/complaints.html", {"complaints": complaint_selectors.complaints_for_account(request.account)})


@account_required
def complaint_detail(request, pk):
    complaint = complaint_selectors.get_complaint_for_account(request.account, pk)
    form = ComplaintAnswerForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint_services.complaint_answer(complaint_id=complaint.pk, actor=request.user,
                                      text=form.cleaned_data["answer"],
                                      attachments=form.cleaned_data["attachments"], ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc) if isinstance(exc, ValidationError) else "اجازه ندارید.")
        else:
            messages.success(request, "پاسخ شما ثبت و برای خریدار فرستاده شد.")
        return redirect("enamad:complaint", pk)
    return render(request, "enamad/complaint.html", {
        "complaint": complaint, "form": form, "attachments": complaint.attachments.all(),
        "ComplaintStatus": ComplaintStatus,
    })


@account_required
def complaint_attachment(request, pk):
    attachment = ComplaintAttachment.objects.filter(pk=pk, complaint__business__account=request.account).first()
    if attachment is None:
        raise Http404
    return serve_private(attachment.file)


# --- complaints from the seal page (N23) --------------------------------------------------------


def complaint(request):
    """Anyone can complain about a seal holder from its seal page; captcha and a per-address
    limit keep it from being flooded."""
    try:
        seal = seal_selectors.seal_for_page(request.GET.get("id", ""), request.GET.get("Code", ""))
    except Http404:
        return invalid_seal(request)
    form = ComplaintForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request) or "unknown"
        try:
            allowed = throttle.hit(f"enamad-complaint:{ip}", limit=10, window=3600)
        except throttle.Unavailable as exc:  # fails closed: the form stays, with the reason
            allowed = False
            form.add_error(None, exc.message)
        else:
            if not allowed:
                messages.error(request, "تعداد شکایت‌های ثبت‌شده از این نشانی بیش از حد مجاز است؛ بعداً تلاش کنید.")
        if allowed:
            data = {k: v for k, v in form.cleaned_data.items() if k not in {"attachments", "captcha"}}
            try:
                filed = complaint_services.complaint_file(seal_id=seal.pk, data=data,
                                                attachments=form.cleaned_data["attachments"], ctx=audit_context(request))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                request.session["enamad_complaint"] = filed.tracking_code
                return redirect(f"{reverse('seal:complaint_filed')}?code={filed.tracking_code}")
    return render(request, "enamad/complaint_form.html", {
        "seal": seal, "business": seal.business, "form": form,
        "hours": settings.ENAMAD_COMPLAINT_ANSWER_HOURS,
    })


def complaint_filed(request):
    code = request.GET.get("code", "")
    if not code or request.session.get("enamad_complaint") != code:
        raise Http404
    filed = Complaint.objects.select_related("business").get(tracking_code=code)
    return render(request, "enamad/complaint_filed.html", {"complaint": filed})


def complaint_status(request):
    """The buyer follows a complaint with its tracking code and the mobile it was filed with."""
    form = ComplaintLookupForm(request.POST if request.method == "POST" else None, initial={"code": request.GET.get("code", "")})
    found = None
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request) or "unknown"
        try:
            allowed = throttle.hit(f"enamad-complaint-lookup:{ip}", limit=30, window=3600)
        except throttle.Unavailable as exc:
            allowed = False
            form.add_error(None, exc.message)
        else:
            if not allowed:
                form.add_error(None, "تعداد درخواست‌ها بیش از حد مجاز است؛ بعداً تلاش کنید.")
        if allowed:
            found = (Complaint.objects.select_related("business")
                     .filter(tracking_code=form.cleaned_data["code"], contact_mobile=form.cleaned_data["mobile"])
                     .first())
            if found is None:
                form.add_error(None, "شکایتی با این کد پیگیری و شماره همراه پیدا نشد.")
    return render(request, "enamad/complaint_status.html", {"form": form, "complaint": found})
