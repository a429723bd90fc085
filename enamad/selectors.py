"""Reads that several views share (STYLE 4–5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Account, Business, BusinessStatus, Seal, seal_vouches

SEAL_CACHE_SECONDS = 60


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
    if not number.isdigit() or len(number) > 12 or len(code) != 32 or not code.isalnum():
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
    if not number.isdigit() or len(number) > 12:
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


def staff_queue(queue: str) -> QuerySet[Business]:
    states = STAFF_QUEUES.get(queue, STAFF_QUEUES["review"])
    return (Business.objects.filter(status__in=states).select_related("account")
            .order_by("sent_at", "id"))
