"""e-Namad support for RAMIS applicants (issue 13, item 8): the same tickets and staff desk as an
e-Namad account's, opened from the RAMIS panel by the SMS-code user (``registry.Person``). Each
page shows only the applicant's own tickets; another's is a 404. The pages of one's own tickets
are ``own_tickets``'s, shared with the e-Namad holder (``views``); the short form that opens one is
the applicant's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from certauth.decorators import applicant_required
from enamad.common import posted
from ramis.common.context import audit_context

from . import selectors as support_selectors
from . import services as support_services
from .forms import ApplicantTicketForm
from .own_tickets import Asker, ticket_pages

APPLICANT = Asker(
    required=applicant_required, owner=lambda request: request.user.person, owner_field="person",
    own_tickets=support_selectors.tickets_for_person, own_ticket=support_selectors.get_ticket_for_person,
    ticket_url="applicant_support:ticket", templates="enamad/applicant",
)
tickets, ticket_detail, ticket_close, attachment = ticket_pages(APPLICANT)


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
