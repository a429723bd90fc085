"""Figures for the e-Namad staff dashboard: a fixed number of aggregate queries, whatever the
number of files. Months are Jalali months in Tehran time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import jdatetime
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from enamad.businesses.models import Business, BusinessStatus, Review, seal_in_force_q
from enamad.complaints.models import Complaint, ComplaintStatus
from enamad.seals.models import Seal
from enamad.support.models import ChangeStatus, Ticket, TicketStatus
from ramis.common.jalali import MONTHS, TEHRAN

# Stages where a file waits, and for whom.
WAITING_STAGES = [
    (BusinessStatus.UNDER_REVIEW, "کارشناس"),
    (BusinessStatus.DEFICIENT, "متقاضی (رفع نقص)"),
    (BusinessStatus.PHYSICAL_DOCUMENTS, "واحد مدارک"),
    (BusinessStatus.DOCUMENTS_REJECTED, "متقاضی (ارسال دوباره مدارک)"),
    (BusinessStatus.MANAGER_REVIEW, "مدیر"),
]
DEFICIENCY_WINDOW_DAYS = 90


def jalali_month_start(year: int, month: int) -> dt.datetime:
    """Midnight in Tehran on the first day of a Jalali month, as an aware datetime."""
    while month > 12:
        year, month = year + 1, month - 12
    gregorian = jdatetime.date(year, month, 1).togregorian()
    return dt.datetime(gregorian.year, gregorian.month, gregorian.day, tzinfo=TEHRAN)


def jalali_month_bounds(now: dt.datetime, offset: int = 0) -> tuple[dt.datetime, dt.datetime, str]:
    """[start, end) of the Jalali month ``offset`` months after the one containing ``now``, and its name."""
    today = jdatetime.date.fromgregorian(date=now.astimezone(TEHRAN).date())
    index = today.month - 1 + offset
    year, month = today.year + index // 12, index % 12 + 1
    start = jalali_month_start(year, month)
    end = jalali_month_start(year, month + 1)
    from ramis.common.digits import to_persian_digits

    return start, end, f"{MONTHS[month - 1]} {to_persian_digits(year)}"


@dataclass
class Stage:
    status: str
    label: str
    waiting_for: str
    count: int
    oldest: dt.datetime | None

    @property
    def days(self) -> int | None:
        return None if self.oldest is None else (timezone.now() - self.oldest).days


@dataclass
class Dashboard:
    per_status: list[tuple[str, str, int]] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    reviews_total: int = 0
    reviews_deficient: int = 0
    month_name: str = ""
    expiring_this_month: int = 0
    expiring_list: list = field(default_factory=list)
    expiring_by_month: list[tuple[str, int]] = field(default_factory=list)
    complaints: dict[str, int] = field(default_factory=dict)
    oldest_overdue_complaint: dt.datetime | None = None
    tickets: dict[str, int] = field(default_factory=dict)
    oldest_open_ticket: dt.datetime | None = None
    seals_in_force: int = 0
    monitor: dict[str, int] = field(default_factory=dict)

    @property
    def deficiency_rate(self) -> float | None:
        return self.reviews_deficient / self.reviews_total if self.reviews_total else None


def dashboard(now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    board = Dashboard()
    # 1. files per status (one query)
    counts = dict(Business.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    board.per_status = [(value, label, counts.get(value, 0)) for value, label in BusinessStatus.choices]
    # 2. oldest waiting per stage (one query): since the file entered its current state
    since = Coalesce("status_changed_at", "sent_at", "updated_at")
    rows = {row["status"]: row for row in Business.objects.filter(status__in=[s for s, _ in WAITING_STAGES])
            .values("status").annotate(n=Count("id"), oldest=Min(since))}
    board.stages = [Stage(status, BusinessStatus(status).label, who, rows.get(status, {}).get("n", 0),
                          rows.get(status, {}).get("oldest")) for status, who in WAITING_STAGES]
    # 3. deficiency rate over the last 90 days (one query)
    reviews = Review.objects.filter(created_at__gte=now - dt.timedelta(days=DEFICIENCY_WINDOW_DAYS)).aggregate(
        total=Count("id"), deficient=Count("id", filter=Q(outcome=Review.Outcome.DEFICIENT)))
    board.reviews_total, board.reviews_deficient = reviews["total"], reviews["deficient"]
    # 4. seals expiring this Jalali month and the next five (one query), the list for this month (one)
    in_force = Seal.objects.filter(seal_in_force_q("business__", now))
    months = [jalali_month_bounds(now, offset) for offset in range(6)]
    aggregates = in_force.aggregate(
        total=Count("id"), **{f"m{i}": Count("id", filter=Q(expires_at__gte=max(start, now), expires_at__lt=end))
                              for i, (start, end, _) in enumerate(months)})
    board.seals_in_force = aggregates["total"]
    board.expiring_by_month = [(name, aggregates[f"m{i}"]) for i, (_, _, name) in enumerate(months)]
    start, end, board.month_name = months[0]
    board.expiring_this_month = aggregates["m0"]
    board.expiring_list = list(in_force.filter(expires_at__gte=now, expires_at__lt=end)
                               .select_related("business").order_by("expires_at")[:20])
    # 5. complaints and tickets (one query each)
    complaint_rows = Complaint.objects.aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in ComplaintStatus.values},
        oldest_overdue=Min("answer_due_at", filter=Q(status=ComplaintStatus.OVERDUE)))
    board.oldest_overdue_complaint = complaint_rows.pop("oldest_overdue")
    board.complaints = complaint_rows
    board.complaints["open"] = sum(complaint_rows[s] for s in (ComplaintStatus.AWAITING_ANSWER,
                                                                 ComplaintStatus.ANSWERED, ComplaintStatus.OVERDUE))
    ticket_rows = Ticket.objects.aggregate(
        open=Count("id", filter=Q(status=TicketStatus.OPEN)),
        answered=Count("id", filter=Q(status=TicketStatus.ANSWERED)),
        changes=Count("id", filter=Q(change_status=ChangeStatus.PENDING) & ~Q(status=TicketStatus.CLOSED)),
        oldest_open=Min("last_message_at", filter=Q(status=TicketStatus.OPEN)))
    board.oldest_open_ticket = ticket_rows.pop("oldest_open")
    board.tickets = ticket_rows
    # 6. monitoring at a glance (one query)
    board.monitor = Seal.objects.monitored().aggregate(
        one_star=Count("id", filter=Q(stars=1)), unreachable=Count("id", filter=Q(reachable=False)),
        lapsed=Count("id", filter=Q(domain_failing_since__isnull=False)),
        suspended=Count("id", filter=Q(suspended_by_monitor=True)))
    return board
