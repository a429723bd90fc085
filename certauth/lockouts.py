"""Password logins (staff, e-Namad holders) that an outsider cannot lock for someone else.

django-axes locks a (user name, address) pair (``AXES_LOCKOUT_PARAMETERS``), so guesses from one
address never lock the owner out elsewhere. A guesser with many addresses is slowed down instead:
once a name has had ``AXES_FAILURE_LIMIT`` failures from all addresses together within the
cool-off, its login form asks for the captcha too, from every address.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from captcha.fields import CaptchaField
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def name_under_attack(username: str) -> bool:
    """Has ``username`` had, from all addresses together, as many failures within the cool-off
    as lock one address out?"""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
                .aggregate(total=Sum("failures_since_start"))["total"] or 0)
    return failures >= settings.AXES_FAILURE_LIMIT


def password_login_guard(request) -> tuple[bool, bool]:
    """``(locked, captcha)`` for the user name a login form posts: ``locked`` when this name is
    locked out from this address (answer 429 before reading the form), ``captcha`` when the name
    is under attack from everywhere (the form must carry the captcha)."""
    username = request.POST.get("username", "").strip() if request.method == "POST" else ""
    if not username:
        return False, False
    if AxesProxyHandler.is_locked(request, credentials={"username": username}):
        return True, False
    return False, name_under_attack(username)


def add_captcha(form) -> None:
    """The captcha field a login form carries while its name is under attack."""
    form.fields["captcha"] = CaptchaField(
        label="کد امنیتی", help_text="برای این نام کاربری تلاش‌های ناموفق زیادی ثبت شده است.",
        error_messages={"invalid": "کد امنیتی درست نیست.", "required": "کد امنیتی را وارد کنید."})
