"""The request's e-mail address, confirmed by a code sent to it (issue 12).

A certificate carries the holder's (signature) or the organisation's (seal) e-mail address in its
subjectAltName, so a mail client or a strict validator can tie it to a sender. Only an address the
applicant proved to receive goes there: during the request, a six-digit code is e-mailed to the
request's address (Django's e-mail backend, through the outbox), and the applicant enters it. The
confirmation belongs to that address: changing the request's ``email`` leaves it unconfirmed
(:attr:`CertificateRequest.email_is_confirmed`), and a final submit needs it
(:func:`ramis.requests.selectors.missing_items`).

Throttled like the e-Namad domain codes: ``REQUEST_EMAIL_RESEND_SECONDS`` between two codes of a
request, ``REQUEST_EMAIL_DAILY_LIMIT`` a day per request and ``REQUEST_EMAIL_ADDRESS_DAILY_LIMIT``
per address; a code dies after ``REQUEST_EMAIL_MAX_ATTEMPTS`` wrong entries or
``REQUEST_EMAIL_CODE_SECONDS``. Only the code's keyed hash is stored; the outbox masks the code once
sent. Sending, every wrong entry and the confirmation are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ramis.common import audit, notify
from ramis.common.digits import to_latin_digits
from ramis.common.errors import InvalidTransition

from .models import CertificateRequest, EmailConfirmationCode
from .services import _lock_request, _require_owner


class Throttled(Exception):
    """Too soon, or too many codes: ``message`` says when to try again (Persian)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _digest(req: CertificateRequest, address: str, code: str) -> str:
    key = f"{settings.SECRET_KEY}:requests:email-code".encode()
    return hmac.new(key, f"{req.pk}:{address.lower()}:{code}".encode(), hashlib.sha256).hexdigest()


def _lock_own(request_id: int, actor) -> CertificateRequest:
    req = _lock_request(request_id)
    _require_owner(req, actor)
    if not req.is_editable:
        raise InvalidTransition(req, "email_code", "این درخواست دیگر قابل ویرایش نیست.")
    return req


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


@transaction.atomic
def request_email_send_code(*, request_id: int, actor, ctx=None) -> EmailConfirmationCode:
    """E-mail a fresh code to the request's address (earlier codes die: only the latest counts)."""
    req = _lock_own(request_id, actor)
    address = req.email.strip()
    if not address:
        raise ValidationError("نخست رایانامه را وارد و ذخیره کنید.", code="no_email")
    if req.email_is_confirmed:
        raise ValidationError("این رایانامه پیش‌تر تأیید شده است.", code="confirmed")
    now = timezone.now()
    last = req.email_codes.values_list("created_at", flat=True).first()
    wait = settings.REQUEST_EMAIL_RESEND_SECONDS - int((now - last).total_seconds()) if last else 0
    if wait > 0:
        raise Throttled(f"کد پیشین همین حالا فرستاده شد؛ برای کد تازه {wait} ثانیه دیگر صبر کنید.")
    day_ago = now - timedelta(days=1)
    if (req.email_codes.filter(created_at__gt=day_ago).count() >= settings.REQUEST_EMAIL_DAILY_LIMIT
            or EmailConfirmationCode.objects.filter(address__iexact=address, created_at__gt=day_ago).count()
            >= settings.REQUEST_EMAIL_ADDRESS_DAILY_LIMIT):
        raise Throttled(f"سقف ارسال کد به {address} در یک روز پر شده است؛ فردا دوباره تلاش کنید.")
    code = f"{secrets.randbelow(10**6):06d}"
    seconds = settings.REQUEST_EMAIL_CODE_SECONDS
    row = EmailConfirmationCode.objects.create(request=req, address=address, created_at=now,
                                               expires_at=now + timedelta(seconds=seconds),
                                               code_hash=_digest(req, address, code))
    context = {"req": req, "code": code, "minutes": seconds // 60,
               "url": _absolute(reverse("requests:step", args=[req.pk, "details"]))}
    notify.send_email(to=address, template="request_email_code", context=context, secrets=("code",))
    audit.record(actor=actor, target=req, event="request.email_code_sent", old=req.status, new=req.status,
                 extra={"address": address}, ctx=ctx)
    return row


def request_email_confirm(*, request_id: int, actor, code: str, ctx=None) -> CertificateRequest:
    """The applicant enters the e-mailed code: the request's address is confirmed. A refusal raises
    ``ValidationError`` in words for the code field; a wrong entry is counted (and audited) all the
    same, in its own transaction."""
    refusal = _confirm(request_id=request_id, actor=actor, code=to_latin_digits(code or "").strip(), ctx=ctx)
    if refusal:
        raise ValidationError(refusal, code="code")
    return CertificateRequest.objects.get(pk=request_id)


@transaction.atomic
def _confirm(*, request_id: int, actor, code: str, ctx=None) -> str:
    req = _lock_own(request_id, actor)
    address = req.email.strip()
    if req.email_is_confirmed:
        return ""
    row = req.email_codes.select_for_update().first()
    now = timezone.now()
    if row is None or row.address.lower() != address.lower():
        return f"هنوز کدی به {address or 'رایانامه'} فرستاده نشده است؛ «ارسال کد» را بزنید."
    if row.used_at is not None:
        return "این کد پیش‌تر به کار رفته است و دوباره پذیرفته نمی‌شود."
    if row.failures >= settings.REQUEST_EMAIL_MAX_ATTEMPTS:
        return "این کد پس از چند بار ورود نادرست باطل شده است؛ کد تازه بخواهید."
    if row.expires_at <= now:
        return "اعتبار این کد به پایان رسیده است؛ کد تازه بخواهید."
    if not code.isdigit() or not hmac.compare_digest(_digest(req, address, code), row.code_hash):
        row.failures += 1
        row.save(update_fields=["failures"])
        audit.record(actor=actor, target=req, event="request.email_code_rejected", old=req.status, new=req.status,
                     extra={"address": address, "failures": row.failures}, ctx=ctx)
        left = settings.REQUEST_EMAIL_MAX_ATTEMPTS - row.failures
        if left <= 0:
            return "کد درست نیست؛ این کد دیگر پذیرفته نمی‌شود، کد تازه بخواهید."
        return f"کد درست نیست؛ {left} بار دیگر می‌توانید تلاش کنید."
    row.used_at = now
    row.save(update_fields=["used_at"])
    req.email_confirmed, req.email_confirmed_at = address, now
    req.save(update_fields=["email_confirmed", "email_confirmed_at"])
    audit.record(actor=actor, target=req, event="request.email_confirmed", old=req.status, new=req.status,
                 extra={"address": address}, ctx=ctx)
    return ""
