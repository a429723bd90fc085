"""The public face of a seal (N16, N17, N22): the logo that shops embed and the page it links to.

The logo is the hottest endpoint: no per-request rendering (the images are static files read
once), at most one query on a cache miss and none on a hit, and cacheable by browsers.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import selectors
from .domains import display_domain, host_matches, request_site_host
from .models import BusinessStatus, seal_vouches

SEAL_DIR = settings.BASE_DIR / "static" / "enamad" / "seal"
_IMAGES: dict[str, bytes] = {}
LOGO_MAX_AGE = 300


def _image(name: str) -> bytes:
    data = _IMAGES.get(name)
    if data is None:
        data = _IMAGES[name] = (SEAL_DIR / f"{name}.svg").read_bytes()
    return data


def logo_variant(facts: selectors.SealFacts | None, site_host: str | None) -> str:
    if facts is None or not host_matches(site_host, facts.domain):
        return "invalid"
    if facts.active:
        return f"stars-{min(max(facts.stars, 1), 2)}"
    if facts.status == BusinessStatus.SUSPENDED:
        return "suspended"
    if facts.status in {BusinessStatus.APPROVED, BusinessStatus.EXPIRED}:
        return "expired"
    return "invalid"


def logo(request):
    facts = selectors.seal_facts(request.GET.get("id", ""), request.GET.get("Code", ""))
    variant = logo_variant(facts, request_site_host(request))
    response = HttpResponse(_image(variant), content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={LOGO_MAX_AGE}"
    response["Vary"] = "Origin, Referer"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Seal-Variant"] = variant
    return response


def page(request):
    seal = selectors.seal_for_page(request.GET.get("id", ""), request.GET.get("Code", ""))
    business = seal.business
    referrer = request_site_host(request)
    own_host = request.get_host().rsplit(":", 1)[0]
    foreign = bool(referrer) and referrer != own_host and not host_matches(referrer, business.domain)
    now = timezone.now()
    return render(request, "enamad/seal_page.html", {
        "seal": seal, "business": business, "account": business.account, "foreign_host": referrer if foreign else "",
        "active": seal_vouches(status=business.status, renewing=business.renewing, expires_at=seal.expires_at, now=now),
        "domain_display": display_domain(business.domain), "support_hours": settings.ENAMAD_SUPPORT_HOURS,
        "stars": range(seal.stars),
    })
