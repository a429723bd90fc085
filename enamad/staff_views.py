"""Staff desk for e-Namad experts, document officers and managers (N12, N14, N15): the review
with a verdict per checklist item, which the Django admin would make clumsy."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields.files import FieldFile
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_fsm import can_proceed, has_transition_perm

from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.common.paging import page_of
from ramis.common.uploads import serve_private

from . import charts
from .businesses import selectors as business_selectors
from .businesses import services as business_services
from .complaints import selectors as complaint_selectors
from .complaints import services as complaint_services
from .dashboard import DEFICIENCY_WINDOW_DAYS
from .dashboard import dashboard as dashboard_figures
from .decorators import enamad_staff_required
from .forms import ComplaintDecisionForm, DecisionNoteForm, RejectForm, ReviewForm, TicketReplyForm
from .models import (
    OPEN_COMPLAINT_STATES,
    Business,
    BusinessStatus,
    ChangeStatus,
    ChecklistItem,
    Complaint,
    ComplaintAttachment,
    IdentityDocument,
    Persona,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketStatus,
)
from .seals import services as seal_services
from .support import selectors as support_selectors
from .support import services as support_services

QUEUE_LABELS = [("review", "بررسی کارشناس"), ("documents", "مدارک فیزیکی"), ("manager", "بررسی مدیر"),
                ("sealed", "نمادها")]


@enamad_staff_required(role="files")
def queue(request):
    name = request.GET.get("q") or business_selectors.default_queue(request.user)
    if name not in business_selectors.STAFF_QUEUES:
        name = business_selectors.default_queue(request.user)
    page, pager_query = page_of(request, business_selectors.staff_queue(name), settings.ENAMAD_STAFF_PAGE_SIZE)
    counts = business_selectors.staff_queue_counts()
    return render(request, "enamad/staff/queue.html", {
        "businesses": page.object_list, "page": page, "pager_query": pager_query, "queue": name,
        "queues": [(k, label, counts[k]) for k, label in QUEUE_LABELS]})


def _business(pk: int) -> Business:
    return get_object_or_404(Business.objects.select_related("account__user", "service__category", "survey"), pk=pk)


@enamad_staff_required(role="files")
def business(request, pk):
    obj = _business(pk)
    items = list(ChecklistItem.objects.filter(active=True))
    review_form = ReviewForm(items=items)
    return render(request, "enamad/staff/business.html", _context(request, obj, review_form))


def _may(obj, name: str, user) -> bool:
    """The transition's own source, conditions and permission decide which buttons show."""
    method = getattr(obj, name)
    return can_proceed(method) and has_transition_perm(method, user)


def _context(request, obj, review_form, reject_form=None):
    user = request.user
    return {
        "business": obj, "account": obj.account, "review_form": review_form, "reject_form": reject_form or RejectForm(),
        "documents": obj.account.documents.all(), "reviews": obj.reviews.prefetch_related("items__item"),
        "audit": AuditEntry.objects.for_object(obj).order_by("-id")[:30], "seal": getattr(obj, "seal", None),
        "can_review": user.has_perm("enamad.review_business") and obj.status == BusinessStatus.UNDER_REVIEW,
        "can_documents": user.has_perm("enamad.review_documents") and obj.status == BusinessStatus.PHYSICAL_DOCUMENTS,
        "can_manage": user.has_perm("enamad.approve_business"),
        # A seal that vouches may be suspended also while its renewal is under review.
        # A seal the monitor suspended may be kept suspended by staff (the monitor then leaves it).
        "can_take_over": seal_services.monitor_suspension_can_be_taken_over(obj, getattr(obj, "seal", None), user),
        "can_suspend": _may(obj, "suspend", user), "can_reinstate": _may(obj, "reinstate", user),
        "can_revoke": _may(obj, "revoke", user), "can_reject_renewal": _may(obj, "reject_renewal", user),
        "renewal_form": RejectForm(),
        "BusinessStatus": BusinessStatus,
        "complaint_counts": complaint_selectors.complaint_counts(obj),
        "tickets": obj.tickets.order_by("-last_message_at")[:10],
        "monitor_seal": getattr(obj, "seal", None),
    }


@enamad_staff_required(role="files")
@require_POST
def review(request, pk):
    obj = _business(pk)
    items = list(ChecklistItem.objects.filter(active=True))
    form = ReviewForm(request.POST, items=items)
    if form.is_valid():
        try:
            result = business_services.business_review(
                business_id=obj.pk, actor=request.user, results=form.results(), note=form.cleaned_data["note"],
                ask_activity_change=form.cleaned_data["ask_activity_change"], ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:staff_business", pk)
        else:
            if result.outcome == result.Outcome.APPROVED:
                messages.success(request, "وب‌سایت تأیید شد؛ پرونده به مرحله بررسی مدارک فیزیکی رفت.")
            else:
                messages.warning(request, "نقص اعلام شد و پرونده به متقاضی بازگشت.")
            return redirect("enamad:staff_business", pk)
    return render(request, "enamad/staff/business.html", _context(request, obj, form), status=400)


ACTIONS = {
    "documents_received": (business_services.business_documents_received, False, "دریافت مدارک ثبت شد."),
    "accept_documents": (business_services.business_accept_documents, False, "مدارک فیزیکی تأیید شد؛ پرونده نزد مدیر است."),
    "reject_documents": (business_services.business_reject_documents, True, "عدم تأیید مدارک فیزیکی ثبت شد."),
    "final_approve": (seal_services.business_final_approve, False, "تأیید نهایی انجام شد و نماد صادر شد."),
    "return_to_expert": (business_services.business_return_to_expert, True, "پرونده به کارشناس بازگشت."),
    "suspend": (seal_services.business_suspend, True, "نماد تعلیق شد."),
    "reinstate": (seal_services.business_reinstate, False, "تعلیق نماد برداشته شد."),
    "revoke": (seal_services.business_revoke, True, "نماد ابطال شد."),
    "release_domain": (business_services.business_release_domain, True, "تأییدیه فنی دامنه آزاد شد و به متقاضی خبر داده شد."),
    "reject_renewal": (seal_services.business_reject_renewal, True,
                       "درخواست تمدید رد شد؛ نماد تا تاریخ انقضای خود معتبر است و به متقاضی خبر داده شد."),
}


@enamad_staff_required(role="files")
@require_POST
def action(request, pk, name):
    if name not in ACTIONS:
        raise Http404
    service, needs_reason, done = ACTIONS[name]
    obj = _business(pk)
    kwargs = {}
    if needs_reason:
        form = RejectForm(request.POST)
        if not form.is_valid():
            if name == "reject_renewal":  # its own form: the error goes next to its field
                review_form = ReviewForm(items=list(ChecklistItem.objects.filter(active=True)))
                context = {**_context(request, obj, review_form), "renewal_form": form}
                return render(request, "enamad/staff/business.html", context, status=400)
            messages.error(request, "دلیل را بنویسید.")
            return redirect("enamad:staff_business", pk)
        kwargs["reason"] = form.cleaned_data["reason"]
    try:
        service(business_id=obj.pk, actor=request.user, ctx=audit_context(request), **kwargs)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        messages.error(request, "اجازه این کار را ندارید.")
        return redirect("enamad:staff_business", pk)
    else:
        messages.success(request, done)
    return redirect("enamad:staff_business", pk)


@enamad_staff_required(role="files")
def document(request, pk):
    return serve_private(get_object_or_404(IdentityDocument, pk=pk).file)


@enamad_staff_required(role="files")
def licence(request, pk):
    obj = _business(pk)
    service = getattr(obj, "service", None)
    if service is not None and request.GET.get("requested"):  # the image a renewal waits to put on file
        name = obj.pending_changes.get("service", {}).get("licence_file")
        if not name:
            raise Http404
        return serve_private(FieldFile(service, service.licence_file.field, name))
    if not (service and service.licence_file):
        raise Http404
    return serve_private(service.licence_file)


# --- tickets (N19, N20) ------------------------------------------------------------------------

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
    try:
        service(ticket_id=obj.pk, actor=request.user, ctx=audit_context(request), **kwargs)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        messages.error(request, "اجازه این کار را ندارید.")
    else:
        messages.success(request, done)
    return redirect("enamad:staff_ticket", pk)


@enamad_staff_required(role="tickets")
def ticket_attachment(request, pk):
    return serve_private(get_object_or_404(TicketAttachment, pk=pk).file)


# --- complaints (N23) --------------------------------------------------------------------------


def _staff_complaint(pk: int) -> Complaint:
    return get_object_or_404(Complaint.objects.select_related("business__account", "decided_by"), pk=pk)


@enamad_staff_required(role="complaints")
def complaints(request):
    name = request.GET.get("q", "overdue")
    if name not in complaint_selectors.STAFF_COMPLAINT_QUEUES:
        name = "overdue"
    business_id = request.GET.get("business")
    business_id = int(business_id) if business_id and business_id.isdigit() else None
    page, pager_query = page_of(request, complaint_selectors.staff_complaints(name, business_id),
                                settings.ENAMAD_STAFF_PAGE_SIZE)
    return render(request, "enamad/staff/complaints.html", {
        "complaints": page.object_list, "page": page, "pager_query": pager_query, "queue": name,
        "business_id": business_id,
        "queues": [(key, label) for key, (label, _) in complaint_selectors.STAFF_COMPLAINT_QUEUES.items()],
    })


def _complaint_context(request, obj, form=None):
    return {
        "complaint": obj, "business": obj.business, "attachments": obj.attachments.all(),
        "form": form or ComplaintDecisionForm(),
        "can_decide": request.user.has_perm("enamad.handle_complaint") and obj.status in OPEN_COMPLAINT_STATES,
        "counts": complaint_selectors.complaint_counts(obj.business), "BusinessStatus": BusinessStatus,
        "audit": AuditEntry.objects.for_object(obj).order_by("-id")[:20],
    }


@enamad_staff_required(role="complaints")
def complaint(request, pk):
    obj = _staff_complaint(pk)
    if request.method == "POST":
        form = ComplaintDecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint_services.complaint_decide(complaint_id=obj.pk, actor=request.user,
                                          upheld=data["outcome"] == "upheld", note=data["note"],
                                          suspend_seal=data["suspend_seal"], ctx=audit_context(request))
            except InvalidTransition as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            except PermissionDenied:
                messages.error(request, "اجازه رسیدگی به شکایت‌ها را ندارید.")
            else:
                messages.success(request, "نتیجه رسیدگی ثبت و به خریدار و فروشنده اعلام شد.")
                return redirect("enamad:staff_complaint", pk)
        return render(request, "enamad/staff/complaint.html", _complaint_context(request, obj, form), status=400)
    return render(request, "enamad/staff/complaint.html", _complaint_context(request, obj))


@enamad_staff_required(role="complaints")
def complaint_attachment(request, pk):
    return serve_private(get_object_or_404(ComplaintAttachment, pk=pk).file)


# --- dashboard ---------------------------------------------------------------------------------


@enamad_staff_required
def dashboard(request):
    board = dashboard_figures()
    status_chart = charts.bar_chart([(label, n) for _, label, n in board.per_status], title="پرونده‌ها به تفکیک وضعیت")
    expiring_chart = charts.column_chart(board.expiring_by_month, title="نمادهایی که در ماه‌های پیش رو منقضی می‌شوند")
    stage_chart = charts.bar_chart([(s.label, s.days or 0) for s in board.stages],
                                   title="قدیمی‌ترین انتظار در هر مرحله (روز)")
    deficiency_chart = charts.donut(board.deficiency_rate, title="نرخ اعلام نقص", caption="اعلام نقص")
    return render(request, "enamad/staff/dashboard.html", {
        "board": board, "status_chart": status_chart, "expiring_chart": expiring_chart,
        "stage_chart": stage_chart, "deficiency_chart": deficiency_chart,
        "window_days": DEFICIENCY_WINDOW_DAYS, "now": timezone.now(),
    })
