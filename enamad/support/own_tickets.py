"""The pages of one's own tickets, written once for both who ask: an e-Namad account's holder
(/enamad/panel/tickets/, ``views``) and a RAMIS applicant (/panel/support/, ``applicant_views``).

Each is an :class:`Asker`: the sign-in their pages need, whose tickets they are (the account, or
the applicant's ``registry.Person``), the selectors that find those tickets, and where their pages
and templates are. Every page reaches a ticket or an attachment only through the asker's own
tickets, so anyone else's — another holder's, or the other persona's — is a 404. Opening a ticket
differs (categories and change requests for a holder, a short form for an applicant) and stays
in each views module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from enamad.common import posted, take_step
from ramis.common.context import audit_context
from ramis.common.uploads import serve_private

from . import services as support_services
from .forms import TicketReplyForm
from .models import Ticket, TicketAttachment, TicketStatus
from .selectors import get_attachment_for_owner, ticket_thread


@dataclass(frozen=True)
class Asker:
    """Who is asking, and how their own tickets are found."""

    required: Callable[[Callable], Callable]  # the sign-in decorator of their pages
    owner: Callable[[HttpRequest], Model]  # whose tickets: the account, or the applicant's person
    owner_field: str  # the Ticket field that holds the owner ("account" or "person")
    own_tickets: Callable[[Model], QuerySet[Ticket]]  # the list's selector
    own_ticket: Callable[[Model, int], Ticket]  # the owner's ticket, 404 for any other
    ticket_url: str  # the URL name of a ticket's page
    templates: str  # the folder of tickets.html and ticket.html
    ticket_context: Mapping[str, Any] = field(default_factory=dict)  # what else ticket.html shows

    def ticket(self, request: HttpRequest, pk: int) -> Ticket:
        return self.own_ticket(self.owner(request), pk)

    def attachment(self, request: HttpRequest, pk: int) -> TicketAttachment:
        return get_attachment_for_owner(self.owner_field, self.owner(request), pk)


class TicketPages(NamedTuple):
    tickets: Callable
    ticket_detail: Callable
    ticket_close: Callable
    attachment: Callable


def ticket_pages(asker: Asker) -> TicketPages:
    """The list, a ticket's thread (write again, which reopens a closed one), closing it, and an
    attachment, for ``asker``."""

    @asker.required
    def tickets(request):
        rows = asker.own_tickets(asker.owner(request))
        return render(request, f"{asker.templates}/tickets.html", {"tickets": rows})

    @asker.required
    def ticket_detail(request, pk):
        ticket = asker.ticket(request, pk)
        form = TicketReplyForm(posted(request), request.FILES or None)
        if request.method == "POST" and form.is_valid():
            take_step(request, lambda: support_services.ticket_follow_up(
                ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"],
                attachments=form.attachment_list(), ctx=audit_context(request)), "پیام شما ثبت شد.")
            return redirect(asker.ticket_url, pk)
        return render(request, f"{asker.templates}/ticket.html", {
            "ticket": ticket, "thread": ticket_thread(ticket), "form": form, "TicketStatus": TicketStatus,
            "can_reopen": ticket.status == TicketStatus.CLOSED and can_proceed(ticket.reopen),
            **asker.ticket_context,
        })

    @asker.required
    @require_POST
    def ticket_close(request, pk):
        ticket = asker.ticket(request, pk)
        take_step(request, lambda: support_services.ticket_close(
            ticket_id=ticket.pk, actor=request.user, ctx=audit_context(request)), "تیکت بسته شد.")
        return redirect(asker.ticket_url, pk)

    @asker.required
    def attachment(request, pk):
        return serve_private(asker.attachment(request, pk).file)

    return TicketPages(tickets, ticket_detail, ticket_close, attachment)
