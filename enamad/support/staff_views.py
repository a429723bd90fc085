"""The staff desk's tickets and change requests (N19, N20): the queues, a ticket's thread with
the requested change beside the current values, the answer and the decisions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from enamad.accounts.decorators import enamad_staff_required
from enamad.accounts.models import Persona
from enamad.common import take_step
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.common.paging import page_of
from ramis.common.uploads import serve_private

from . import selectors as support_selectors
from . import services as support_services
from .forms import DecisionNoteForm, TicketReplyForm
from .models import ChangeStatus, Ticket, TicketAttachment, TicketCategory, TicketStatus

CHANGE_LABELS = {
    "persona": "نوع شخصیت", "first_name": "نام", "last_name": "نام خانوادگی", "father_name": "نام پدر",
    "birth_date": "تاریخ تولد", "national_code": "کد ملی", "company_name": "نام شرکت",
    "legal_national_id": "شناسه ملی شرکت", "registration_number": "شماره ثبت", "organisation_name": "نام دستگاه",
    "letter_number": "شماره نامه معرفی", "name": "نام کسب‌وکار", "address": "نشانی", "postal_code": "کد پستی",
    "phone": "تلفن", "email": "رایانامه", "answering_hours": "ساعات پاسخگویی",
}


def _shown(name: str, value) -> str:
    import datetime as dt

    from ramis.common.jalali import jalali_date

    if value in (None, ""):
        return "—"
    if name == "persona":
        return Persona(value).label
    if name == "birth_date":
        return jalali_date(value if isinstance(value, dt.date) else dt.date.fromisoformat(value))
    return str(value)


def change_rows(ticket: Ticket) -> list[tuple[str, str, str]]:
    """(label, current value, requested value) for the staff to compare."""
    target = ticket.business if ticket.category == TicketCategory.BUSINESS_CHANGE else ticket.account
    return [(CHANGE_LABELS.get(name, name), _shown(name, getattr(target, name, "")), _shown(name, value))
            for name, value in ticket.change_data.items()]


def _superseded_rows(ticket: Ticket) -> list[tuple[str, str]]:
    """(label, the renewal's requested value) that approving this business change replaces."""
    if ticket.category != TicketCategory.BUSINESS_CHANGE or ticket.change_status != ChangeStatus.PENDING:
        return []
    pending = support_services.superseded_renewal_values(ticket.business, ticket.change_data)
    return [(CHANGE_LABELS.get(name, name), _shown(name, value)) for name, value in pending.items()]


def _staff_ticket(pk: int) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("account__user", "person", "business"), pk=pk)


@enamad_staff_required(role="tickets")
def tickets(request):
    name = request.GET.get("q", "open")
    if name not in support_selectors.STAFF_TICKET_QUEUES:
        name = "open"
    page, pager_query = page_of(request, support_selectors.staff_tickets(name), settings.ENAMAD_STAFF_PAGE_SIZE)
    return render(request, "enamad/staff/tickets.html", {
        "tickets": page.object_list, "page": page, "pager_query": pager_query, "queue": name,
        "queues": [(key, label) for key, (label, _) in support_selectors.STAFF_TICKET_QUEUES.items()],
    })


@enamad_staff_required(role="tickets")
def ticket(request, pk):
    obj = _staff_ticket(pk)
    return render(request, "enamad/staff/ticket.html", _ticket_context(request, obj))


def _ticket_context(request, obj, reply_form=None):
    user = request.user
    return {
        "ticket": obj, "thread": support_selectors.ticket_thread(obj), "account": obj.account,
        "reply_form": reply_form or TicketReplyForm(), "note_form": DecisionNoteForm(),
        "changes": change_rows(obj) if obj.is_change else [],
        "superseded": _superseded_rows(obj),
        "can_answer": user.has_perm("enamad.answer_ticket") and obj.status != TicketStatus.CLOSED,
        "can_change": (user.has_perm("enamad.approve_change") and obj.change_status == ChangeStatus.PENDING
                       and obj.status != TicketStatus.CLOSED),
        "audit": AuditEntry.objects.for_object(obj).order_by("-id")[:20],
    }


@enamad_staff_required(role="tickets")
@require_POST
def ticket_answer(request, pk):
    obj = _staff_ticket(pk)
    form = TicketReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "enamad/staff/ticket.html", _ticket_context(request, obj, form), status=400)
    try:
        support_services.ticket_answer(ticket_id=obj.pk, actor=request.user, body=form.cleaned_data["body"],
                               attachments=form.attachment_list(), ctx=audit_context(request))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except PermissionDenied:
        messages.error(request, "اجازه پاسخ به تیکت‌ها را ندارید.")
    else:
        messages.success(request, "پاسخ ثبت شد و به متقاضی پیامک و رایانامه شد.")
    return redirect("enamad:staff_ticket", pk)


TICKET_ACTIONS = {
    "approve": (support_services.ticket_approve_change, "درخواست تغییر تأیید و اعمال شد."),
    "reject": (support_services.ticket_reject_change, "درخواست تغییر رد شد."),
    "close": (support_services.ticket_close, "تیکت بسته شد."),
}


@enamad_staff_required(role="tickets")
@require_POST
def ticket_action(request, pk, name):
    if name not in TICKET_ACTIONS:
        raise Http404
    service, done = TICKET_ACTIONS[name]
    obj = _staff_ticket(pk)
    kwargs = {}
    if name in {"approve", "reject"}:
        form = DecisionNoteForm(request.POST)
        form.is_valid()
        kwargs["note"] = form.cleaned_data.get("note", "")
    take_step(request, lambda: service(ticket_id=obj.pk, actor=request.user, ctx=audit_context(request), **kwargs),
              done)
    return redirect("enamad:staff_ticket", pk)


@enamad_staff_required(role="tickets")
def ticket_attachment(request, pk):
    return serve_private(get_object_or_404(TicketAttachment, pk=pk).file)
