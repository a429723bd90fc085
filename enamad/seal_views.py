"""The public face of a seal (N16, N17, N22): the logo that shops embed and the page it links to.

The logo is the hottest endpoint: no per-request rendering (the images are static files read
once), at most one query on a cache miss and none on a hit, and cacheable by browsers.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ramis.common import throttle
from ramis.common.client_ip import client_ip
from ramis.common.context import audit_context

from .complaints import services as complaint_services
from .domains import display_domain, host_matches, request_site_host
from .forms import ComplaintForm, ComplaintLookupForm
from .models import BusinessStatus, Complaint, seal_vouches
from .seals import selectors as seal_selectors

SEAL_DIR = settings.BASE_DIR / "static" / "enamad" / "seal"
_IMAGES: dict[str, bytes] = {}
LOGO_MAX_AGE = 300


def _image(name: str) -> bytes:
    data = _IMAGES.get(name)
    if data is None:
        data = _IMAGES[name] = (SEAL_DIR / f"{name}.svg").read_bytes()
    return data


def logo_variant(facts: seal_selectors.SealFacts | None, site_host: str | None) -> str:
    if facts is None or not host_matches(site_host, facts.domain):
        return "invalid"
    if facts.active:
        return f"stars-{min(max(facts.stars, 1), 2)}"
    if facts.status == BusinessStatus.SUSPENDED:
        return "suspended"
    if facts.status in {BusinessStatus.APPROVED, BusinessStatus.EXPIRED} or facts.renewing:
        return "expired"
    return "invalid"


def _logo_query(request) -> tuple[str, str]:
    """``id`` and ``Code`` as ``request.GET.get`` reads them (the last of each), by the parser Django's
    QueryDict uses but without building one: on this endpoint the QueryDict cost more than the rest
    of the view. Too many fields (more than Django accepts) read as none: the "not valid" image."""
    try:
        fields = dict(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True,
                                max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    except ValueError:
        return "", ""
    return fields.get("id", ""), fields.get("Code", "")


def logo(request):
    facts = seal_selectors.seal_facts(*_logo_query(request))
    variant = logo_variant(facts, request_site_host(request))
    response = HttpResponse(_image(variant), content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={LOGO_MAX_AGE}"
    response["Vary"] = "Origin, Referer"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Seal-Variant"] = variant
    return response


def invalid_seal(request) -> HttpResponse:
    """A wrong, forged or withdrawn seal link: a plain Persian page (status 404) that says this
    seal is not valid and names no business, so a forger learns nothing from it."""
    return render(request, "enamad/seal_invalid.html", status=404)


def page(request):
    try:
        seal = seal_selectors.seal_for_page(request.GET.get("id", ""), request.GET.get("Code", ""))
    except Http404:
        return invalid_seal(request)
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


# --- complaints from the seal page (N23) -------------------------------------------------------


def complaint(request):
    """Anyone can complain about a seal holder from its seal page; captcha and a per-address
    limit keep it from being flooded."""
    try:
        seal = seal_selectors.seal_for_page(request.GET.get("id", ""), request.GET.get("Code", ""))
    except Http404:
        return invalid_seal(request)
    form = ComplaintForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request) or "unknown"
        try:
            allowed = throttle.hit(f"enamad-complaint:{ip}", limit=10, window=3600)
        except throttle.Unavailable as exc:  # fails closed: the form stays, with the reason
            allowed = False
            form.add_error(None, exc.message)
        else:
            if not allowed:
                messages.error(request, "تعداد شکایت‌های ثبت‌شده از این نشانی بیش از حد مجاز است؛ بعداً تلاش کنید.")
        if allowed:
            data = {k: v for k, v in form.cleaned_data.items() if k not in {"attachments", "captcha"}}
            try:
                filed = complaint_services.complaint_file(seal_id=seal.pk, data=data,
                                                attachments=form.cleaned_data["attachments"], ctx=audit_context(request))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                request.session["enamad_complaint"] = filed.tracking_code
                return redirect(f"{reverse('seal:complaint_filed')}?code={filed.tracking_code}")
    return render(request, "enamad/complaint_form.html", {
        "seal": seal, "business": seal.business, "form": form,
        "hours": settings.ENAMAD_COMPLAINT_ANSWER_HOURS,
    })


def complaint_filed(request):
    code = request.GET.get("code", "")
    if not code or request.session.get("enamad_complaint") != code:
        raise Http404
    filed = Complaint.objects.select_related("business").get(tracking_code=code)
    return render(request, "enamad/complaint_filed.html", {"complaint": filed})


def complaint_status(request):
    """The buyer follows a complaint with its tracking code and the mobile it was filed with."""
    form = ComplaintLookupForm(request.POST if request.method == "POST" else None, initial={"code": request.GET.get("code", "")})
    found = None
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request) or "unknown"
        try:
            allowed = throttle.hit(f"enamad-complaint-lookup:{ip}", limit=30, window=3600)
        except throttle.Unavailable as exc:
            allowed = False
            form.add_error(None, exc.message)
        else:
            if not allowed:
                form.add_error(None, "تعداد درخواست‌ها بیش از حد مجاز است؛ بعداً تلاش کنید.")
        if allowed:
            found = (Complaint.objects.select_related("business")
                     .filter(tracking_code=form.cleaned_data["code"], contact_mobile=form.cleaned_data["mobile"])
                     .first())
            if found is None:
                form.add_error(None, "شکایتی با این کد پیگیری و شماره همراه پیدا نشد.")
    return render(request, "enamad/complaint_status.html", {"form": form, "complaint": found})
