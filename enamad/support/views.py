"""The support room's pages for the holder: tickets and change requests (N19, N20). They parse
input, call a service, render. The pages of one's own tickets are ``own_tickets``'s, shared with
RAMIS applicants (``applicant_views``); opening one (categories, change requests) is the holder's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from enamad.accounts.decorators import account_required
from enamad.accounts.models import Persona
from enamad.businesses.models import EDITABLE_STATES, BusinessStatus
from enamad.common import posted
from ramis.common.context import audit_context

from . import selectors as support_selectors
from . import services as support_services
from .forms import TicketForm
from .models import CHANGE_CATEGORIES, ChangeStatus, TicketCategory
from .own_tickets import Asker, ticket_pages

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
    form = TicketForm(posted(request), request.FILES or None, category=category, account=account,
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


HOLDER = Asker(
    required=account_required, owner=lambda request: request.account, owner_field="account",
    own_tickets=support_selectors.tickets_for_account, own_ticket=support_selectors.get_ticket_for_account,
    ticket_url="enamad:ticket", templates="enamad", ticket_context={"staff": False, "ChangeStatus": ChangeStatus},
)
tickets, ticket_detail, ticket_close, ticket_attachment = ticket_pages(HOLDER)
