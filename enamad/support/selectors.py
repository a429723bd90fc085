"""Reads of tickets that several pages share (N19, N20)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from enamad.accounts.models import Account
from enamad.support.models import ChangeStatus, Ticket, TicketAttachment, TicketMessage, TicketStatus


def tickets_for_account(account: Account) -> QuerySet[Ticket]:
    return (Ticket.objects.for_account(account).select_related("business")
            .annotate(message_count=Count("messages")).order_by("-last_message_at"))


def get_ticket_for_account(account: Account, pk: int) -> Ticket:
    ticket = Ticket.objects.select_related("account__user", "business").filter(pk=pk, account=account).first()
    if ticket is None:
        raise Http404
    return ticket


def tickets_for_person(person) -> QuerySet[Ticket]:
    """A RAMIS applicant's own tickets (``registry.Person``)."""
    return (Ticket.objects.for_person(person).annotate(message_count=Count("messages"))
            .order_by("-last_message_at"))


def get_ticket_for_person(person, pk: int) -> Ticket:
    ticket = Ticket.objects.select_related("person").filter(pk=pk, person=person).first()
    if ticket is None:
        raise Http404
    return ticket


def get_attachment_for_owner(owner_field: str, owner, pk: int) -> TicketAttachment:
    """An attachment of a ticket whose ``owner_field`` ("account" or "person") is ``owner``; 404 for any other."""
    found = TicketAttachment.objects.filter(pk=pk, **{f"message__ticket__{owner_field}": owner}).first()
    if found is None:
        raise Http404
    return found


def ticket_thread(ticket: Ticket) -> QuerySet[TicketMessage]:
    return ticket.messages.select_related("author").prefetch_related("attachments")


STAFF_TICKET_QUEUES = {
    "open": ("منتظر پاسخ", Q(status=TicketStatus.OPEN)),
    "changes": ("درخواست‌های تغییر", Q(change_status=ChangeStatus.PENDING) & ~Q(status=TicketStatus.CLOSED)),
    "answered": ("پاسخ داده‌شده", Q(status=TicketStatus.ANSWERED)),
    "closed": ("بسته", Q(status=TicketStatus.CLOSED)),
}


def staff_tickets(queue: str) -> QuerySet[Ticket]:
    _, condition = STAFF_TICKET_QUEUES.get(queue, STAFF_TICKET_QUEUES["open"])
    order = "last_message_at" if queue in {"open", "changes"} else "-last_message_at"
    return Ticket.objects.filter(condition).select_related("account", "person", "business").order_by(order, "id")
