"""Reads of business files that several pages share: the holder's own file, the staff queues (STYLE 4–5)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from enamad.accounts.models import Account
from enamad.businesses.models import Business, BusinessStatus


def get_business_for_account(account: Account, pk: int) -> Business:
    """The account's own business, or 404 for anyone else's (STYLE 5)."""
    business = (Business.objects.select_related("account__user", "service__category", "seal")
                .filter(pk=pk, account=account).first())
    if business is None:
        raise Http404
    return business


def get_business_for_staff(pk: int) -> Business:
    """Any business, for the staff desk's file pages (the desk's guard decided who opens them)."""
    return get_object_or_404(Business.objects.select_related("account__user", "service__category", "survey"), pk=pk)


STAFF_QUEUES = {
    "review": (BusinessStatus.UNDER_REVIEW,),
    "documents": (BusinessStatus.PHYSICAL_DOCUMENTS, BusinessStatus.DOCUMENTS_REJECTED),
    "manager": (BusinessStatus.MANAGER_REVIEW,),
    "sealed": (BusinessStatus.APPROVED, BusinessStatus.SUSPENDED, BusinessStatus.EXPIRED, BusinessStatus.REVOKED),
}


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
