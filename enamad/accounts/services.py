"""The one write path for e-Namad accounts: sign-up, activation, profile, identity documents
and the reverse SMS / IVR phone checks (N2–N5, N10; STYLE 1–3)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from certauth.models import User
from enamad.accounts.models import Account, IdentityDocument, PhoneChallenge
from enamad.common import Throttled, absolute_url, throttle_hit
from ramis.common import audit, notify
from ramis.common.digits import to_latin_digits
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import validate_upload

ACTIVATION_SALT = "enamad.activate"


# --- accounts (N2–N5) --------------------------------------------------------------------------


@transaction.atomic
def account_signup(*, persona: str, username: str, password: str, email: str, first_name: str, last_name: str,
                   national_code: str, mobile: str, company_name: str = "", legal_national_id: str = "",
                   registration_number: str = "", organisation_name: str = "", letter_number: str = "",
                   ctx=None) -> Account:
    """Create an inactive user and its account, and e-mail a signed, expiring activation link."""
    user = User.objects.create_user(username=username, password=password, email=email, first_name=first_name,
                                    last_name=last_name, is_active=False)
    account = Account.objects.create(
        user=user, persona=persona, first_name=first_name, last_name=last_name, national_code=national_code,
        mobile=mobile, company_name=company_name, legal_national_id=legal_national_id,
        registration_number=registration_number, organisation_name=organisation_name, letter_number=letter_number,
    )
    audit.record(actor=None, target=account, event="enamad.account.signed_up", new=persona, ctx=ctx)
    send_activation_link(account)
    return account


def send_activation_link(account: Account, *, resent: bool = False) -> None:
    """E-mail a signed, expiring activation link (at sign-up, and again on «resend activation»)."""
    user = account.user
    token = signing.dumps({"u": user.pk, "s": _activation_state(user)}, salt=ACTIVATION_SALT)
    notify.send_email(
        to=user.email, template="enamad_activation",
        context={"account": account, "url": absolute_url(reverse("enamad:activate", args=[token])),
                 "days": settings.ENAMAD_ACTIVATION_MAX_AGE_SECONDS // 86400, "resent": resent},
    )


class ActivationError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _activation_state(user: User) -> str:
    """What the activation link is bound to: once the account is active (or has logged in, or
    was deactivated after use) the state differs and the link is dead."""
    last_login = int(user.last_login.timestamp()) if user.last_login else ""
    return f"{int(user.is_active)}:{last_login}"


def account_activation_check(*, token: str, lock: bool = False) -> Account:
    """The account a live activation link is for; ``ActivationError`` in words otherwise.
    Changes nothing: the page the link opens shows a button that POSTs to ``account_activate``."""
    try:
        data = signing.loads(token, salt=ACTIVATION_SALT, max_age=settings.ENAMAD_ACTIVATION_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ActivationError("پیوند فعال‌سازی منقضی شده است؛ از «ارسال دوباره پیوند فعال‌سازی» پیوند تازه‌ای بخواهید.") from None
    except signing.BadSignature:
        raise ActivationError("پیوند فعال‌سازی معتبر نیست.") from None
    accounts = Account.objects.select_for_update() if lock else Account.objects.all()
    account = accounts.select_related("user").filter(user_id=data.get("u")).first()
    if account is None:
        raise ActivationError("پیوند فعال‌سازی معتبر نیست.")
    if data.get("s") != _activation_state(account.user):
        raise ActivationError("این پیوند فعال‌سازی پیش‌تر به کار رفته است؛ با نام کاربری و گذرواژه وارد شوید.")
    return account


@transaction.atomic
def account_activate(*, token: str, ctx=None) -> Account:
    account = account_activation_check(token=token, lock=True)
    user = account.user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(actor=user, target=account, event="enamad.account.activated", ctx=ctx)
    return account


IDENTITY_LOCKED_MESSAGE = ("پرونده کسب‌وکار شما برای بررسی ارسال شده است؛ اطلاعات هویتی و مدارک دیگر از این صفحه "
                           "تغییر نمی‌کنند. برای تغییر آن‌ها از پشتیبانی تیکت «تغییر اطلاعات هویتی» ثبت کنید.")

PROFILE_FIELDS = ("first_name", "last_name", "father_name", "birth_date", "landline", "address", "postal_code",
                  "company_name", "registration_number", "organisation_name", "letter_number")


@transaction.atomic
def account_update_profile(*, account_id: int, actor, data: dict, ctx=None) -> Account:
    """Complete the profile (N3). A changed landline must be verified again. Locked once a
    business has been sent (``Account.identity_locked``)."""
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.user_id != actor.pk:
        raise PermissionDenied
    if account.identity_locked():
        raise InvalidTransition(account, "update_profile", IDENTITY_LOCKED_MESSAGE)
    changed = {}
    for name in PROFILE_FIELDS:
        if name in data and getattr(account, name) != data[name]:
            changed[name] = str(data[name])
            setattr(account, name, data[name])
    if "landline" in changed:
        account.landline_verified_at = None
    if all([account.father_name, account.birth_date, account.landline, account.address, account.postal_code]):
        account.profile_completed_at = account.profile_completed_at or timezone.now()
    account.save()
    audit.record(actor=actor, target=account, event="enamad.account.profile_updated",
                 extra={"fields": sorted(changed)}, ctx=ctx)
    return account


@transaction.atomic
def account_upload_document(*, account_id: int, actor, kind: str, upload, ctx=None) -> IdentityDocument:
    """Store one identity document (N4), content-checked; a new upload takes the place of the
    old one, whose file is kept and named in the audit entry of the replacement. Locked once a
    business has been sent (``Account.identity_locked``)."""
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.user_id != actor.pk:
        raise PermissionDenied
    if account.identity_locked():
        raise InvalidTransition(account, "upload_document", IDENTITY_LOCKED_MESSAGE)
    if kind not in account.required_documents() + account.optional_documents():
        raise ValidationError("این مدرک برای نوع شخصیت شما نیست.", code="kind")
    validate_upload(upload)
    document = IdentityDocument.objects.filter(account=account, kind=kind).first()
    previous = {"file": document.file.name, "uploaded_at": document.uploaded_at.isoformat()} if document else None
    if document is None:
        document = IdentityDocument(account=account, kind=kind)
    document.file.save(upload.name, upload, save=False)
    document.save()
    if previous:
        audit.record(actor=actor, target=account, event="enamad.account.document_replaced", new=kind,
                     extra={"kind": kind, "file": document.file.name, "previous_file": previous["file"],
                            "previous_uploaded_at": previous["uploaded_at"]}, ctx=ctx)
    else:
        audit.record(actor=actor, target=account, event="enamad.account.document_uploaded", new=kind,
                     extra={"file": document.file.name}, ctx=ctx)
    return document


# --- reverse SMS / IVR (N5, N10) ---------------------------------------------------------------


def _new_phone_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


@transaction.atomic
def phone_challenge_start(*, account_id: int, actor, purpose: str, business_id: int | None = None) -> PhoneChallenge:
    """The code the applicant must text (mobile) or key into the IVR (landlines) from ``phone``.

    A live challenge for the same phone is shown again rather than replaced, so reloading the
    page does not invalidate a code already sent."""
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.user_id != actor.pk:
        raise PermissionDenied
    business = None
    if purpose == PhoneChallenge.Purpose.MOBILE:
        phone, channel = account.mobile, PhoneChallenge.Channel.SMS
    elif purpose == PhoneChallenge.Purpose.LANDLINE:
        if not account.landline:
            raise ValidationError("ابتدا تلفن ثابت را در «تکمیل اطلاعات» وارد کنید.", code="no_landline")
        phone, channel = account.landline, PhoneChallenge.Channel.IVR
    else:
        business = account.businesses.get(pk=business_id)
        phone, channel = business.requested("phone"), PhoneChallenge.Channel.IVR
    live = PhoneChallenge.objects.filter(account=account, purpose=purpose, business=business, phone=phone,
                                         verified_at__isnull=True, expires_at__gt=timezone.now()).first()
    if live:
        return live
    if not throttle_hit(f"enamad-phone:{account.pk}", limit=20, window=3600):
        raise Throttled
    return PhoneChallenge.objects.create(
        account=account, business=business, purpose=purpose, channel=channel, phone=phone, code=_new_phone_code(),
        expires_at=timezone.now() + timedelta(seconds=settings.ENAMAD_PHONE_CODE_SECONDS),
    )


@transaction.atomic
def phone_inbound(*, channel: str, sender: str, text: str, ctx=None) -> PhoneChallenge | None:
    """A text arrived at our number (or digits at our IVR) from ``sender``: verify the phone if
    the code matches a live challenge *for that very number*. Wrong number, wrong code or an
    expired code verify nothing."""
    from ramis.common.validators import normalize_landline, normalize_mobile

    sender = normalize_mobile(sender) if channel == PhoneChallenge.Channel.SMS else normalize_landline(sender)
    code = "".join(ch for ch in to_latin_digits(text or "") if ch.isdigit())
    if not sender or not code:
        return None
    challenge = (PhoneChallenge.objects.select_for_update(of=("self",))
                 .filter(channel=channel, phone=sender, code=code, verified_at__isnull=True,
                         expires_at__gt=timezone.now())
                 .select_related("account", "business").first())
    if challenge is None:
        audit_target = PhoneChallenge.objects.filter(phone=sender).first()
        if audit_target is not None:
            audit.record(actor=None, target=audit_target, event="enamad.phone.unmatched",
                         extra={"channel": channel}, ctx=ctx)
        return None
    now = timezone.now()
    challenge.verified_at = now
    challenge.save(update_fields=["verified_at"])
    account = Account.objects.select_for_update().get(pk=challenge.account_id)
    if challenge.purpose == PhoneChallenge.Purpose.MOBILE and account.mobile == sender:
        account.mobile_verified_at = now
        account.save(update_fields=["mobile_verified_at"])
        target = account
    elif challenge.purpose == PhoneChallenge.Purpose.LANDLINE and account.landline == sender:
        account.landline_verified_at = now
        account.save(update_fields=["landline_verified_at"])
        target = account
    elif challenge.purpose == PhoneChallenge.Purpose.BUSINESS_PHONE and challenge.business.requested("phone") == sender:
        business = account.businesses.select_for_update().get(pk=challenge.business_id)
        business.phone_verified_at = now
        business.save(update_fields=["phone_verified_at", "updated_at"])
        target = business
    else:  # the number changed after the code was issued
        return None
    audit.record(actor=None, target=target, event=f"enamad.phone.{challenge.purpose}_verified",
                 extra={"channel": channel, "phone": sender}, ctx=ctx)
    return challenge


INBOUND_MAX_AGE_SECONDS = 300


def inbound_signature(body: bytes, timestamp: str) -> str:
    """hex(HMAC-SHA256(secret, "<unix seconds>." + raw body)): the time is signed with the body."""
    message = timestamp.encode() + b"." + body
    return hmac.new(settings.ENAMAD_INBOUND_SECRET.encode(), message, hashlib.sha256).hexdigest()


def inbound_signature_valid(body: bytes, signature: str, timestamp: str) -> bool:
    """A callback counts only when signed and sent within ``INBOUND_MAX_AGE_SECONDS`` of now, so a
    captured one cannot be replayed later."""
    if not settings.ENAMAD_INBOUND_SECRET or not re.fullmatch(r"[0-9]{1,12}", timestamp or ""):
        return False
    if abs(timezone.now().timestamp() - int(timestamp)) > INBOUND_MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(inbound_signature(body, timestamp), (signature or "").strip().lower())
