from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from ramis.common import audit
from ramis.common.context import audit_context
from ramis.common.homes import homes_for

from . import services
from .decorators import staff_required
from .forms import CodeForm, IdentityForm, StaffLoginForm
from .lockouts import password_login_guard
from .oidc import oidc_enabled, provider_logout_url
from .selectors import certificate_login_url, certificate_required, is_admin_user, staff_landing

PENDING = "applicant_login"
CERTIFICATE_REQUIRED = ("کارکنان صدور و بررسی باید با گواهی الکترونیکی خود وارد شوند؛ "
                        "دکمه «ورود با گواهی الکترونیکی» را بزنید.")
SENT_NOTICE = "اگر اطلاعات واردشده با اطلاعات ثبت‌شده مطابقت داشته باشد، کد یک‌بارمصرف به تلفن همراه شما پیامک شد."


def login_view(request):
    """Step 1 of R3: identity + captcha. The next page is the same whether or not it matched."""
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.applicant_login_start(
                national_code=data["national_code"], birth_date=data["birth_date"],
                birth_certificate_number=data["birth_certificate_number"], mobile=data["mobile"],
                ctx=audit_context(request),
            )
        except services.Throttled as exc:
            form.add_error(None, exc.message)
            response = render(request, "certauth/login.html", {
                "form": form, "certificate_url": certificate_login_url("ramis")}, status=exc.status)
            if exc.status == 503:
                response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)
            return response
        request.session[PENDING] = {
            "national_code": data["national_code"],
            "birth_date": data["birth_date"].isoformat(),
            "birth_certificate_number": data["birth_certificate_number"],
            "mobile": data["mobile"],
            "sent_at": time.time(),
        }
        messages.info(request, SENT_NOTICE)
        return redirect("certauth:verify")
    return render(request, "certauth/login.html", {"form": form, "sso": oidc_enabled(),
                                                   "certificate_url": certificate_login_url("ramis")})


def _resend_wait(pending: dict) -> int:
    return max(0, int(pending.get("sent_at", 0) + settings.OTP_SMS_RESEND_SECONDS - time.time()))


def verify_view(request):
    """Step 2 of R3: the SMS code."""
    pending = request.session.get(PENDING)
    if not pending:
        return redirect("certauth:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, national_code=pending["national_code"], otp=form.cleaned_data["code"])
        if user is not None:
            device = user.otp_device
            login(request, user, backend="certauth.backends.ApplicantOTPBackend")
            otp_login(request, device)
            audit.record(actor=user, target=user, event="applicant.logged_in", ctx=audit_context(request))
            request.session.pop(PENDING, None)
            return redirect(settings.LOGIN_REDIRECT_URL)
        if getattr(request, "axes_locked_out", False):
            return render(request, "certauth/locked.html", status=429)
        form.add_error("code", "کد واردشده درست نیست یا منقضی شده است.")
    return render(request, "certauth/verify.html", {
        "form": form, "resend_wait": _resend_wait(pending), "mobile_tail": pending["mobile"][-4:],
    })


@require_POST
def resend_view(request):
    pending = request.session.get(PENDING)
    if not pending:
        return redirect("certauth:login")
    wait = _resend_wait(pending)
    if wait:
        messages.warning(request, f"ارسال دوباره کد تا {wait} ثانیه دیگر ممکن نیست.")
        return redirect("certauth:verify")
    try:
        services.applicant_login_start(
            national_code=pending["national_code"], birth_date=dt.date.fromisoformat(pending["birth_date"]),
            birth_certificate_number=pending["birth_certificate_number"], mobile=pending["mobile"],
            ctx=audit_context(request),
        )
    except services.Throttled as exc:
        messages.error(request, exc.message)
        return redirect("certauth:verify")
    pending["sent_at"] = time.time()
    request.session[PENDING] = pending
    messages.info(request, SENT_NOTICE)
    return redirect("certauth:verify")


@require_POST
def logout_view(request):
    """Ends the portal's session; after a national-window login, the provider's too: the browser
    goes to its end_session_endpoint and comes back to the home page (RP-initiated logout)."""
    user = request.user
    provider_logout = provider_logout_url(request, request.session.get("oidc_id_token", ""))
    if provider_logout and user.is_authenticated:
        audit.record(actor=user, target=user, event="applicant.logged_out", extra={"method": "oidc"},
                     ctx=audit_context(request))
    logout(request)
    messages.info(request, "از سامانه خارج شدید.")
    return redirect(provider_logout or settings.LOGOUT_REDIRECT_URL)


def staff_login_view(request):
    """Staff (clerks, SEO reviewers, e-Namad experts): username + password + TOTP."""
    locked, captcha = password_login_guard(request)
    if locked:
        return render(request, "certauth/locked.html", status=429)  # this name, from this address
    form = StaffLoginForm(request.POST or None, captcha=captcha)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if getattr(request, "axes_locked_out", False):
            return render(request, "certauth/locked.html", status=429)
        device = match_token(user, data["otp_token"]) if user is not None and user.is_staff else None
        if device is None:
            if user is not None:  # right password, wrong or missing TOTP: still a failure
                user_login_failed.send(sender=__name__, credentials={"username": data["username"]},
                                       request=request)
            form.add_error(None, "نام کاربری، گذرواژه یا کد TOTP درست نیست.")
        elif certificate_required(user):  # CERTAUTH_REQUIRED_FOR_STAFF: the password is not enough
            audit.record(actor=user, target=user, event="certauth.password_refused", ctx=audit_context(request))
            form.add_error(None, CERTIFICATE_REQUIRED)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            audit.record(actor=user, target=user, event="staff.logged_in", ctx=audit_context(request))
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = ""
            return redirect(next_url or staff_landing(user))
    return render(request, "certauth/staff_login.html", {
        "form": form, "next": next_url, "certificate_url": certificate_login_url("staff", next_url)})


@staff_required
def staff_home(request):
    """Every desk the user has, with its waiting work counted; the admin for reviewers; and, for
    staff with no role yet, who to ask (never a page with nothing to do)."""
    return render(request, "certauth/staff_home.html", {
        "homes": homes_for(request.user), "is_admin": is_admin_user(request.user),
    })
