"""Reads of seals that several pages share: the logo's cached facts, the seal page, the public registry (N1, N16, N17)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404

from enamad.businesses.domains import normalize_domain
from enamad.businesses.models import seal_vouches
from enamad.seals.models import Seal

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


# This process's own copy of the facts it read, per cache key: (monotonic deadline, facts or None).
# The shared cache costs a round trip to Redis (or a pickle of the local one) per logo; this costs a
# dict lookup, for ENAMAD_SEAL_MEMO_MS at most. ``forget_seal`` drops the committing process's copy
# with the shared one; the other processes' copies lapse within that bound.
_memo: dict[str, tuple[float, SealFacts | None]] = {}
MEMO_MAX_ENTRIES = 10_000  # then it starts afresh: unknown id/code pairs cannot grow it without bound


def forget_memo(key: str | None = None) -> None:
    """Drop this process's copy of one seal's facts (by cache key), or of all of them."""
    if key is None:
        _memo.clear()
    else:
        _memo.pop(key, None)


def seal_facts(number: str, code: str) -> SealFacts | None:
    """None of the database on a hit (this process's copy, then the shared cache), one query on a
    miss; ``None`` for an unknown id/code pair."""
    if not _SEAL_NUMBER_RE.fullmatch(number) or not _SEAL_CODE_RE.fullmatch(code):
        return None
    key = seal_cache_key(number, code)
    now = time.monotonic()
    kept = _memo.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    cached = cache.get(key)
    if cached is not None:
        facts = cached or None
    else:
        row = (Seal.objects.filter(number=int(number), code=code)
               .values_list("number", "business__domain", "business__status", "business__renewing", "stars",
                            "expires_at").first())
        facts = SealFacts(*row) if row else None
        cache.set(key, facts or False, SEAL_CACHE_SECONDS)
    if settings.ENAMAD_SEAL_MEMO_MS > 0:
        if len(_memo) >= MEMO_MAX_ENTRIES:
            _memo.clear()
        _memo[key] = (now + settings.ENAMAD_SEAL_MEMO_MS / 1000, facts)
    return facts


def seal_for_page(number: str, code: str) -> Seal:
    if not _SEAL_NUMBER_RE.fullmatch(number):
        raise Http404
    seal = (Seal.objects.select_related("business__account", "business__account__user")
            .filter(number=int(number), code=code).first())
    if seal is None:
        raise Http404
    return seal


def registry_search(query: str) -> QuerySet[Seal]:
    """The public registry (N1): seals in force, searchable by domain or business name."""
    seals = Seal.objects.public().select_related("business").order_by("business__domain")
    query = (query or "").strip().lower()
    if query:
        try:
            domain = normalize_domain(query)
        except Exception:
            domain = query
        seals = seals.filter(Q(business__domain__icontains=domain) | Q(business__name__icontains=query))
    return seals
