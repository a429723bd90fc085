from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from ramis.common import audit, notify, throttle
from ramis.common.context import context_ip

from .models import SMSDevice, User
from .selectors import person_for_identity


class Throttled(Exception):
    message = "تعداد تلاش‌ها بیش از حد مجاز است؛ چند دقیقه بعد دوباره تلاش کنید."
    status = 429

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message)


class TemporarilyUnavailable(Throttled):
    """The throttle cannot count (its cache is down): the attempt is refused, never let through."""

    message = throttle.UNAVAILABLE_MESSAGE
    status = 503


@transaction.atomic
def applicant_login_start(
    *, national_code: str, birth_date: dt.date, birth_certificate_number: str, mobile: str, ctx=None
) -> bool:
    """Send a login code if, and only if, the identity matches an approved introduction.

    Returns whether a code was sent, for tests and logs only: the view shows the same page
    either way, so nobody can learn who is registered (no enumeration).
    Raises ``Throttled`` when one IP, or one national code from one IP, tries too often: the
    national code's count is kept per IP, so an outsider cannot lock someone else out of their
    login from another address. Raises its ``TemporarilyUnavailable`` when the throttle's cache
    is down (it fails closed).
    """
    limit, window = settings.LOGIN_THROTTLE_LIMIT, settings.LOGIN_THROTTLE_WINDOW_SECONDS
    ip = context_ip(ctx) or "unknown"
    try:
        ip_ok = throttle.hit(f"login-ip:{ip}", limit=limit, window=window)
        code_ok = throttle.hit(f"login-nc:{national_code}:{ip}", limit=limit, window=window)
    except throttle.Unavailable as exc:
        raise TemporarilyUnavailable from exc
    if not (ip_ok and code_ok):
        raise Throttled

    person = person_for_identity(
        national_code=national_code, birth_date=birth_date,
        birth_certificate_number=birth_certificate_number, mobile=mobile,
    )
    if person is None:
        return False
    user = applicant_user_for_person(person=person, ctx=ctx)
    device, _ = SMSDevice.objects.select_for_update().get_or_create(
        user=user, defaults={"name": "sms", "mobile": person.mobile, "confirmed": True}
    )
    if device.mobile != person.mobile:
        device.mobile = person.mobile
    if not device.can_send():
        return False
    code = device.issue_code()
    device.save()
    notify.send_sms(to=person.mobile, template="login_code", secrets=("code",),
                    context={"code": code, "minutes": settings.OTP_SMS_VALIDITY_SECONDS // 60})
    return True


@transaction.atomic
def applicant_user_for_person(*, person, ctx=None) -> User:
    """The login account of an introduced person, created on their first login."""
    person = type(person).objects.select_for_update().get(pk=person.pk)
    if person.user is None:
        user = User.objects.create(username=f"nc-{person.national_code}", first_name=person.first_name,
                                   last_name=person.last_name, email=person.email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        person.user = user
        person.save(update_fields=["user"])
        audit.record(actor=None, target=user, event="applicant.account_created", ctx=ctx)
    return person.user
