"""The seals room's pages: for the holder, the file's page with its seal, domain control (the
site's marks, checked by a task, and the code e-mailed to info@ the domain, N7, N22), the seal
code (N16) and renewal (N18); for everyone, the seal's public face (N16, N17, N22): the logo that
shops embed and the page it links to.

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

from enamad.accounts.decorators import account_required
from enamad.businesses import selectors as business_selectors
from enamad.businesses import services as business_services
from enamad.businesses.domains import control_email_address, display_domain, host_matches, request_site_host
from enamad.businesses.models import BusinessStatus, VerificationMethod, seal_vouches
from enamad.businesses.presentation import business_steps, next_step
from enamad.common import Throttled, error_text, posted
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition

from . import control as seal_control
from . import selectors as seal_selectors
from . import services as seal_services
from .forms import DomainCodeForm, RenewalForm
from .presentation import invalid_seal


def _own(request, pk):
    return business_selectors.get_business_for_account(request.account, pk)


# --- the holder's file and its seal (N7, N16, N18, N22) ------------------------------------------


@account_required
def business_detail(request, pk):
    business = _own(request, pk)
    review = business.reviews.prefetch_related("items__item").first()
    return render(request, "enamad/business.html", {
        "business": business, "review": review, "missing": business.missing_for_send(),
        "next_step": next_step(business), **business_steps(business),
        "seal": getattr(business, "seal", None), "BusinessStatus": BusinessStatus,
        "can_renew": seal_services.renewal_allowed(business, getattr(business, "seal", None)),
    })


@account_required
def technical(request, pk):
    """N7, N22: the marks on the site are checked by a task ("بررسی کن"); the code e-mailed to
    info@ the domain is sent and entered here."""
    business = _own(request, pk)
    code_form = DomainCodeForm()
    if request.method == "POST":
        action = request.POST.get("action", "check")
        try:
            if action == "email_code":
                code = seal_control.business_send_domain_code(business_id=business.pk, actor=request.user,
                                                          ctx=audit_context(request))
                messages.success(request, f"کد تأییدیه فنی به {code.address} فرستاده شد.")
            elif action == "email_confirm":
                code_form = DomainCodeForm(request.POST)
                if code_form.is_valid():
                    try:
                        seal_control.business_confirm_domain_code(business_id=business.pk, actor=request.user,
                                                              code=code_form.cleaned_data["code"], ctx=audit_context(request))
                    except ValidationError as exc:
                        code_form.add_error("code", exc)
                    else:
                        messages.success(request, "تأییدیه فنی دامنه با کد رایانامه‌ای انجام شد.")
                        return redirect("enamad:technical", pk)
            elif action == "check":
                _request_domain_check(request, business)
            else:
                raise Http404
        except Throttled as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        if action != "email_confirm" or code_form.is_valid():
            return redirect("enamad:technical", pk)
    seal = getattr(business, "seal", None)
    return render(request, "enamad/technical.html", {
        "business": business, "VerificationMethod": VerificationMethod, "code_form": code_form,
        "email_address": control_email_address(business.domain), "email_code": business.domain_email_codes.first(),
        "proof_days": settings.ENAMAD_DOMAIN_EMAIL_PROOF_DAYS,
        "reconfirm": bool(seal and seal.domain_failing_since
                          and business.domain_verified_method == VerificationMethod.EMAIL),
        **business_steps(business),
    })


def _request_domain_check(request, business) -> None:
    business_services.business_request_domain_check(business_id=business.pk, actor=request.user, ctx=audit_context(request))
    business.refresh_from_db()
    if business.domain_verified_at:
        messages.success(request, "تأییدیه فنی دامنه انجام شد.")
    elif business.domain_check_error:
        # what the check found is on the page itself (technical.html, #technical-error): said once
        messages.warning(request, "تأییدیه فنی هنوز انجام نشده است؛ آنچه بررسی یافت، در همین صفحه آمده است.")
    else:
        messages.info(request, "بررسی دامنه در صف است؛ چند دقیقه دیگر این صفحه را دوباره ببینید.")


@account_required
def seal_code(request, pk):
    """N16: the snippet to paste on the home page."""
    business = _own(request, pk)
    seal = getattr(business, "seal", None)
    if seal is None or business.status != BusinessStatus.APPROVED:
        raise Http404
    base = settings.PUBLIC_BASE_URL
    page = f"{base}{reverse('seal:page')}?id={seal.number}&Code={seal.code}"
    logo = f"{base}{reverse('seal:logo')}?id={seal.number}&Code={seal.code}"
    snippet = (f"<a referrerpolicy='origin' target='_blank' href='{page}'>"
               f"<img referrerpolicy='origin' src='{logo}' alt='نماد اعتماد الکترونیکی' style='cursor:pointer' "
               f"code='{seal.code}'></a>")
    return render(request, "enamad/seal_code.html", {"business": business, "seal": seal, "snippet": snippet})


@account_required
def renew(request, pk):
    """The renewal form, pre-filled with the file's details; sending it goes back to the expert."""
    business = business_selectors.get_business_for_account(request.account, pk)
    seal = getattr(business, "seal", None)
    if not seal_services.renewal_allowed(business, seal):
        messages.error(request, f"تمدید از {seal_services.RENEWAL_WINDOW_DAYS} روز پیش از انقضای نماد ممکن است.")
        return redirect("enamad:business", pk)
    initial = {name: business.requested(name) for name in RenewalForm.business_fields}
    requested_service = business.requested_service()
    initial.update({name: requested_service[name] for name in RenewalForm.service_fields if name in requested_service})
    form = RenewalForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            seal_services.business_renew(
                business_id=business.pk, actor=request.user,
                data={name: data[name] for name in RenewalForm.business_fields},
                service_data={name: data[name] for name in RenewalForm.service_fields}, ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "درخواست تمدید برای بررسی کارشناس ارسال شد.")
            return redirect("enamad:business", pk)
    return render(request, "enamad/renew.html", {"form": form, "business": business, "seal": seal,
                                                 "missing": business.missing_for_send(),
                                                 "BusinessStatus": BusinessStatus})


# --- the seal's public face (N16, N17, N22) ----------------------------------------------------


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
