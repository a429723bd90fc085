"""Reads that several views share (STYLE 4–5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from .models import (
    OPEN_COMPLAINT_STATES,
    Account,
    Business,
    BusinessStatus,
    ChangeStatus,
    Complaint,
    ComplaintStatus,
    Seal,
    Ticket,
    TicketMessage,
    TicketStatus,
    seal_vouches,
)

SEAL_CACHE_SECONDS = 60
# ASCII digits only: ``str.isdigit`` also accepts "²" or "۳", which ``int`` then refuses or reads.
_SEAL_NUMBER_RE = re.compile(r"[0-9]{1,12}")
_SEAL_CODE_RE = re.compile(r"[A-Za-z0-9]{32}")


def seal_cache_key(number: int | str, code: str) -> str:
    return f"enamad:seal:v2:{number}:{code}"


@dataclass(frozen=True)
class SealFacts:
    """What the logo endpoint needs, cached for a minute: the hottest path does no query on a hit."""

    number: int
    domain: str
    status: str
    renewing: bool
    stars: int
    expires_at: datetime

    @property
    def active(self) -> bool:
        return seal_vouches(status=self.status, renewing=self.renewing, expires_at=self.expires_at)


def seal_facts(number: str, code: str) -> SealFacts | None:
    """One query on a cache miss, none on a hit; ``None`` for an unknown id/code pair."""
    if not _SEAL_NUMBER_RE.fullmatch(number) or not _SEAL_CODE_RE.fullmatch(code):
        return None
    key = seal_cache_key(number, code)
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    row = (Seal.objects.filter(number=int(number), code=code)
           .values_list("number", "business__domain", "business__status", "business__renewing", "stars",
                        "expires_at").first())
    facts = SealFacts(*row) if row else None
    cache.set(key, facts or False, SEAL_CACHE_SECONDS)
    return facts


def seal_for_page(number: str, code: str) -> Seal:
    if not _SEAL_NUMBER_RE.fullmatch(number):
        raise Http404
    seal = (Seal.objects.select_related("business__account", "business__account__user")
            .filter(number=int(number), code=code).first())
    if seal is None:
        raise Http404
    return seal


def account_for_user(user) -> Account | None:
    return getattr(user, "enamad_account", None) if user.is_authenticated else None


def get_business_for_account(account: Account, pk: int) -> Business:
    """The account's own business, or 404 for anyone else's (STYLE 5)."""
    business = (Business.objects.select_related("account__user", "service__category", "seal")
                .filter(pk=pk, account=account).first())
    if business is None:
        raise Http404
    return business


def registry_search(query: str) -> QuerySet[Seal]:
    """The public registry (N1): seals in force, searchable by domain or business name."""
    seals = Seal.objects.public().select_related("business").order_by("business__domain")
    query = (query or "").strip().lower()
    if query:
        from .domains import normalize_domain

        try:
            domain = normalize_domain(query)
        except Exception:
            domain = query
        seals = seals.filter(Q(business__domain__icontains=domain) | Q(business__name__icontains=query))
    return seals


STAFF_QUEUES = {
    "review": (BusinessStatus.UNDER_REVIEW,),
    "documents": (BusinessStatus.PHYSICAL_DOCUMENTS, BusinessStatus.DOCUMENTS_REJECTED),
    "manager": (BusinessStatus.MANAGER_REVIEW,),
    "sealed": (BusinessStatus.APPROVED, BusinessStatus.SUSPENDED, BusinessStatus.EXPIRED, BusinessStatus.REVOKED),
}


# The parts of the staff desk and who opens them: the business files (queue, file page,
# identity documents, licences) to those who review files, tickets to ticket staff, complaints
# (with the complainant's contact details) to those who handle complaints. Any of these opens
# the dashboard.
DESK_ROLES = {
    "files": ("enamad.review_business", "enamad.review_documents", "enamad.approve_business"),
    "tickets": ("enamad.answer_ticket", "enamad.approve_change"),
    "complaints": ("enamad.handle_complaint",),
}


def desk_roles(user) -> dict[str, bool]:
    return {role: any(user.has_perm(perm) for perm in perms) for role, perms in DESK_ROLES.items()}


def default_queue(user) -> str:
    """The files tab a staff member's desk opens on: the expert's review, the manager's final
    review, the document officer's physical documents."""
    if user.has_perm("enamad.review_business"):
        return "review"
    if user.has_perm("enamad.approve_business"):
        return "manager"
    if user.has_perm("enamad.review_documents"):
        return "documents"
    return "review"


def staff_queue_counts() -> dict[str, int]:
    """How many files each tab of the staff desk holds: one query."""
    return Business.objects.aggregate(**{name: Count("pk", filter=Q(status__in=states))
                                         for name, states in STAFF_QUEUES.items()})


def staff_queue(queue: str) -> QuerySet[Business]:
    states = STAFF_QUEUES.get(queue, STAFF_QUEUES["review"])
    return (Business.objects.filter(status__in=states).select_related("account")
            .order_by("sent_at", "id"))


# --- tickets and complaints (N19, N20, N23) ----------------------------------------------------


def tickets_for_account(account: Account) -> QuerySet[Ticket]:
    return (Ticket.objects.for_account(account).select_related("business")
            .annotate(message_count=Count("messages")).order_by("-last_message_at"))


def get_ticket_for_account(account: Account, pk: int) -> Ticket:
    ticket = Ticket.objects.select_related("account__user", "business").filter(pk=pk, account=account).first()
    if ticket is None:
        raise Http404
    return ticket


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
    return Ticket.objects.filter(condition).select_related("account", "business").order_by(order, "id")


def complaints_for_account(account: Account) -> QuerySet[Complaint]:
    return Complaint.objects.filter(business__account=account).select_related("business").order_by(
        "-created_at")


def get_complaint_for_account(account: Account, pk: int) -> Complaint:
    complaint = (Complaint.objects.select_related("business__account")
                 .filter(pk=pk, business__account=account).first())
    if complaint is None:
        raise Http404
    return complaint


STAFF_COMPLAINT_QUEUES = {
    "overdue": ("بی‌پاسخ در مهلت", Q(status=ComplaintStatus.OVERDUE)),
    "answered": ("پاسخ داده‌شده", Q(status=ComplaintStatus.ANSWERED)),
    "awaiting": ("در مهلت پاسخ", Q(status=ComplaintStatus.AWAITING_ANSWER)),
    "closed": ("رسیدگی‌شده", Q(status__in=[ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED])),
}


def staff_complaints(queue: str, business_id: int | None = None) -> QuerySet[Complaint]:
    _, condition = STAFF_COMPLAINT_QUEUES.get(queue, STAFF_COMPLAINT_QUEUES["overdue"])
    qs = Complaint.objects.filter(condition)
    if business_id:
        qs = qs.filter(business_id=business_id)
    return qs.select_related("business").order_by("answer_due_at", "id")


def complaint_counts(business: Business) -> dict[str, int]:
    """Complaint counts per status for the staff business page (N23), in one query."""
    rows = dict(business.complaints.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    counts = {status: rows.get(status, 0) for status in ComplaintStatus.values}
    counts["total"] = sum(rows.values())
    counts["open"] = sum(rows.get(s, 0) for s in OPEN_COMPLAINT_STATES)
    return counts
