"""Reads of complaints that several pages share (N23)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from enamad.accounts.models import Account
from enamad.businesses.models import Business
from enamad.complaints.models import OPEN_COMPLAINT_STATES, Complaint, ComplaintStatus


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
