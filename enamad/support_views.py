"""The holder's pages after the seal: support tickets and change requests (N19, N20), complaints
against their businesses (N23) and renewal (N18). They parse input, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import serve_private

from .businesses import selectors as business_selectors
from .complaints import selectors as complaint_selectors
from .complaints import services as complaint_services
from .decorators import account_required
from .forms import ComplaintAnswerForm, RenewalForm, TicketForm, TicketReplyForm
from .models import (
    CHANGE_CATEGORIES,
    EDITABLE_STATES,
    BusinessStatus,
    ChangeStatus,
    ComplaintAttachment,
    ComplaintStatus,
    Persona,
    TicketAttachment,
    TicketCategory,
    TicketStatus,
)
from .seals import services as seal_services
from .support import selectors as support_selectors
from .support import services as support_services

CATEGORY_HELP = {
    TicketCategory.GENERAL: "پرسش درباره قوانین، مراحل و وضعیت پرونده.",
    TicketCategory.TECHNICAL: "مشکل در سامانه یا در تأییدیه فنی دامنه.",
    TicketCategory.SEAL: "کد نماد، نمایش نماد روی سایت، ستاره‌ها و تمدید.",
    TicketCategory.PERSONA_CHANGE: "حقیقی به حقوقی: اساسنامه و آگهی روزنامه رسمی؛ حقوقی به حقیقی: صفحه اول "
                                   "شناسنامه و کارت ملی.",
    TicketCategory.IDENTITY_CHANGE: "نام، نام خانوادگی، کد ملی، تاریخ تولد (و برای شرکت‌ها نام و شماره ثبت) با "
                                    "مدارک هویتی.",
    TicketCategory.BUSINESS_CHANGE: "نام، نشانی، تلفن یا رایانامه کسب‌وکاری که پرونده‌اش ارسال شده یا نماد دارد، با "
                                    "مدرک مثبت تغییر.",
}


def _post(request):
    """Bound on POST even when nothing was posted (an empty QueryDict is falsy)."""
    return request.POST if request.method == "POST" else None


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- tickets (N19, N20) ------------------------------------------------------------------------


@account_required
def tickets(request):
    rows = support_selectors.tickets_for_account(request.account)
    return render(request, "enamad/tickets.html", {"tickets": rows})


def _changeable_businesses(account):
    """Business data changes by ticket: files no longer editable in the panel."""
    return account.businesses.exclude(status__in=[*EDITABLE_STATES, BusinessStatus.REVOKED]).order_by("-id")


@account_required
def ticket_new(request, category=None):
    account = request.account
    if category is None:
        categories = [(value, label, CATEGORY_HELP[value]) for value, label in TicketCategory.choices
                      if not (value == TicketCategory.PERSONA_CHANGE and account.persona == Persona.GOVERNMENT)]
        return render(request, "enamad/ticket_categories.html", {"categories": categories})
    if category not in TicketCategory.values:
        raise Http404
    if category == TicketCategory.PERSONA_CHANGE and support_services.persona_change_target(account) is None:
        messages.error(request, "نوع شخصیت دستگاه دولتی با تیکت تغییر نمی‌کند.")
        return redirect("enamad:ticket_new")
    business = None
    if category == TicketCategory.BUSINESS_CHANGE:
        choices = _changeable_businesses(account)
        pk = request.GET.get("business") or request.POST.get("business")
        if not (pk and pk.isdigit()):
            return render(request, "enamad/ticket_pick_business.html", {"businesses": choices,
                                                                          "category": category})
        business = choices.filter(pk=int(pk)).first()
        if business is None:
            raise Http404
    form = TicketForm(_post(request), request.FILES or None, category=category, account=account,
                      business=business)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = support_services.ticket_open(
                account_id=account.pk, actor=request.user, category=category,
                subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
                attachments=form.attachment_list(), business_id=business.pk if business else None,
                change_data=form.change_data if category in CHANGE_CATEGORIES else None, ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"تیکت {ticket.reference} ثبت شد؛ پاسخ پشتیبانی را در همین صفحه ببینید.")
            return redirect("enamad:ticket", ticket.pk)
    return render(request, "enamad/ticket_form.html", {
        "form": form, "category": TicketCategory(category), "business": business,
        "help": CATEGORY_HELP[category], "account": account, "TicketCategory": TicketCategory, "Persona": Persona,
    })


@account_required
def ticket_detail(request, pk):
    ticket = support_selectors.get_ticket_for_account(request.account, pk)
    form = TicketReplyForm(_post(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            support_services.ticket_follow_up(ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"],
                                      attachments=form.attachment_list(), ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, "پیام شما ثبت شد.")
        return redirect("enamad:ticket", pk)
    return render(request, "enamad/ticket.html", {
        "ticket": ticket, "thread": support_selectors.ticket_thread(ticket), "form": form, "staff": False,
        "TicketStatus": TicketStatus, "ChangeStatus": ChangeStatus,
        "can_reopen": ticket.status == TicketStatus.CLOSED and can_proceed(ticket.reopen),
    })


@account_required
@require_POST
def ticket_close(request, pk):
    ticket = support_selectors.get_ticket_for_account(request.account, pk)
    try:
        support_services.ticket_close(ticket_id=ticket.pk, actor=request.user, ctx=audit_context(request))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "تیکت بسته شد.")
    return redirect("enamad:ticket", pk)


@account_required
def ticket_attachment(request, pk):
    attachment = (TicketAttachment.objects.filter(pk=pk, message__ticket__account=request.account)
                  .select_related("message").first())
    if attachment is None:
        raise Http404
    return serve_private(attachment.file)


# --- complaints against the holder's businesses (N23) ------------------------------------------


@account_required
def complaints(request):
    return render(request, "enamad/complaints.html", {"complaints": complaint_selectors.complaints_for_account(request.account)})


@account_required
def complaint_detail(request, pk):
    complaint = complaint_selectors.get_complaint_for_account(request.account, pk)
    form = ComplaintAnswerForm(_post(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint_services.complaint_answer(complaint_id=complaint.pk, actor=request.user,
                                      text=form.cleaned_data["answer"],
                                      attachments=form.cleaned_data["attachments"], ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc) if isinstance(exc, ValidationError) else "اجازه ندارید.")
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


# --- renewal (N18) -----------------------------------------------------------------------------


@account_required
def renew(request, pk):
    """The renewal form, pre-filled with the file's details; sending it goes back to the expert."""
    business = business_selectors.get_business_for_account(request.account, pk)
    seal = getattr(business, "seal", None)
    if not seal_services.renewal_allowed(business, seal):
        messages.error(request, f"تمدید از {seal_services.RENEWAL_WINDOW_DAYS} روز پیش از انقضای نماد ممکن است.")
        return redirect("enamad:business", pk)
    initial = {name: business.requested(name) for name in RenewalForm.business_fields}
    requested_service = business.requested_service()
    initial.update({name: requested_service[name] for name in RenewalForm.service_fields if name in requested_service})
    form = RenewalForm(_post(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            seal_services.business_renew(
                business_id=business.pk, actor=request.user,
                data={name: data[name] for name in RenewalForm.business_fields},
                service_data={name: data[name] for name in RenewalForm.service_fields}, ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "درخواست تمدید برای بررسی کارشناس ارسال شد.")
            return redirect("enamad:business", pk)
    return render(request, "enamad/renew.html", {"form": form, "business": business, "seal": seal,
                                                 "missing": business.missing_for_send(),
                                                 "BusinessStatus": BusinessStatus})
