"""e-Namad support for RAMIS applicants (issue 13, item 8): the same tickets and staff desk as an
e-Namad account's, opened from the RAMIS panel by the SMS-code user (``registry.Person``). Each
page shows only the applicant's own tickets; another's is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from certauth.decorators import applicant_required
from enamad.common import posted
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import serve_private

from . import selectors as support_selectors
from . import services as support_services
from .forms import ApplicantTicketForm, TicketReplyForm
from .models import TicketAttachment, TicketStatus


@applicant_required
def tickets(request):
    rows = support_selectors.tickets_for_person(request.user.person)
    return render(request, "enamad/applicant/tickets.html", {"tickets": rows})


@applicant_required
def ticket_new(request):
    form = ApplicantTicketForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = support_services.ticket_open_for_applicant(
                person_id=request.user.person.pk, actor=request.user, category=data["category"],
                subject=data["subject"], body=data["body"], attachments=form.attachment_list(), ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"تیکت {ticket.reference} ثبت شد؛ پاسخ پشتیبانی را در همین صفحه ببینید "
                                      "(پیامک هم می‌شود).")
            return redirect("applicant_support:ticket", ticket.pk)
    return render(request, "enamad/applicant/ticket_form.html", {"form": form})


@applicant_required
def ticket_detail(request, pk):
    ticket = support_selectors.get_ticket_for_person(request.user.person, pk)
    form = TicketReplyForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            support_services.ticket_follow_up(ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"],
                                              attachments=form.attachment_list(), ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "پیام شما ثبت شد.")
        return redirect("applicant_support:ticket", pk)
    return render(request, "enamad/applicant/ticket.html", {
        "ticket": ticket, "thread": support_selectors.ticket_thread(ticket), "form": form,
        "TicketStatus": TicketStatus,
        "can_reopen": ticket.status == TicketStatus.CLOSED and can_proceed(ticket.reopen),
    })


@applicant_required
@require_POST
def ticket_close(request, pk):
    ticket = support_selectors.get_ticket_for_person(request.user.person, pk)
    try:
        support_services.ticket_close(ticket_id=ticket.pk, actor=request.user, ctx=audit_context(request))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "تیکت بسته شد.")
    return redirect("applicant_support:ticket", pk)


@applicant_required
def attachment(request, pk):
    found = TicketAttachment.objects.filter(pk=pk, message__ticket__person=request.user.person).first()
    if found is None:
        raise Http404
    return serve_private(found.file)
