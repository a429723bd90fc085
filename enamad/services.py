"""The one write path for every e-Namad state change (STYLE 1–3).

Each service locks its row, checks, transitions, writes the audit entry and queues the
notification in the same transaction (the outbox delivers after commit). Network I/O (domain
checks) happens outside any transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from certauth.models import User
from ramis.common import audit, notify, throttle
from ramis.common.digits import to_latin_digits
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import validate_upload

from . import verification
from .domains import control_email_address, display_domain
from .models import (
    CHANGE_CATEGORIES,
    CONTACT_VERIFICATION,
    RENEWAL_FIELDS,
    RENEWAL_SERVICE_FIELDS,
    Account,
    AttachmentKind,
    Business,
    BusinessService,
    BusinessStatus,
    ChangeStatus,
    ChecklistItem,
    Complaint,
    ComplaintAttachment,
    ComplaintStatus,
    DocumentKind,
    DomainEmailCode,
    IdentityDocument,
    Persona,
    PhoneChallenge,
    PostalLetter,
    Review,
    ReviewItem,
    Seal,
    SurveyResponse,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatus,
    VerificationMethod,
    _can_suspend,
    seal_vouches,
    ticket_idle_cutoff,
)
from .selectors import seal_cache_key

ACTIVATION_SALT = "enamad.activate"
EMAIL_SALT = "enamad.business-email"
ADDRESS_CODE_MAX_FAILURES = 5

# Words for the holder: what happened and what to do next (STYLE 15).
NEXT_STEP = {
    BusinessStatus.UNDER_REVIEW: "پرونده شما در صف بررسی کارشناس است؛ منتظر نتیجه بمانید.",
    BusinessStatus.DEFICIENT: "کارشناس نقص اعلام کرده است: در «وضعیت چک‌لیست» موارد تأییدنشده را رفع کنید و دوباره ارسال کنید.",
    BusinessStatus.PHYSICAL_DOCUMENTS: "تعهدنامه را دریافت کنید، در دفترخانه گواهی امضا کنید و با کپی برابر اصل مجوزها پست کنید.",
    BusinessStatus.DOCUMENTS_REJECTED: "مدارک فیزیکی تأیید نشد؛ نقص را رفع کنید و مدارک را دوباره بفرستید.",
    BusinessStatus.MANAGER_REVIEW: "مدارک تأیید شد؛ پرونده در حال بررسی توسط مدیر است.",
    BusinessStatus.APPROVED: "نماد شما صادر شد: «دریافت کد نماد» را بزنید و کد را در صفحه اول سایت قرار دهید.",
    BusinessStatus.SUSPENDED: "نماد شما تعلیق شد؛ برای رفع تعلیق با پشتیبانی تماس بگیرید.",
    BusinessStatus.EXPIRED: "اعتبار نماد شما به پایان رسید؛ برای تمدید اقدام کنید.",
    BusinessStatus.REVOKED: "نماد شما ابطال شد.",
}


# Transitions whose plain words ("the file is now «approved»" and the approved next step, "your
# seal was issued, get the seal code") would read wrong: (headline, e-mail subject, next step).
STATUS_WORDS = {
    "enamad.seal.reinstated": (
        "اینماد: تعلیق نماد {domain} (شماره پرونده {reference}) برداشته شد.", "رفع تعلیق نماد",
        "نماد شما دوباره معتبر است و در سایت شما نمایش داده می‌شود. کد نماد همان کد قبلی است؛ اگر آن را از "
        "صفحه اول سایت برنداشته‌اید کاری لازم نیست."),
    "enamad.seal.suspension_taken_over": (
        "اینماد: تعلیق نماد {domain} (شماره پرونده {reference}) اکنون به تصمیم کارشناس اینماد است.", "ادامه تعلیق نماد",
        "این تعلیق با برگشتن تأییدیه فنی خودکار برداشته نمی‌شود؛ برای رفع تعلیق با پشتیبانی تماس بگیرید."),
    "renewal_rejected": (
        "اینماد: درخواست تمدید نماد {domain} (شماره پرونده {reference}) پذیرفته نشد.", "رد درخواست تمدید",
        "نماد شما تا تاریخ انقضای کنونی معتبر می‌ماند و کد آن تغییری نکرده است؛ تغییرات درخواستی تمدید اعمال "
        "نشد. پس از رفع دلیل بالا می‌توانید از صفحه کسب‌وکار دوباره درخواست تمدید بدهید."),
    "renewal_rejected_expired": (
        "اینماد: درخواست تمدید نماد {domain} (شماره پرونده {reference}) پذیرفته نشد.", "رد درخواست تمدید",
        "اعتبار نماد شما به پایان رسیده است و تغییرات درخواستی تمدید اعمال نشد. پس از رفع دلیل بالا می‌توانید "
        "از صفحه کسب‌وکار دوباره درخواست تمدید بدهید."),
    "renewed": (
        "اینماد: نماد {domain} (شماره پرونده {reference}) تمدید شد.", "تمدید نماد",
        "نماد شما تا تاریخ تازه معتبر است. کد نماد تغییری نکرده است؛ لازم نیست آن را دوباره در سایت بگذارید."),
}


class Throttled(Exception):
    message = "تعداد درخواست‌ها بیش از حد مجاز است؛ چند دقیقه بعد دوباره تلاش کنید."

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message)


def _throttle_hit(key: str, *, limit: int, window: int) -> bool:
    """``throttle.hit``, failing closed with a Persian ``Throttled`` when its cache is down."""
    try:
        return throttle.hit(key, limit=limit, window=window)
    except throttle.Unavailable as exc:
        raise Throttled(exc.message) from exc


# --- helpers -----------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _digest(purpose: str, value: str) -> str:
    key = f"{settings.SECRET_KEY}:enamad:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _lock_business(business_id: int) -> Business:
    return Business.objects.select_for_update().select_related("account__user").get(pk=business_id)


def _lock_seal(seal_id: int) -> tuple[Business, Seal]:
    """Lock a seal and its business in the one order every service uses: the business first,
    then the seal (the other order against ``business_final_approve`` or a staff reinstatement
    deadlocks on PostgreSQL)."""
    business = _lock_business(Seal.objects.values_list("business_id", flat=True).get(pk=seal_id))
    return business, Seal.objects.select_for_update().get(pk=seal_id)


def _lock_own_business(business_id: int, actor) -> Business:
    business = _lock_business(business_id)
    if business.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    return business


def _notify_holder(business: Business, *, event: str, reason: str = "", words: str | None = None) -> None:
    account = business.account
    headline, subject, next_step = "", business.get_status_display(), NEXT_STEP.get(business.status, "")
    if (words or event) in STATUS_WORDS:
        headline, subject, next_step = STATUS_WORDS[words or event]
        headline = headline.format(domain=business.domain, reference=business.reference)
    context = {
        "business": business, "status": business.get_status_display(), "next_step": next_step, "headline": headline,
        "reason": reason, "url": _absolute(reverse("enamad:business", args=[business.pk])), "event": event,
    }
    notify.send_sms(to=account.mobile, template="enamad_status", context=context)
    if account.user.email:
        notify.send_email(to=account.user.email, subject=f"اینماد: {business.domain} — {subject}",
                          template="enamad_status", context=context)


def _transition(business: Business, name: str, *, actor, event: str, reason: str = "", request=None,
                args: tuple = (), extra: dict | None = None, message: str | None = None,
                words: str | None = None) -> Business:
    method = getattr(business, name)
    if not can_proceed(method):
        raise InvalidTransition(business, name, message)
    if actor is not None and not has_transition_perm(method, actor):
        raise PermissionDenied
    old = business.status
    pending = {field: [getattr(business, field), value]
               for field, value in business.pending_changes.get("values", {}).items()}
    if business.pending_changes.get("service"):
        in_force = business.service_in_force()
        pending.update({f"service.{field}": [in_force.get(field), value]
                        for field, value in business.pending_changes["service"].items()})
    method(*args)
    business.status_changed_at = timezone.now()
    business.save()
    audit.record(actor=actor, target=business, event=event, old=old, new=business.status, reason=reason,
                 extra=extra, request=request)
    if pending and not business.pending_changes:
        # A renewal's corrections were applied (final approval) or dropped (the renewal ended).
        applied = name == "final_approve"
        audit.record(actor=actor, target=business, request=request,
                     event=f"enamad.business.renewal_changes_{'applied' if applied else 'dropped'}",
                     extra={"changes": pending})
    _notify_holder(business, event=event, reason=reason, words=words)
    return business


def _forget_seal(seal: Seal | None) -> None:
    if seal is not None:
        key = seal_cache_key(seal.number, seal.code)
        transaction.on_commit(lambda: cache.delete(key))


# --- accounts (N2–N5) --------------------------------------------------------------------------


@transaction.atomic
def account_signup(*, persona: str, username: str, password: str, email: str, first_name: str, last_name: str,
                   national_code: str, mobile: str, company_name: str = "", legal_national_id: str = "",
                   registration_number: str = "", organisation_name: str = "", letter_number: str = "",
                   request=None) -> Account:
    """Create an inactive user and its account, and e-mail a signed, expiring activation link."""
    user = User.objects.create_user(username=username, password=password, email=email, first_name=first_name,
                                    last_name=last_name, is_active=False)
    account = Account.objects.create(
        user=user, persona=persona, first_name=first_name, last_name=last_name, national_code=national_code,
        mobile=mobile, company_name=company_name, legal_national_id=legal_national_id,
        registration_number=registration_number, organisation_name=organisation_name, letter_number=letter_number,
    )
    audit.record(actor=None, target=account, event="enamad.account.signed_up", new=persona, request=request)
    token = signing.dumps({"u": user.pk, "s": _activation_state(user)}, salt=ACTIVATION_SALT)
    notify.send_email(
        to=email, subject="فعال‌سازی حساب اینماد", template="enamad_activation",
        context={"account": account, "url": _absolute(reverse("enamad:activate", args=[token])),
                 "days": settings.ENAMAD_ACTIVATION_MAX_AGE_SECONDS // 86400},
    )
    return account


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
        raise ActivationError("پیوند فعال‌سازی منقضی شده است؛ دوباره ثبت‌نام کنید یا با پشتیبانی تماس بگیرید.") from None
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
def account_activate(*, token: str, request=None) -> Account:
    account = account_activation_check(token=token, lock=True)
    user = account.user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(actor=user, target=account, event="enamad.account.activated", request=request)
    return account


IDENTITY_LOCKED_MESSAGE = ("پرونده کسب‌وکار شما برای بررسی ارسال شده است؛ اطلاعات هویتی و مدارک دیگر از این صفحه "
                           "تغییر نمی‌کنند. برای تغییر آن‌ها از پشتیبانی تیکت «تغییر اطلاعات هویتی» ثبت کنید.")

PROFILE_FIELDS = ("first_name", "last_name", "father_name", "birth_date", "landline", "address", "postal_code",
                  "company_name", "registration_number", "organisation_name", "letter_number")


@transaction.atomic
def account_update_profile(*, account_id: int, actor, data: dict, request=None) -> Account:
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
                 extra={"fields": sorted(changed)}, request=request)
    return account


@transaction.atomic
def account_upload_document(*, account_id: int, actor, kind: str, upload, request=None) -> IdentityDocument:
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
                            "previous_uploaded_at": previous["uploaded_at"]}, request=request)
    else:
        audit.record(actor=actor, target=account, event="enamad.account.document_uploaded", new=kind,
                     extra={"file": document.file.name}, request=request)
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
        business = Business.objects.get(pk=business_id, account=account)
        phone, channel = business.requested("phone"), PhoneChallenge.Channel.IVR
    live = PhoneChallenge.objects.filter(account=account, purpose=purpose, business=business, phone=phone,
                                         verified_at__isnull=True, expires_at__gt=timezone.now()).first()
    if live:
        return live
    if not _throttle_hit(f"enamad-phone:{account.pk}", limit=20, window=3600):
        raise Throttled
    return PhoneChallenge.objects.create(
        account=account, business=business, purpose=purpose, channel=channel, phone=phone, code=_new_phone_code(),
        expires_at=timezone.now() + timedelta(seconds=settings.ENAMAD_PHONE_CODE_SECONDS),
    )


@transaction.atomic
def phone_inbound(*, channel: str, sender: str, text: str, request=None) -> PhoneChallenge | None:
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
                         extra={"channel": channel}, request=request)
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
        business = _lock_business(challenge.business_id)
        business.phone_verified_at = now
        business.save(update_fields=["phone_verified_at", "updated_at"])
        target = business
    else:  # the number changed after the code was issued
        return None
    audit.record(actor=None, target=target, event=f"enamad.phone.{challenge.purpose}_verified",
                 extra={"channel": channel, "phone": sender}, request=request)
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


# --- businesses (N6–N11, N13) ------------------------------------------------------------------

BUSINESS_FIELDS = ("domain", "name", "address", "postal_code", "phone", "email", "answering_hours")


def domain_is_held(domain: str, *, exclude_id: int | None = None) -> bool:
    qs = Business.objects.filter(domain=domain, domain_verified_at__isnull=False).exclude(
        status=BusinessStatus.REVOKED)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


@transaction.atomic
def business_create(*, account_id: int, actor, data: dict, request=None) -> Business:
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.user_id != actor.pk:
        raise PermissionDenied
    if domain_is_held(data["domain"]):
        raise ValidationError("این دامنه پیش‌تر به نام کسب‌وکار دیگری ثبت و تأیید شده است.", code="domain_taken")
    if account.businesses.filter(domain=data["domain"]).exclude(status=BusinessStatus.REVOKED).exists():
        raise ValidationError("این دامنه را پیش‌تر افزوده‌اید.", code="duplicate")
    business = Business.objects.create(account=account, **{k: data[k] for k in BUSINESS_FIELDS if k in data})
    audit.record(actor=actor, target=business, event="enamad.business.created", new=business.status,
                 extra={"domain": business.domain}, request=request)
    return business


@transaction.atomic
def business_update(*, business_id: int, actor, data: dict, request=None) -> Business:
    """Edit the details (N10) while the file is not with the expert. Changing the domain, the
    e-mail, the phone or the address undoes the verification that depended on it."""
    business = _lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "update", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    if business.renewing:
        # A deficiency round of a renewal: the corrections wait for final approval too.
        if data.get("domain", business.domain) != business.domain:
            raise ValidationError("دامنه نماد در تمدید تغییر نمی‌کند؛ دامنه تازه کسب‌وکار تازه است.", code="domain")
        changed = _stage_renewal_changes(business, data)
        business.save()
        audit.record(actor=actor, target=business, event="enamad.business.updated",
                     extra={"fields": changed, "pending": True}, request=request)
        return business
    changed = [name for name in BUSINESS_FIELDS if name in data and getattr(business, name) != data[name]]
    if "domain" in changed:
        if domain_is_held(data["domain"], exclude_id=business.pk):
            raise ValidationError("این دامنه پیش‌تر به نام کسب‌وکار دیگری ثبت و تأیید شده است.", code="domain_taken")
        business.domain_verified_at = None
        business.domain_verified_method = ""
        business.tls_valid = False
        business.domain_changed_at = timezone.now()
    for name in changed:
        setattr(business, name, data[name])
    if "email" in changed:
        business.email_verified_at = None
    if "phone" in changed:
        business.phone_verified_at = None
    if "address" in changed or "postal_code" in changed:
        business.address_verified_at = None
        business.address_code_hash = ""
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.updated", extra={"fields": changed},
                 request=request)
    return business


@transaction.atomic
def business_change_activity(*, business_id: int, actor, activity_type: str, request=None) -> Business:
    """N13: non-guild ↔ guild, while editable or when the expert has asked for it."""
    business = _lock_own_business(business_id, actor)
    if not (business.editable or business.activity_change_requested):
        raise InvalidTransition(business, "change_activity", "تغییر نوع فعالیت فقط به درخواست کارشناس ممکن است.")
    old = business.activity_type
    business.activity_type = activity_type
    business.activity_change_requested = False
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.activity_changed", old=old, new=activity_type,
                 request=request)
    return business


@transaction.atomic
def business_request_domain_check(*, business_id: int, actor, request=None) -> Business:
    """Ask for a check now (the periodic task also picks pending businesses up)."""
    from .tasks import verify_business_domain

    business = _lock_own_business(business_id, actor)
    if not _throttle_hit(f"enamad-verify:{business.pk}", limit=10, window=600):
        raise Throttled
    business.domain_check_requested_at = timezone.now()
    business.save(update_fields=["domain_check_requested_at", "updated_at"])
    transaction.on_commit(lambda: verify_business_domain.delay(business.pk))
    return business


def _release_domain_claim(business: Business, *, actor, event: str, reason: str, request=None) -> None:
    """Clear the verified claim of a (locked) business, audit it and tell the owner."""
    old = business.domain_verified_method
    business.domain_verified_at = None
    business.domain_verified_method = ""
    business.tls_valid = False
    business.save()
    audit.record(actor=actor, target=business, event=event, old=old, reason=reason,
                 extra={"domain": business.domain}, request=request)
    context = {"business": business, "reason": reason,
               "url": _absolute(reverse("enamad:technical", args=[business.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_domain_released", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, subject=f"اینماد: تأییدیه فنی {business.domain} برداشته شد",
                          template="enamad_domain_released", context=context)


@transaction.atomic
def business_release_domain(*, business_id: int, actor, reason: str, request=None) -> Business:
    """Staff (managers) clear the verified claim of a business still with its applicant (draft or
    deficient) — an abandoned claim that keeps the domain's real owner out (N7). The owner is
    told why and may verify again."""
    if not reason.strip():
        raise ValidationError("دلیل آزادسازی دامنه را بنویسید.", code="reason")
    business = _lock_business(business_id)
    if not actor.has_perm("enamad.approve_business"):
        raise PermissionDenied
    if not business.editable or business.domain_verified_at is None:
        raise InvalidTransition(business, "release_domain", "فقط تأییدیه فنی کسب‌وکاری آزاد می‌شود که هنوز نزد "
                                                            "متقاضی است (در حال تکمیل یا اعلام نقص).")
    _release_domain_claim(business, actor=actor, event="enamad.business.domain_released", reason=reason,
                          request=request)
    return business


def _recheck_idle_holder(domain: str, *, exclude_id: int) -> bool:
    """Someone has just proved control of ``domain`` while a business still with its applicant
    holds the claim: check the holder again (a failed re-check releases its claim)."""
    from .models import EDITABLE_STATES
    from .tasks import verify_business_domain

    holder = (Business.objects.filter(domain=domain, domain_verified_at__isnull=False, status__in=EDITABLE_STATES)
              .exclude(pk=exclude_id).values_list("pk", flat=True).first())
    if holder is not None:
        transaction.on_commit(lambda: verify_business_domain.delay(holder))
    return holder is not None


def business_verify_domain(*, business_id: int) -> verification.CheckResult:
    """Run the domain checks (network, no transaction), then record what they found. A failed
    re-check of a business still with its applicant releases its claim on the domain."""
    snapshot = Business.objects.values("domain", "verification_token").get(pk=business_id)
    result = verification.check_domain(snapshot["domain"], snapshot["verification_token"])
    now = timezone.now()
    try:
        with transaction.atomic():
            business = _lock_business(business_id)
            if (business.domain, business.verification_token) != (snapshot["domain"], snapshot["verification_token"]):
                return result  # edited meanwhile: the next check will look at the new domain
            business.domain_checked_at = now
            business.domain_check_requested_at = None
            business.tls_valid = result.tls_valid
            business.tls_checked_at = now
            newly = result.ok and business.domain_verified_at is None
            if result.ok:
                business.domain_check_error = ""
                if newly:
                    business.domain_verified_at = now
                    business.domain_verified_method = result.method
            else:
                business.domain_check_error = result.error
            if not result.ok and business.domain_verified_at is not None and business.editable:
                _release_domain_claim(business, actor=None, event="enamad.business.domain_verification_lost",
                                      reason=result.error)
            else:
                business.save()
            if newly:
                audit.record(actor=None, target=business, event="enamad.business.domain_verified",
                             new=result.method, extra={"domain": business.domain, "tls": result.tls_valid})
                notify.send_email(to=business.account.user.email, subject=f"اینماد: تأییدیه فنی {business.domain}",
                                  template="enamad_domain_verified", context={"business": business})
    except IntegrityError:
        message = "این دامنه پیش‌تر به نام کسب‌وکار دیگری تأیید شده است."
        if _recheck_idle_holder(snapshot["domain"], exclude_id=business_id):
            message += " آن تأییدیه دوباره بررسی می‌شود؛ چند دقیقه بعد دوباره تلاش کنید."
        Business.objects.filter(pk=business_id).update(
            domain_checked_at=now, domain_check_requested_at=None, domain_check_error=message)
        result.ok = False
        result.problems.append(message)
    return result


# --- domain control by a code e-mailed to info@<domain> (N22) ----------------------------------

DOMAIN_HELD_MESSAGE = "این دامنه پیش‌تر به نام کسب‌وکار دیگری تأیید شده است."


def _domain_code_purpose(business: Business, seal: Seal | None) -> str:
    """Why a code may be sent now: ``verify`` (the technical step of a file still with its
    applicant), ``reconfirm`` (a seal verified by e-mail whose proof the monitor found too old:
    README "Seal monitoring"), or "" (no code is needed)."""
    if business.domain_verified_at is None and business.editable:
        return "verify"
    if (business.domain_verified_method == VerificationMethod.EMAIL and seal is not None
            and seal.domain_failing_since is not None):
        return "reconfirm"
    return ""


def _domain_code_digest(business: Business, address: str, code: str) -> str:
    return _digest("domain-email", f"{business.pk}:{address}:{code}")


def _issue_domain_code(business: Business, *, actor, by_monitor: bool = False, request=None) -> DomainEmailCode:
    """Make a code (the business's earlier ones die: only the latest counts), queue the e-mail to
    info@ the business's domain with the code masked in the outbox once sent, and audit it."""
    address = control_email_address(business.domain)
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    seconds = settings.ENAMAD_DOMAIN_EMAIL_CODE_SECONDS
    row = DomainEmailCode.objects.create(business=business, address=address, created_at=now, by_monitor=by_monitor,
                                         code_hash=_domain_code_digest(business, address, code),
                                         expires_at=now + timedelta(seconds=seconds))
    context = {"business": business, "domain": display_domain(business.domain), "code": code,
               "minutes": seconds // 60, "reconfirm": by_monitor or business.domain_verified_at is not None,
               "url": _absolute(reverse("enamad:technical", args=[business.pk]))}
    notify.send_email(to=address, subject=f"اینماد: کد تأییدیه فنی {context['domain']}", template="enamad_domain_code",
                      context=context, secrets=("code",))
    audit.record(actor=actor, target=business, event="enamad.business.domain_code_sent",
                 extra={"address": address, "by": "monitor" if by_monitor else "holder"}, request=request)
    return row


@transaction.atomic
def business_send_domain_code(*, business_id: int, actor, request=None) -> DomainEmailCode:
    """The holder asks for a code at info@ the business's own domain (never an address they
    type). Not sooner than ``ENAMAD_DOMAIN_EMAIL_RESEND_SECONDS`` after the last one, and at
    most ``ENAMAD_DOMAIN_EMAIL_DAILY_LIMIT`` a day per business and
    ``ENAMAD_DOMAIN_EMAIL_ADDRESS_DAILY_LIMIT`` per address (others may claim the same domain:
    its mailbox is not to be flooded)."""
    business = _lock_own_business(business_id, actor)
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if not _domain_code_purpose(business, seal):
        raise InvalidTransition(business, "send_domain_code", "تأییدیه فنی این کسب‌وکار اکنون به کد رایانامه‌ای نیاز ندارد.")
    if business.domain_verified_at is None and domain_is_held(business.domain, exclude_id=business.pk):
        message = DOMAIN_HELD_MESSAGE
        if _recheck_idle_holder(business.domain, exclude_id=business.pk):
            message += " آن تأییدیه دوباره بررسی می‌شود؛ چند دقیقه بعد دوباره تلاش کنید."
        raise ValidationError(message, code="domain_taken")
    address = control_email_address(business.domain)
    now = timezone.now()
    last = business.domain_email_codes.filter(by_monitor=False).values_list("created_at", flat=True).first()
    wait = settings.ENAMAD_DOMAIN_EMAIL_RESEND_SECONDS - int((now - last).total_seconds()) if last else 0
    if wait > 0:
        raise Throttled(f"کد پیشین همین حالا فرستاده شد؛ برای کد تازه {wait} ثانیه دیگر صبر کنید.")
    day_ago = now - timedelta(days=1)
    if (business.domain_email_codes.filter(created_at__gt=day_ago, by_monitor=False).count()
            >= settings.ENAMAD_DOMAIN_EMAIL_DAILY_LIMIT
            or DomainEmailCode.objects.filter(address=address, created_at__gt=day_ago).count()
            >= settings.ENAMAD_DOMAIN_EMAIL_ADDRESS_DAILY_LIMIT):
        raise Throttled(f"سقف ارسال کد به {address} در یک روز پر شده است؛ فردا دوباره تلاش کنید یا روش دیگری را "
                        "به کار ببرید.")
    return _issue_domain_code(business, actor=actor, request=request)


def _domain_code_refusal(business: Business, row: DomainEmailCode | None, purpose: str, code: str,
                         now) -> str:
    """Why ``code`` does not prove control now, in words for the field; "" when it does."""
    address = control_email_address(business.domain)
    if row is None or row.address != address:
        return f"هنوز کدی به {address} فرستاده نشده است؛ «ارسال کد» را بزنید."
    if row.used_at is not None:
        return "این کد پیش‌تر به کار رفته است و دوباره پذیرفته نمی‌شود."
    if not purpose:
        return "تأییدیه فنی این کسب‌وکار اکنون به کد رایانامه‌ای نیاز ندارد."
    if row.failures >= settings.ENAMAD_DOMAIN_EMAIL_MAX_ATTEMPTS:
        return "این کد پس از چند بار ورود نادرست باطل شده است؛ کد تازه بخواهید."
    if row.expires_at <= now:
        return "اعتبار این کد به پایان رسیده است؛ کد تازه بخواهید."
    if hmac.compare_digest(_domain_code_digest(business, address, code), row.code_hash):
        return ""
    row.failures += 1
    row.save(update_fields=["failures"])
    audit.record(actor=business.account.user, target=business, event="enamad.business.domain_code_rejected",
                 extra={"address": address, "failures": row.failures})
    left = settings.ENAMAD_DOMAIN_EMAIL_MAX_ATTEMPTS - row.failures
    if left <= 0:
        return "کد درست نیست؛ این کد دیگر پذیرفته نمی‌شود، کد تازه بخواهید."
    return f"کد درست نیست؛ {left} بار دیگر می‌توانید تلاش کنید."


def business_confirm_domain_code(*, business_id: int, actor, code: str, request=None) -> Business:
    """The holder enters the e-mailed code: domain control is proved with method ``email``
    (or, for a seal asked to confirm again, the proof is renewed and the monitor's warning or
    suspension lifted). A refusal raises ``ValidationError`` in words for the code field; a
    wrong try is counted (and audited) all the same."""
    refusal = _confirm_domain_code(business_id=business_id, actor=actor, code=to_latin_digits(code or "").strip(),
                                   request=request)
    if refusal:
        raise ValidationError(refusal, code="code")
    return Business.objects.get(pk=business_id)


@transaction.atomic
def _confirm_domain_code(*, business_id: int, actor, code: str, request=None) -> str:
    business = _lock_own_business(business_id, actor)
    seal = Seal.objects.select_for_update().filter(business=business).first()
    row = business.domain_email_codes.select_for_update().first()
    purpose = _domain_code_purpose(business, seal)
    now = timezone.now()
    refusal = _domain_code_refusal(business, row, purpose, code, now)
    if refusal:
        return refusal
    old_method = business.domain_verified_method
    business.domain_verified_at = now
    business.domain_verified_method = VerificationMethod.EMAIL
    business.domain_check_error = ""
    try:
        with transaction.atomic():
            business.save()
    except IntegrityError:
        message = DOMAIN_HELD_MESSAGE
        if _recheck_idle_holder(business.domain, exclude_id=business.pk):
            message += " آن تأییدیه دوباره بررسی می‌شود؛ چند دقیقه بعد دوباره تلاش کنید."
        return message
    row.used_at = now
    row.save(update_fields=["used_at"])
    extra = {"domain": business.domain, "address": row.address}
    if purpose == "verify":
        audit.record(actor=actor, target=business, event="enamad.business.domain_verified", new=business.domain_verified_method,
                     extra=extra, request=request)
        notify.send_email(to=business.account.user.email, subject=f"اینماد: تأییدیه فنی {business.domain}",
                          template="enamad_domain_verified", context={"business": business})
        return ""
    audit.record(actor=actor, target=business, event="enamad.business.domain_reconfirmed", old=old_method,
                 new=business.domain_verified_method, extra=extra, request=request)
    events = _seal_domain_restored(business, seal, method=business.domain_verified_method)
    seal.save()
    _forget_seal(seal)
    _notify_monitor(business, seal, events)
    return ""


def _licence_required(category) -> ValidationError:
    return ValidationError(
        "خدمت «%(name)s» به مجوز از %(authority)s نیاز دارد: شماره مجوز و تصویر آن را بارگذاری کنید.",
        code="licence_required", params={"name": category.name, "authority": category.authority})


@transaction.atomic
def business_save_services(*, business_id: int, actor, data: dict, licence_file=None, request=None) -> BusinessService:
    """N8: the four sections; a service that needs a licence needs its upload."""
    business = _lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "services", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    service = BusinessService.objects.filter(business=business).first() or BusinessService(business=business)
    if business.renewing and service.pk:
        return _stage_services(business, service, data, licence_file, actor=actor, request=request)
    for name in ("category", "offerings", "delivery_methods", "payment_methods", "licence_reference"):
        setattr(service, name, data.get(name, getattr(service, name, "")))
    if licence_file is not None:
        validate_upload(licence_file)
        service.licence_file.save(licence_file.name, licence_file, save=False)
    if service.category.requires_licence and not (service.licence_file and service.licence_reference):
        raise _licence_required(service.category)
    service.save()
    audit.record(actor=actor, target=business, event="enamad.business.services_saved",
                 extra={"category": service.category.name}, request=request)
    return service


def _stage_services(business: Business, service: BusinessService, data: dict, licence_file, *, actor,
                    request=None) -> BusinessService:
    """The services page in a renewal's deficiency round: the corrections wait for final
    approval like the renewal form's (a new licence image is stored now, put on file then)."""
    category = data.get("category") or service.category
    staged = {"category": category.pk, **{name: data.get(name, getattr(service, name))
                                          for name in RENEWAL_SERVICE_FIELDS[1:5]}}
    if licence_file is not None:
        validate_upload(licence_file)
        field = service.licence_file.field
        staged["licence_file"] = field.storage.save(field.generate_filename(service, licence_file.name), licence_file)
    if category.requires_licence and not (staged["licence_reference"]
                                          and (staged.get("licence_file") or business.requested_service()["licence_file"])):
        raise _licence_required(category)
    changed = _stage_service_changes(business, staged)
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.services_saved",
                 extra={"category": category.name, "fields": changed, "pending": True}, request=request)
    return service


@transaction.atomic
def business_save_survey(*, business_id: int, actor, data: dict, request=None) -> SurveyResponse:
    business = _lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "survey", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    survey, _ = SurveyResponse.objects.update_or_create(business=business, defaults=data)
    business.survey_done_at = business.survey_done_at or timezone.now()
    business.save(update_fields=["survey_done_at", "updated_at"])
    audit.record(actor=actor, target=business, event="enamad.business.survey_saved", request=request)
    return survey


@transaction.atomic
def business_send_email_link(*, business_id: int, actor, request=None) -> None:
    business = _lock_own_business(business_id, actor)
    if not _throttle_hit(f"enamad-email:{business.pk}", limit=5, window=3600):
        raise Throttled
    email = business.requested("email")
    token = signing.dumps({"b": business.pk, "e": email}, salt=EMAIL_SALT)
    notify.send_email(to=email, subject=f"اینماد: تأیید رایانامه {business.domain}",
                      template="enamad_business_email",
                      context={"business": business, "url": _absolute(reverse("enamad:confirm_email", args=[token]))})
    audit.record(actor=actor, target=business, event="enamad.business.email_link_sent", request=request)


def business_email_link_check(*, token: str, lock: bool = False) -> Business:
    """The business a live e-mail confirmation link is for; ``ActivationError`` in words
    otherwise. Changes nothing: the page the link opens (mail scanners fetch it too) shows a
    button that POSTs to ``business_confirm_email``."""
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=settings.ENAMAD_EMAIL_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise ActivationError("پیوند تأیید رایانامه معتبر نیست یا منقضی شده است.") from None
    businesses = Business.objects.select_for_update() if lock else Business.objects.all()
    business = businesses.filter(pk=data.get("b")).first()
    if business is None or business.requested("email") != data.get("e"):
        raise ActivationError("این پیوند برای رایانامه فعلی کسب‌وکار نیست.")
    return business


@transaction.atomic
def business_confirm_email(*, token: str, request=None) -> Business:
    business = business_email_link_check(token=token, lock=True)
    if business.email_verified_at is None:
        business.email_verified_at = timezone.now()
        business.save(update_fields=["email_verified_at", "updated_at"])
        audit.record(actor=None, target=business, event="enamad.business.email_verified", request=request)
    return business


@transaction.atomic
def business_send_address_letter(*, business_id: int, actor, request=None) -> PostalLetter:
    """N10 address check: a code posted on paper to the business address."""
    business = _lock_own_business(business_id, actor)
    if business.address_code_sent_at and timezone.now() - business.address_code_sent_at < timedelta(days=1):
        raise Throttled
    code = f"{secrets.randbelow(10**8):08d}"
    business.address_code_hash = _digest("address", f"{business.pk}:{code}")
    business.address_code_sent_at = timezone.now()
    business.address_code_failures = 0
    business.save()
    letter = PostalLetter.objects.create(
        business=business, recipient=business.account.display_name, address=business.requested("address"),
        postal_code=business.requested("postal_code"),
        body=f"کد احراز نشانی کسب‌وکار «{business.name}» ({business.domain}) در سامانه اینماد: {code}",
    )
    audit.record(actor=actor, target=business, event="enamad.business.address_letter_queued", request=request)
    return letter


@transaction.atomic
def business_confirm_address(*, business_id: int, actor, code: str, request=None) -> bool:
    business = _lock_own_business(business_id, actor)
    code = to_latin_digits(code or "").strip()
    if not business.address_code_hash or business.address_code_failures >= ADDRESS_CODE_MAX_FAILURES:
        return False
    if not hmac.compare_digest(_digest("address", f"{business.pk}:{code}"), business.address_code_hash):
        business.address_code_failures += 1
        business.save(update_fields=["address_code_failures", "updated_at"])
        return False
    business.address_verified_at = timezone.now()
    business.address_code_hash = ""
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.address_verified", request=request)
    return True


# --- review (N11, N12, N14, N15) ---------------------------------------------------------------


def _not_ready_message(business: Business) -> str:
    missing = business.missing_for_send()
    if not missing:
        return "این عملیات در وضعیت فعلی امکان‌پذیر نیست."
    return "پیش از ارسال این موارد را کامل کنید: " + "، ".join(missing)


@transaction.atomic
def business_send(*, business_id: int, actor, request=None) -> Business:
    """N12: send the file to the expert; no edits after this."""
    business = _lock_own_business(business_id, actor)
    return _transition(business, "send", actor=actor, event="enamad.business.sent", request=request,
                       message=_not_ready_message(business))


@transaction.atomic
def business_resend(*, business_id: int, actor, replies: dict[int, str] | None = None, request=None) -> Business:
    """N12: after fixing, answer the failed items (optional) and send again."""
    business = _lock_own_business(business_id, actor)
    review = business.reviews.first()
    if review and replies:
        now = timezone.now()
        for item in review.items.filter(approved=False):
            text = (replies.get(item.pk) or "").strip()
            if text:
                item.reply, item.replied_at = text, now
                item.save(update_fields=["reply", "replied_at"])
    return _transition(business, "resend", actor=actor, event="enamad.business.resent", request=request,
                       message=_not_ready_message(business))


@transaction.atomic
def business_review(*, business_id: int, actor, results: dict[int, tuple[bool, str]], note: str = "",
                    ask_activity_change: bool = False, request=None) -> Review:
    """The expert's checklist verdict: every active item approved → physical documents; any item
    not approved (each with its explanation) → deficiency announced."""
    business = _lock_business(business_id)
    items = list(ChecklistItem.objects.filter(active=True))
    missing = [item.title for item in items if item.pk not in results]
    if missing:
        raise ValidationError("همه موارد چک‌لیست را بررسی کنید: " + "، ".join(missing), code="incomplete")
    unexplained = [item.title for item in items if not results[item.pk][0] and not results[item.pk][1].strip()]
    if unexplained:
        raise ValidationError("برای موارد تأییدنشده توضیح بنویسید: " + "، ".join(unexplained), code="explanation")
    all_ok = all(results[item.pk][0] for item in items) and not ask_activity_change
    name = "approve" if all_ok else "announce_deficiency"
    if not has_transition_perm(getattr(business, name), actor):
        if can_proceed(getattr(business, name)):
            raise PermissionDenied
        raise InvalidTransition(business, name)
    review = Review.objects.create(business=business, round=business.reviews.count() + 1, expert=actor, note=note,
                                   outcome=Review.Outcome.APPROVED if all_ok else Review.Outcome.DEFICIENT)
    ReviewItem.objects.bulk_create([
        ReviewItem(review=review, item=item, approved=results[item.pk][0], explanation=results[item.pk][1].strip())
        for item in items
    ])
    if ask_activity_change:
        business.activity_change_requested = True
    failed = [item.title for item in items if not results[item.pk][0]]
    reason = note or ("موارد تأییدنشده: " + "، ".join(failed) if failed else "")
    if ask_activity_change:
        reason = (reason + " — " if reason else "") + "نوع فعالیت را به «صنفی» تغییر دهید."
    _transition(business, name, actor=actor, event=f"enamad.business.{'approved' if all_ok else 'deficient'}",
                reason=reason, request=request, extra={"round": review.round, "failed": len(failed)})
    return review


@transaction.atomic
def business_documents_received(*, business_id: int, actor, request=None) -> Business:
    business = _lock_business(business_id)
    if not actor.has_perm("enamad.review_documents"):
        raise PermissionDenied
    if business.status != BusinessStatus.PHYSICAL_DOCUMENTS:
        raise InvalidTransition(business, "documents_received")
    business.documents_received_at = timezone.now()
    business.save(update_fields=["documents_received_at", "updated_at"])
    audit.record(actor=actor, target=business, event="enamad.business.documents_received", request=request)
    return business


@transaction.atomic
def business_accept_documents(*, business_id: int, actor, request=None) -> Business:
    business = _lock_business(business_id)
    if business.documents_received_at is None and business.status == BusinessStatus.PHYSICAL_DOCUMENTS:
        business.documents_received_at = timezone.now()
    return _transition(business, "accept_documents", actor=actor, event="enamad.business.documents_accepted",
                       request=request)


@transaction.atomic
def business_reject_documents(*, business_id: int, actor, reason: str, request=None) -> Business:
    if not reason.strip():
        raise ValidationError("دلیل عدم تأیید مدارک را بنویسید.", code="reason")
    business = _lock_business(business_id)
    return _transition(business, "reject_documents", actor=actor, event="enamad.business.documents_rejected",
                       reason=reason, args=(reason,), request=request)


@transaction.atomic
def business_resend_documents(*, business_id: int, actor, request=None) -> Business:
    business = _lock_own_business(business_id, actor)
    return _transition(business, "resend_documents", actor=actor, event="enamad.business.documents_resent",
                       request=request)


@transaction.atomic
def business_return_to_expert(*, business_id: int, actor, reason: str, request=None) -> Business:
    business = _lock_business(business_id)
    return _transition(business, "return_to_expert", actor=actor, event="enamad.business.returned_to_expert",
                       reason=reason, args=(reason,), request=request)


def _new_seal_number() -> int:
    while True:
        number = 100_000 + secrets.randbelow(9_900_000)
        if not Seal.objects.filter(number=number).exists():
            return number


@transaction.atomic
def business_final_approve(*, business_id: int, actor, request=None) -> Seal:
    """N15 → N16/N18: final approval issues (or renews) the seal: one star, two with valid TLS,
    valid ``ENAMAD_SEAL_VALIDITY_DAYS`` from now."""
    business = _lock_business(business_id)
    message = None
    if business.status == BusinessStatus.MANAGER_REVIEW and business.contacts_verified_count < 3:
        message = "پیش از تأیید نهایی هر سه مورد رایانامه، تلفن و نشانی کسب‌وکار باید احراز شده باشند."
    service_changes = business.pending_changes.get("service", {})
    _transition(business, "final_approve", actor=actor, event="enamad.business.final_approved", request=request,
                message=message, words="renewed" if business.renewing else None)
    if service_changes:
        _apply_service_changes(business, service_changes)
    now = timezone.now()
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if seal is None:
        seal = Seal(business=business, number=_new_seal_number())
    _forget_seal(seal if seal.pk else None)
    # A renewal approved before the old expiry adds the year to what was left, not to today.
    start = max(now, seal.expires_at) if seal.pk and seal.expires_at else now
    seal.stars = 2 if business.tls_valid else 1
    seal.granted_at = now
    seal.expires_at = start + timedelta(days=settings.ENAMAD_SEAL_VALIDITY_DAYS)
    seal.tls_checked_at = business.tls_checked_at
    seal.reminder_days_sent = None
    seal.monitor_due_at = now + timedelta(hours=settings.ENAMAD_MONITOR_INTERVAL_HOURS)
    seal.reachable, seal.unreachable_since, seal.domain_failing_since, seal.failed_checks = True, None, None, 0
    seal.suspended_by_monitor, seal.monitor_error = False, ""
    seal.save()
    audit.record(actor=actor, target=seal, event="enamad.seal.issued", new=str(seal.stars),
                 extra={"number": seal.number, "expires_at": seal.expires_at.isoformat()}, request=request)
    return seal


RENEWAL_WINDOW_DAYS = 30
RENEWAL_FORM_SERVICE_FIELDS = ("offerings", "delivery_methods", "payment_methods", "licence_reference")


def _stage_renewal_changes(business: Business, data: dict) -> list[str]:
    """Put a renewal's corrections of the details aside until final approval (N18, N20): the
    seal page keeps showing what was reviewed. A changed e-mail, phone or address must be
    verified again; the verification of the value in force is kept aside and put back if the
    renewal ends without approval (``Business.suspend``). The caller saves the business."""
    values = dict(business.pending_changes.get("values", {}))
    kept = dict(business.pending_changes.get("kept", {}))
    changed = [name for name in RENEWAL_FIELDS if name in data and business.requested(name) != data[name]]
    for name in changed:
        if data[name] == getattr(business, name):
            values.pop(name, None)
        else:
            values[name] = data[name]
        flag = CONTACT_VERIFICATION.get(name)
        if flag:
            if flag not in kept:
                when = getattr(business, flag)
                kept[flag] = when.isoformat() if when else None
            setattr(business, flag, None)
            if flag == "address_verified_at":
                business.address_code_hash = ""
    business.set_pending(values=values, kept=kept)
    return changed


def _stage_service_changes(business: Business, data: dict) -> list[str]:
    """A renewal's corrections of the services and licence wait with the details (README:
    renewal): the file in force keeps what was reviewed, final approval writes them to the
    ``BusinessService``, a renewal that ends without approval drops them. The caller saves."""
    in_force, requested = business.service_in_force(), business.requested_service()
    staged = dict(business.pending_changes.get("service", {}))
    changed = [name for name in RENEWAL_SERVICE_FIELDS if name in data and requested.get(name) != data[name]]
    for name in changed:
        if data[name] == in_force.get(name):
            staged.pop(name, None)
        else:
            staged[name] = data[name]
    business.set_pending(service=staged)
    return changed


def _apply_service_changes(business: Business, changes: dict) -> None:
    """Final approval of a renewal: its corrected services and licence go on file."""
    service = BusinessService.objects.select_for_update().get(business=business)
    for name, value in changes.items():
        if name == "category":
            service.category_id = value
        elif name == "licence_file":
            service.licence_file.name = value
        else:
            setattr(service, name, value)
    service.save()


def renewal_allowed(business: Business, seal: Seal | None, now=None) -> bool:
    if business.status == BusinessStatus.EXPIRED:
        return True
    now = now or timezone.now()
    return (business.status == BusinessStatus.APPROVED and seal is not None
            and seal.expires_at - now <= timedelta(days=RENEWAL_WINDOW_DAYS))


@transaction.atomic
def business_renew(*, business_id: int, actor, data: dict | None = None, service_data: dict | None = None,
                   request=None) -> Business:
    """The owner asks for another year (N18): the renewal form comes pre-filled with the file's
    details, the owner confirms or corrects them, and the file goes back to the expert (DESIGN:
    renew → under_review), from an expired seal or within ``RENEWAL_WINDOW_DAYS`` of expiry.
    Until then the seal keeps vouching up to its old expiry date; the seal keeps its id and
    code, and final approval adds the new year to what was left."""
    business = _lock_own_business(business_id, actor)
    seal = Seal.objects.filter(business=business).first()
    if not renewal_allowed(business, seal):
        raise InvalidTransition(business, "renew", f"تمدید از {RENEWAL_WINDOW_DAYS} روز پیش از انقضا ممکن است.")
    changed = _stage_renewal_changes(business, data or {})
    service_changed = []
    if service_data and BusinessService.objects.filter(business=business).exists():
        service_changed = _stage_service_changes(business, {name: service_data[name] for name in RENEWAL_FORM_SERVICE_FIELDS
                                                            if name in service_data})
    _transition(business, "renew", actor=actor, event="enamad.business.renewal_requested", request=request,
                message=_not_ready_message(business), extra={"fields": changed + service_changed})
    _forget_seal(seal)
    return business


@transaction.atomic
def business_reject_renewal(*, business_id: int, actor, reason: str, request=None) -> Business:
    """The expert or the manager refuses a renewal, with a reason (N18): the file goes back to
    its seal as it was — approved, vouching until its old expiry date (expired if that date has
    passed) — the corrections waiting in ``pending_changes`` are dropped and the verifications
    of the values in force come back (audited ``…renewal_changes_dropped``, as on suspension).
    The holder is told and may ask for a renewal again."""
    if not (reason or "").strip():
        raise ValidationError("دلیل رد درخواست تمدید را بنویسید.", code="reason")
    business = _lock_business(business_id)
    seal = Seal.objects.select_for_update().filter(business=business).first()
    expired = seal is None or seal.expires_at <= timezone.now()
    _transition(business, "reject_renewal", actor=actor, event="enamad.business.renewal_rejected", reason=reason,
                args=(reason, expired), request=request,
                words="renewal_rejected_expired" if expired else "renewal_rejected")
    _forget_seal(seal)
    return business


def _seal_transition(business_id: int, name: str, *, actor, event: str, reason: str = "", request=None) -> Business:
    business = _lock_business(business_id)
    args = (reason,) if name in {"suspend", "revoke"} else ()
    _transition(business, name, actor=actor, event=event, reason=reason, args=args, request=request)
    seal = Seal.objects.filter(business=business).first()
    if seal is not None and name == "reinstate" and seal.suspended_by_monitor:
        # Staff lifted a suspension the monitor imposed: the grace period starts again.
        Seal.objects.filter(pk=seal.pk).update(suspended_by_monitor=False, domain_failing_since=None,
                                               failed_checks=0)
    _forget_seal(seal)
    return business


def monitor_suspension_can_be_taken_over(business: Business, seal: Seal | None, actor) -> bool:
    return (business.status == BusinessStatus.SUSPENDED and seal is not None and seal.suspended_by_monitor
            and _can_suspend(business, actor))


def _take_over_monitor_suspension(business: Business, *, actor, reason: str, request=None,
                                  extra: dict | None = None) -> bool:
    """Staff keep suspended a seal the monitor suspended (a complaint upheld, the desk): the
    suspension becomes theirs, so a restored domain check no longer lifts it (the monitor
    stops re-checking it). False when the seal is not under the monitor's suspension. The
    business is locked by the caller; the seal is locked after it (the one order)."""
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if business.status != BusinessStatus.SUSPENDED or seal is None or not seal.suspended_by_monitor:
        return False
    if not _can_suspend(business, actor):
        raise PermissionDenied
    seal.suspended_by_monitor = False
    seal.save(update_fields=["suspended_by_monitor"])
    business.last_reason = reason
    business.save(update_fields=["last_reason", "updated_at"])
    audit.record(actor=actor, target=seal, event="enamad.seal.suspension_taken_over", old="monitor", new="staff",
                 reason=reason, extra=extra, request=request)
    _notify_holder(business, event="enamad.seal.suspension_taken_over", reason=reason)
    return True


@transaction.atomic
def business_suspend(*, business_id: int, actor, reason: str, request=None) -> Business:
    """Suspend a seal that vouches; a seal the monitor suspended stays suspended by staff."""
    business = _lock_business(business_id)
    if _take_over_monitor_suspension(business, actor=actor, reason=reason, request=request):
        return business
    return _seal_transition(business_id, "suspend", actor=actor, event="enamad.seal.suspended", reason=reason,
                            request=request)


@transaction.atomic
def business_reinstate(*, business_id: int, actor, request=None) -> Business:
    return _seal_transition(business_id, "reinstate", actor=actor, event="enamad.seal.reinstated", request=request)


@transaction.atomic
def business_revoke(*, business_id: int, actor, reason: str, request=None) -> Business:
    return _seal_transition(business_id, "revoke", actor=actor, event="enamad.seal.revoked", reason=reason,
                            request=request)


@transaction.atomic
def business_expire(*, business_id: int) -> Business:
    return _seal_transition(business_id, "expire", actor=None, event="enamad.seal.expired")


def seals_expire_due() -> int:
    """Beat task: move seals past their year to expired (N18, N21)."""
    due = Business.objects.filter(status__in=[BusinessStatus.APPROVED, BusinessStatus.SUSPENDED],
                                  seal__expires_at__lte=timezone.now()).values_list("pk", flat=True)
    count = 0
    for business_id in list(due):
        try:
            business_expire(business_id=business_id)
            count += 1
        except InvalidTransition:
            continue
    return count




# --- monitoring of sealed sites (N18, N21) -----------------------------------------------------

MONITOR_LINES = {
    "enamad.seal.unreachable": "سایت {domain} در بررسی دوره‌ای در دسترس نبود.",
    "enamad.seal.reachable": "سایت {domain} دوباره در دسترس است.",
    "enamad.seal.tls_lapsed": "گواهی TLS سایت {domain} معتبر نیست (یا منقضی شده است)؛ نماد از دو ستاره به یک ستاره "
                              "کاهش یافت. با نصب گواهی معتبر، ستاره دوم خودکار بازمی‌گردد.",
    "enamad.seal.tls_restored": "گواهی TLS سایت {domain} معتبر است؛ نماد دوباره دو ستاره شد.",
    "enamad.seal.domain_lapsed": "نشانه تأییدیه فنی {domain} به روشی که انتخاب کرده‌اید ({method}) یافت نشد. آن را "
                                 "تا {deadline} برگردانید؛ در غیر این صورت نماد تعلیق می‌شود.",
    "enamad.seal.domain_restored": "تأییدیه فنی {domain} دوباره برقرار شد.",
    # A seal verified by the e-mailed code (N22) whose proof is older than ENAMAD_DOMAIN_EMAIL_PROOF_DAYS.
    "enamad.seal.domain_lapsed.email": "تأییدیه فنی {domain} با کد رایانامه‌ای باید تازه شود: کد تازه‌ای به {address} "
                                       "فرستادیم. آن را تا {deadline} در صفحه تأییدیه فنی وارد کنید (یا یک نشانه ماندگار "
                                       "مانند برچسب meta بگذارید)؛ در غیر این صورت نماد تعلیق می‌شود.",
}


@dataclass(frozen=True)
class SealSnapshot:
    """What the monitor reads before going to the network (no transaction is held meanwhile)."""

    seal_id: int
    domain: str
    token: str
    method: str
    stars: int
    reachable: bool
    domain_failing_since: object
    suspended_by_monitor: bool
    verified_at: object
    failed_checks: int

    @property
    def standing_proof(self) -> bool:
        """An e-mailed proof of control (N22) recent enough to stand without a mark on the site."""
        return (self.method == VerificationMethod.EMAIL and self.verified_at is not None
                and self.verified_at > timezone.now() - timedelta(days=settings.ENAMAD_DOMAIN_EMAIL_PROOF_DAYS))

    def check(self) -> verification.MonitorResult:
        """The network part of one re-check (no database, no transaction)."""
        return verification.monitor_check(self.domain, self.token, self.method, self.standing_proof)

    def healthy_with(self, result: verification.MonitorResult) -> bool:
        """Nothing to record but the time: it was healthy and still is."""
        return (result.reachable and self.reachable and result.domain_ok and self.domain_failing_since is None
                and not self.suspended_by_monitor and self.stars == (2 if result.tls_valid else 1)
                and result.method == self.method and self.failed_checks == 0)


SNAPSHOT_FIELDS = ("pk", "business__domain", "business__verification_token", "business__domain_verified_method",
                   "stars", "reachable", "domain_failing_since", "suspended_by_monitor", "business__domain_verified_at",
                   "failed_checks")


def seal_snapshots(seal_ids) -> list[SealSnapshot]:
    return [SealSnapshot(*row) for row in Seal.objects.filter(pk__in=list(seal_ids)).values_list(*SNAPSHOT_FIELDS)]


def _notify_monitor(business: Business, seal: Seal, events: list[str]) -> None:
    deadline = ""
    if seal.domain_failing_since:
        from ramis.common.jalali import jalali_date

        deadline = jalali_date(seal.domain_failing_since + timedelta(days=settings.ENAMAD_MONITOR_GRACE_DAYS))
    method = business.get_domain_verified_method_display() or "برچسب meta، فایل یا رکورد TXT"
    if business.domain_verified_method == VerificationMethod.EMAIL:
        events = [f"{e}.email" if e == "enamad.seal.domain_lapsed" else e for e in events]
    lines = [MONITOR_LINES[e].format(domain=business.domain, deadline=deadline, method=method,
                                     address=control_email_address(business.domain))
             for e in events if e in MONITOR_LINES]
    if not lines:
        return
    context = {"business": business, "lines": lines, "error": seal.monitor_error,
               "url": _absolute(reverse("enamad:business", args=[business.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_monitor", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, subject=f"اینماد: پایش نماد {business.domain}",
                          template="enamad_monitor", context=context)


def _seal_domain_restored(business: Business, seal: Seal, *, method: str) -> list[str]:
    """Domain control is back on a (locked) seal: end the grace period and lift the monitor's
    own suspension. The caller saves the seal."""
    events = []
    if seal.domain_failing_since is not None:
        seal.domain_failing_since = None
        audit.record(actor=None, target=seal, event="enamad.seal.domain_restored", new=method)
        events.append("enamad.seal.domain_restored")
    if business.status == BusinessStatus.SUSPENDED and seal.suspended_by_monitor:
        seal.suspended_by_monitor = False
        _transition(business, "reinstate", actor=None, event="enamad.seal.reinstated",
                    reason="تأییدیه فنی دامنه دوباره برقرار شد.", extra={"by": "monitor"})
        events.append("enamad.seal.reinstated")
    return events


@transaction.atomic
def seal_record_check(*, seal_id: int, result: verification.MonitorResult) -> list[str]:
    """Record one re-check (the network part ran before, outside any transaction). Each change
    is audited and told to the holder (N21):

    * TLS lapsed → two stars drop to one; valid again → two stars;
    * domain control lapsed → a warning, and suspension once it has lapsed for
      ``ENAMAD_MONITOR_GRACE_DAYS``; restored → the monitor's suspension is lifted;
    * reachability lost or regained.

    A failure counts only once ``ENAMAD_MONITOR_FAILURES`` checks in a row have failed (the count
    is kept on the seal, a clean check resets it): one dropped connection or TLS hiccup neither
    drops a star, nor marks the site unreachable, nor starts the grace period. Recoveries count
    at once.

    Every seal that vouches is in scope, also while its renewal is reviewed (a suspension then
    drops the renewal); seals suspended or revoked by staff and expired seals are left alone.
    Locks the business first, then the seal, like every service that locks both."""
    now = timezone.now()
    business, seal = _lock_seal(seal_id)
    events: list[str] = []
    seal.monitored_at = now
    seal.monitor_due_at = now + timedelta(hours=settings.ENAMAD_MONITOR_INTERVAL_HOURS)
    seal.monitor_error = "" if (result.reachable and result.domain_ok and result.tls_valid) else result.error
    vouches = seal_vouches(status=business.status, renewing=business.renewing, expires_at=seal.expires_at, now=now)
    in_scope = vouches or (seal.expires_at > now and business.status == BusinessStatus.SUSPENDED
                           and seal.suspended_by_monitor)
    if not in_scope:
        seal.save(update_fields=["monitored_at", "monitor_due_at", "monitor_error"])
        return events
    failing = not result.reachable or not result.domain_ok or (not result.tls_valid and seal.stars == 2)
    seal.failed_checks = min(seal.failed_checks + 1, 1000) if failing else 0
    confirmed = seal.failed_checks >= settings.ENAMAD_MONITOR_FAILURES
    if result.reachable != seal.reachable and (result.reachable or confirmed):
        seal.reachable = result.reachable
        seal.unreachable_since = None if result.reachable else now
        event = "enamad.seal.reachable" if result.reachable else "enamad.seal.unreachable"
        audit.record(actor=None, target=seal, event=event, reason=result.error)
        events.append(event)
    stars = 2 if result.tls_valid else 1
    seal.tls_checked_at = now
    if stars > seal.stars or (stars < seal.stars and confirmed):
        old, seal.stars = seal.stars, stars
        audit.record(actor=None, target=seal, event="enamad.seal.stars_changed", old=str(old), new=str(stars),
                     reason="" if result.tls_valid else result.error)
        events.append("enamad.seal.tls_restored" if stars > old else "enamad.seal.tls_lapsed")
    if result.domain_ok:
        if result.method and result.method != business.domain_verified_method:
            audit.record(actor=None, target=business, event="enamad.business.domain_method_changed",
                         old=business.domain_verified_method, new=result.method)
            business.domain_verified_method = result.method
            business.save(update_fields=["domain_verified_method", "updated_at"])
        events += _seal_domain_restored(business, seal, method=result.method)
    else:
        grace = timedelta(days=settings.ENAMAD_MONITOR_GRACE_DAYS)
        if seal.domain_failing_since is None and confirmed:
            seal.domain_failing_since = now
            audit.record(actor=None, target=seal, event="enamad.seal.domain_lapsed", reason=result.error,
                         old=business.domain_verified_method, new=result.other_method,
                         extra={"grace_days": settings.ENAMAD_MONITOR_GRACE_DAYS})
            events.append("enamad.seal.domain_lapsed")
            if business.domain_verified_method == VerificationMethod.EMAIL and vouches:
                _issue_domain_code(business, actor=None, by_monitor=True)
        elif seal.domain_failing_since is not None and vouches and now - seal.domain_failing_since >= grace:
            reason = (f"تأییدیه فنی دامنه بیش از {settings.ENAMAD_MONITOR_GRACE_DAYS} روز برقرار نبود: "
                      f"{result.error}")
            seal.suspended_by_monitor = True
            _transition(business, "suspend", actor=None, event="enamad.seal.suspended", reason=reason,
                        args=(reason,), extra={"by": "monitor"})
            events.append("enamad.seal.suspended")
    seal.save()
    if events:
        _forget_seal(seal)
        _notify_monitor(business, seal, events)
    return events


def seal_monitor(*, seal_id: int) -> tuple[verification.MonitorResult, list[str]]:
    """Re-check one seal now: network first (no transaction), then record."""
    snapshot = seal_snapshots([seal_id])[0]
    result = snapshot.check()
    return result, seal_record_check(seal_id=seal_id, result=result)


def seals_mark_healthy(seal_ids: list[int]) -> int:
    """One UPDATE for the seals whose check found nothing to change."""
    if not seal_ids:
        return 0
    now = timezone.now()
    return Seal.objects.filter(pk__in=seal_ids).update(
        monitored_at=now, tls_checked_at=now, monitor_error="",
        monitor_due_at=now + timedelta(hours=settings.ENAMAD_MONITOR_INTERVAL_HOURS))


def seals_claim_due(limit: int) -> list[int]:
    """Claim up to ``limit`` seals whose check is due (oldest first) by pushing their due time
    one lease ahead, so a lost task is retried and two dispatchers never take the same seal."""
    now = timezone.now()
    lease = now + timedelta(hours=1)
    with transaction.atomic():
        due = (Seal.objects.monitored().filter(Q(monitor_due_at__isnull=True) | Q(monitor_due_at__lte=now))
               .order_by(F("monitor_due_at").asc(nulls_first=True), "pk"))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[:limit])
        Seal.objects.filter(pk__in=ids).update(monitor_due_at=lease)
    return ids


# --- expiry reminders (N18) --------------------------------------------------------------------


def _reminder_due(expires_at, sent: int | None, now) -> int | None:
    """The reminder threshold (in days) this seal is due for, or None."""
    left = expires_at - now
    due = [d for d in sorted(set(settings.ENAMAD_EXPIRY_REMINDER_DAYS)) if left <= timedelta(days=d)]
    if not due or left <= timedelta(0):
        return None
    if sent is not None and due[0] >= sent:
        return None
    return due[0]


@transaction.atomic
def seal_remind_expiry(*, seal_id: int) -> bool:
    business, seal = _lock_seal(seal_id)
    now = timezone.now()
    days = _reminder_due(seal.expires_at, seal.reminder_days_sent, now)
    if days is None or business.status != BusinessStatus.APPROVED or business.renewing:
        return False
    seal.reminder_days_sent = days
    seal.save(update_fields=["reminder_days_sent"])
    context = {"business": business, "seal": seal, "days": days,
               "url": _absolute(reverse("enamad:renew", args=[business.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_seal_expiring", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, subject=f"اینماد: اعتبار نماد {business.domain} رو به پایان است",
                          template="enamad_seal_expiring", context=context)
    audit.record(actor=None, target=seal, event="enamad.seal.expiry_reminded", new=str(days))
    return True


def seals_remind_expiry() -> int:
    """Beat: reminders at each of ``ENAMAD_EXPIRY_REMINDER_DAYS`` before expiry (30 and 7)."""
    now = timezone.now()
    horizon = now + timedelta(days=max(settings.ENAMAD_EXPIRY_REMINDER_DAYS, default=0))
    rows = (Seal.objects.filter(business__status=BusinessStatus.APPROVED, business__renewing=False,
                                expires_at__gt=now, expires_at__lte=horizon)
            .values_list("pk", "expires_at", "reminder_days_sent"))
    sent = 0
    for seal_id, expires_at, already in rows:
        if _reminder_due(expires_at, already, now) is not None and seal_remind_expiry(seal_id=seal_id):
            sent += 1
    return sent


# --- support tickets (N19, N20) ----------------------------------------------------------------

PERSON_FIELDS = ("first_name", "last_name", "father_name", "birth_date", "national_code")
COMPANY_FIELDS = ("company_name", "legal_national_id", "registration_number")
GOVERNMENT_ID_FIELDS = ("organisation_name", "letter_number")
BUSINESS_CHANGE_FIELDS = ("name", "address", "postal_code", "phone", "email", "answering_hours")
MAX_TICKET_ATTACHMENTS = 5


def persona_change_target(account: Account) -> str | None:
    """N20: natural ↔ legal; a government body's persona does not change by ticket."""
    return {Persona.NATURAL: Persona.LEGAL, Persona.LEGAL: Persona.NATURAL}.get(account.persona)


def change_required_attachments(category: str, account: Account, data: dict) -> tuple[str, ...]:
    """The documents a change request must carry (N20): articles of association and the official
    gazette notice to become a legal person; the birth certificate's first page and the national
    card to become a natural person; the identity documents for identity data (the gazette for a
    company's, the official letter for a government body's); a supporting document for business data."""
    if category == TicketCategory.PERSONA_CHANGE:
        if data.get("persona") == Persona.LEGAL:
            return (AttachmentKind.ARTICLES, AttachmentKind.GAZETTE)
        return (AttachmentKind.BIRTH_CERTIFICATE, AttachmentKind.NATIONAL_CARD)
    if category == TicketCategory.IDENTITY_CHANGE:
        kinds: list[str] = []
        if any(name in data for name in PERSON_FIELDS):
            kinds += [AttachmentKind.NATIONAL_CARD, AttachmentKind.BIRTH_CERTIFICATE]
        if any(name in data for name in COMPANY_FIELDS):
            kinds.append(AttachmentKind.GAZETTE)
        if any(name in data for name in GOVERNMENT_ID_FIELDS):
            kinds.append(AttachmentKind.GOVERNMENT_LETTER)
        return tuple(kinds)
    if category == TicketCategory.BUSINESS_CHANGE:
        return (AttachmentKind.SUPPORTING,)
    return ()


def _validate_change(category: str, account: Account, business: Business | None, data: dict) -> None:
    if category == TicketCategory.PERSONA_CHANGE:
        target = persona_change_target(account)
        if target is None or data.get("persona") != target:
            raise ValidationError("تغییر نوع شخصیت فقط میان حقیقی و حقوقی ممکن است.", code="persona")
        if target == Persona.LEGAL and not all(data.get(name) for name in COMPANY_FIELDS):
            raise ValidationError("نام شرکت، شناسه ملی و شماره ثبت را وارد کنید.", code="company")
        return
    if not data:
        raise ValidationError("دست‌کم یکی از اطلاعات باید تغییر کند.", code="unchanged")
    if category == TicketCategory.IDENTITY_CHANGE:
        allowed = set(PERSON_FIELDS)
        allowed |= set(COMPANY_FIELDS) if account.persona == Persona.LEGAL else set()
        allowed |= set(GOVERNMENT_ID_FIELDS) if account.persona == Persona.GOVERNMENT else set()
    else:
        if business is None:
            raise ValidationError("کسب‌وکار را انتخاب کنید.", code="business")
        allowed = set(BUSINESS_CHANGE_FIELDS)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError("این اطلاعات با تیکت تغییر نمی‌کند: " + "، ".join(sorted(unknown)), code="fields")


def _save_attachments(message: TicketMessage, attachments: list[tuple[str, object]]) -> list[TicketAttachment]:
    saved = []
    for kind, upload in attachments:
        validate_upload(upload)
        attachment = TicketAttachment(message=message, kind=kind)
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        saved.append(attachment)
    return saved


def _lock_own_ticket(ticket_id: int, actor) -> Ticket:
    ticket = Ticket.objects.select_for_update().select_related("account__user").get(pk=ticket_id)
    if ticket.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    return ticket


@transaction.atomic
def ticket_open(*, account_id: int, actor, category: str, subject: str, body: str,
                attachments: list[tuple[str, object]], business_id: int | None = None,
                change_data: dict | None = None, request=None) -> Ticket:
    """A new ticket (N19): subject, category, message and attachments are all required. A change
    request (N20) also carries the new values and exactly the documents that change needs;
    nothing is applied until staff approve it (``ticket_approve_change``)."""
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.user_id != actor.pk:
        raise PermissionDenied
    if category not in TicketCategory.values:
        raise ValidationError("دسته تیکت معتبر نیست.", code="category")
    if not (subject or "").strip() or not (body or "").strip():
        raise ValidationError("موضوع و متن پیام الزامی است.", code="required")
    if not attachments:
        raise ValidationError("دست‌کم یک پیوست لازم است.", code="attachments")
    if len(attachments) > MAX_TICKET_ATTACHMENTS:
        raise ValidationError(f"حداکثر {MAX_TICKET_ATTACHMENTS} پیوست.", code="attachments")
    business = None
    if business_id is not None:
        business = Business.objects.filter(pk=business_id, account=account).first()
        if business is None:
            raise PermissionDenied
    change_data = dict(change_data or {})
    if category == TicketCategory.BUSINESS_CHANGE and business is not None and (
            business.editable or business.status == BusinessStatus.REVOKED):
        raise ValidationError("اطلاعات این پرونده را از صفحه خودش ویرایش کنید؛ درخواست تغییر برای پرونده‌های "
                              "ارسال‌شده و دارای نماد است.", code="editable")
    if category in CHANGE_CATEGORIES:
        _validate_change(category, account, business, change_data)
        required = change_required_attachments(category, account, change_data)
        given = {kind for kind, _ in attachments}
        missing = [AttachmentKind(kind).label for kind in required if kind not in given]
        if missing:
            raise ValidationError("این مدارک را پیوست کنید: " + "، ".join(missing), code="documents")
    ticket = Ticket(account=account, business=business, category=category, subject=subject.strip())
    if category in CHANGE_CATEGORIES:
        ticket.request_change(change_data)
    ticket.save()
    message = TicketMessage.objects.create(ticket=ticket, author=actor, body=body.strip())
    _save_attachments(message, attachments)
    audit.record(actor=actor, target=ticket, event="enamad.ticket.opened", new=ticket.status,
                 extra={"category": category, "change": sorted(change_data), "change_status": ticket.change_status},
                 request=request)
    return ticket


@transaction.atomic
def ticket_follow_up(*, ticket_id: int, actor, body: str, attachments: list[tuple[str, object]] | None = None,
                     request=None) -> TicketMessage:
    """The holder writes again: the ticket is open (waiting for staff) again. A ticket the idle
    task closed reopens when the holder writes within ``ENAMAD_TICKET_CLOSE_DAYS`` of it."""
    ticket = _lock_own_ticket(ticket_id, actor)
    if not (body or "").strip():
        raise ValidationError("متن پیام الزامی است.", code="required")
    name, event = "follow_up", "enamad.ticket.followed_up"
    if ticket.status == TicketStatus.CLOSED:
        name, event = "reopen", "enamad.ticket.reopened"
    method = getattr(ticket, name)
    if not can_proceed(method):
        raise InvalidTransition(ticket, name, "این تیکت بسته شده است؛ تیکت تازه‌ای بفرستید.")
    old = ticket.status
    method()
    ticket.save()
    message = TicketMessage.objects.create(ticket=ticket, author=actor, body=body.strip())
    _save_attachments(message, attachments or [])
    audit.record(actor=actor, target=ticket, event=event, old=old, new=ticket.status, request=request)
    return message


def _staff_message(ticket: Ticket, actor, body: str, *, event: str, request=None, attachments=None,
                   extra: dict | None = None) -> TicketMessage:
    """Staff answer (inside the caller's transaction): status answered, the holder told by SMS
    and e-mail."""
    if not can_proceed(ticket.answer):
        raise InvalidTransition(ticket, "answer", "این تیکت بسته شده است.")
    if not has_transition_perm(ticket.answer, actor):
        raise PermissionDenied
    old = ticket.status
    ticket.answer()
    ticket.save()
    message = TicketMessage.objects.create(ticket=ticket, author=actor, from_staff=True, body=body.strip())
    _save_attachments(message, attachments or [])
    audit.record(actor=actor, target=ticket, event=event, old=old, new=ticket.status, extra=extra, request=request)
    account = ticket.account
    context = {"ticket": ticket, "body": message.body,
               "url": _absolute(reverse("enamad:ticket", args=[ticket.pk]))}
    notify.send_sms(to=account.mobile, template="enamad_ticket_answered", context=context)
    if account.user.email:
        notify.send_email(to=account.user.email, subject=f"اینماد: پاسخ تیکت {ticket.reference}",
                          template="enamad_ticket_answered", context=context)
    return message


@transaction.atomic
def ticket_answer(*, ticket_id: int, actor, body: str, attachments: list[tuple[str, object]] | None = None,
                  request=None) -> TicketMessage:
    ticket = Ticket.objects.select_for_update().select_related("account__user").get(pk=ticket_id)
    if not (body or "").strip():
        raise ValidationError("متن پاسخ الزامی است.", code="required")
    return _staff_message(ticket, actor, body, event="enamad.ticket.answered", request=request,
                          attachments=attachments)


@transaction.atomic
def ticket_close(*, ticket_id: int, actor, request=None) -> Ticket:
    """The holder, or staff who answer tickets, close it."""
    ticket = Ticket.objects.select_for_update().select_related("account__user").get(pk=ticket_id)
    if ticket.account.user_id != actor.pk and not actor.has_perm("enamad.answer_ticket"):
        raise PermissionDenied
    if not can_proceed(ticket.close):
        raise InvalidTransition(ticket, "close", "این تیکت پیش‌تر بسته شده است.")
    if ticket.change_status == ChangeStatus.PENDING and ticket.account.user_id != actor.pk:
        raise InvalidTransition(ticket, "close", "پیش از بستن، درباره درخواست تغییر تصمیم بگیرید.")
    old = ticket.status
    ticket.close()
    ticket.save()
    audit.record(actor=actor, target=ticket, event="enamad.ticket.closed", old=old, new=ticket.status, request=request)
    return ticket


@transaction.atomic
def ticket_auto_close(*, ticket_id: int) -> bool:
    """Close an answered ticket the holder has not replied to for ``ENAMAD_TICKET_CLOSE_DAYS``
    (re-checked under the row lock, so a reply that came meanwhile keeps it open), audit it and
    tell the holder until when writing reopens it."""
    ticket = Ticket.objects.select_for_update().select_related("account__user").get(pk=ticket_id)
    if not can_proceed(ticket.auto_close):
        return False
    old = ticket.status
    ticket.auto_close()
    ticket.save()
    days = settings.ENAMAD_TICKET_CLOSE_DAYS
    audit.record(actor=None, target=ticket, event="enamad.ticket.closed", old=old, new=ticket.status,
                 reason=f"{days} روز بی‌پاسخ از سوی دارنده", extra={"by": "auto", "days": days})
    context = {"ticket": ticket, "days": days, "url": _absolute(reverse("enamad:ticket", args=[ticket.pk]))}
    account = ticket.account
    notify.send_sms(to=account.mobile, template="enamad_ticket_closed", context=context)
    if account.user.email:
        notify.send_email(to=account.user.email, subject=f"اینماد: تیکت {ticket.reference} بسته شد",
                          template="enamad_ticket_closed", context=context)
    return True


def tickets_close_idle(limit: int = 500) -> int:
    """Beat: close answered tickets left without a reply from the holder (oldest first)."""
    ids = list(Ticket.objects.filter(status=TicketStatus.ANSWERED, last_message_at__lte=ticket_idle_cutoff())
               .exclude(change_status=ChangeStatus.PENDING)
               .order_by("last_message_at").values_list("pk", flat=True)[:limit])
    return sum(1 for ticket_id in ids if ticket_auto_close(ticket_id=ticket_id))


def _adopt_documents(ticket: Ticket, account: Account) -> list[dict]:
    """The identity documents attached to an approved change become the account's documents
    (a copy: the ticket keeps its own). As with a re-upload, a replaced document's file is kept
    and named in the audit entry."""
    from django.core.files.base import ContentFile

    adopted = []
    for attachment in TicketAttachment.objects.filter(message__ticket=ticket, kind__in=DocumentKind.values):
        document = IdentityDocument.objects.filter(account=account, kind=attachment.kind).first()
        previous = document.file.name if document else ""
        document = document or IdentityDocument(account=account, kind=attachment.kind)
        with attachment.file.open("rb") as handle:
            document.file.save(attachment.file.name.rsplit("/", 1)[-1], ContentFile(handle.read()), save=False)
        document.save()
        adopted.append({"kind": attachment.kind, "file": document.file.name, "previous_file": previous})
    return adopted


def _apply_change(ticket: Ticket, actor, request=None) -> tuple[dict, dict]:
    """Apply an approved change to the account or the business; returns {field: [old, new]}
    and the renewal's requested values it superseded ({field: [renewal's, ticket's]})."""
    data = dict(ticket.change_data)
    diff: dict[str, list[str]] = {}
    if ticket.category in (TicketCategory.PERSONA_CHANGE, TicketCategory.IDENTITY_CHANGE):
        account = Account.objects.select_for_update().get(pk=ticket.account_id)
        if ticket.category == TicketCategory.PERSONA_CHANGE:
            if data.get("persona") != persona_change_target(account):
                raise InvalidTransition(ticket, "approve_change", "نوع شخصیت حساب پس از این درخواست تغییر کرده است.")
            values = {"persona": data["persona"]}
            if data["persona"] == Persona.LEGAL:
                values.update({name: data[name] for name in COMPANY_FIELDS})
            else:
                values.update(dict.fromkeys(COMPANY_FIELDS, ""))
        else:
            values = dict(data)
            if "birth_date" in values:  # stored as an ISO date in the JSON
                values["birth_date"] = dt.date.fromisoformat(values["birth_date"])
        for name, value in values.items():
            old = getattr(account, name)
            if old != value:
                diff[name] = [str(old or ""), str(value or "")]
                setattr(account, name, value)
        account.save()
        adopted = _adopt_documents(ticket, account)
        event = ("enamad.account.persona_changed" if ticket.category == TicketCategory.PERSONA_CHANGE
                 else "enamad.account.identity_changed")
        audit.record(actor=actor, target=account, event=event, old=diff.get("persona", [""])[0],
                     new=diff.get("persona", ["", ""])[1], extra={"ticket": ticket.reference, "fields": diff,
                                                                   "documents": adopted}, request=request)
        return diff, {}
    business = _lock_business(ticket.business_id)
    for name in BUSINESS_CHANGE_FIELDS:
        if name in data and getattr(business, name) != data[name]:
            diff[name] = [getattr(business, name), data[name]]
            setattr(business, name, data[name])
    # The new contact details must be proved again (N10), from the contacts page.
    if "email" in diff:
        business.email_verified_at = None
    if "phone" in diff:
        business.phone_verified_at = None
    if "address" in diff or "postal_code" in diff:
        business.address_verified_at = None
        business.address_code_hash = ""
    superseded = _supersede_renewal_changes(business, [name for name in BUSINESS_CHANGE_FIELDS if name in data],
                                            reset=[CONTACT_VERIFICATION[name] for name in diff
                                                   if name in CONTACT_VERIFICATION])
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.data_changed",
                 extra={"ticket": ticket.reference, "fields": diff}, request=request)
    if superseded:
        audit.record(actor=actor, target=business, event="enamad.business.renewal_changes_superseded",
                     extra={"ticket": ticket.reference, "changes": superseded}, request=request)
    _forget_seal(Seal.objects.filter(business=business).first())
    return diff, superseded


def superseded_renewal_values(business: Business, names) -> dict[str, str]:
    """The renewal's requested values that approving a change of ``names`` would replace."""
    values = business.pending_changes.get("values", {})
    return {name: values[name] for name in names if name in values}


def _supersede_renewal_changes(business: Business, names: list[str], *, reset: list[str]) -> dict[str, list[str]]:
    """A change by ticket approved while a renewal waits (N18, N20) is the later decision on
    its fields: it is applied now, and the renewal's requested values for the same fields are
    withdrawn, so final approval does not overwrite it (nor a refused renewal bring the old
    value back). The verifications kept aside for the values in force that the ticket changed
    vouch for values no longer in force: they are dropped too. Returns {field: [renewal's
    value, ticket's value]}; the caller saves the business."""
    if not business.pending_changes:
        return {}
    superseded = superseded_renewal_values(business, names)
    values = {k: v for k, v in business.pending_changes.get("values", {}).items() if k not in superseded}
    kept = {k: v for k, v in business.pending_changes.get("kept", {}).items() if k not in reset}
    business.set_pending(values=values, kept=kept)
    return {name: [value, getattr(business, name)] for name, value in superseded.items()}


def _lock_pending_change(ticket_id: int, actor, name: str) -> Ticket:
    ticket = Ticket.objects.select_for_update().select_related("account__user").get(pk=ticket_id)
    method = getattr(ticket, name)
    if not can_proceed(method):
        raise InvalidTransition(ticket, name, "درخواست تغییری در انتظار بررسی نیست.")
    if not has_transition_perm(method, actor):
        raise PermissionDenied
    return ticket


CHANGE_EVENTS = {"approve_change": "enamad.ticket.change_approved", "reject_change": "enamad.ticket.change_rejected"}


def _change_transition(ticket: Ticket, name: str, *, actor, note: str, request=None) -> None:
    old = ticket.change_status
    getattr(ticket, name)(actor, note)
    ticket.save()
    audit.record(actor=actor, target=ticket, event=CHANGE_EVENTS[name], old=old, new=ticket.change_status,
                 reason=note, request=request)


@transaction.atomic
def ticket_approve_change(*, ticket_id: int, actor, note: str = "", request=None) -> Ticket:
    """N20: staff approve the change; only now is it applied to the account or business."""
    ticket = _lock_pending_change(ticket_id, actor, "approve_change")
    diff, superseded = _apply_change(ticket, actor, request)
    _change_transition(ticket, "approve_change", actor=actor, note=note, request=request)
    body = "درخواست تغییر تأیید و اعمال شد." + (f"\n{note}" if note.strip() else "")
    if superseded:
        body += ("\nمقدار درخواستی شما در تمدید برای همین موارد کنار گذاشته شد و مقدار این تیکت می‌ماند: "
                 + "، ".join(str(Business._meta.get_field(name).verbose_name) for name in superseded) + ".")
    _staff_message(ticket, actor, body, event="enamad.ticket.answered", request=request,
                   extra={"change": ticket.change_status, "fields": sorted(diff)})
    return ticket


@transaction.atomic
def ticket_reject_change(*, ticket_id: int, actor, note: str, request=None) -> Ticket:
    if not (note or "").strip():
        raise ValidationError("دلیل رد درخواست را بنویسید.", code="reason")
    ticket = _lock_pending_change(ticket_id, actor, "reject_change")
    _change_transition(ticket, "reject_change", actor=actor, note=note, request=request)
    _staff_message(ticket, actor, f"درخواست تغییر رد شد: {note}", event="enamad.ticket.answered",
                   request=request, extra={"change": ticket.change_status})
    return ticket


# --- complaints (N23) --------------------------------------------------------------------------


def _complaint_status_url(complaint: Complaint) -> str:
    return _absolute(reverse("seal:complaint_status") + f"?code={complaint.tracking_code}")


def _notify_complainant(complaint: Complaint, *, event: str) -> None:
    context = {"complaint": complaint, "business": complaint.business, "event": event,
               "url": _complaint_status_url(complaint)}
    notify.send_sms(to=complaint.contact_mobile, template="enamad_complaint_buyer", context=context)
    if complaint.contact_email:
        notify.send_email(to=complaint.contact_email, subject=f"اینماد: شکایت {complaint.tracking_code}",
                          template="enamad_complaint_buyer", context=context)


def _notify_holder_of_complaint(complaint: Complaint, *, event: str) -> None:
    business = complaint.business
    context = {"complaint": complaint, "business": business, "event": event,
               "hours": settings.ENAMAD_COMPLAINT_ANSWER_HOURS,
               "url": _absolute(reverse("enamad:complaint", args=[complaint.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_complaint_holder", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, subject=f"اینماد: شکایت درباره {business.domain}",
                          template="enamad_complaint_holder", context=context)


def _save_complaint_files(complaint: Complaint, uploads, *, from_holder: bool) -> None:
    for upload in uploads or []:
        validate_upload(upload)
        attachment = ComplaintAttachment(complaint=complaint, from_holder=from_holder)
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()


@transaction.atomic
def complaint_file(*, seal_id: int, data: dict, attachments=None, request=None) -> Complaint:
    """Anyone files a complaint from a seal's page (N23); the holder is told and has
    ``ENAMAD_COMPLAINT_ANSWER_HOURS`` (96) to answer in the panel."""
    seal = Seal.objects.select_related("business__account__user").get(pk=seal_id)
    if len(attachments or []) > MAX_TICKET_ATTACHMENTS:
        raise ValidationError(f"حداکثر {MAX_TICKET_ATTACHMENTS} پیوست.", code="attachments")
    now = timezone.now()
    complaint = Complaint.objects.create(
        business=seal.business, created_at=now,
        answer_due_at=now + timedelta(hours=settings.ENAMAD_COMPLAINT_ANSWER_HOURS),
        **{name: data[name] for name in ("complaint_type", "payment_reference", "description", "contact_name",
                                         "contact_mobile", "contact_email") if name in data})
    _save_complaint_files(complaint, attachments, from_holder=False)
    audit.record(actor=None, target=complaint, event="enamad.complaint.filed", new=complaint.status,
                 extra={"type": complaint.complaint_type, "seal": seal.number}, request=request)
    _notify_holder_of_complaint(complaint, event="filed")
    _notify_complainant(complaint, event="filed")
    return complaint


@transaction.atomic
def complaint_answer(*, complaint_id: int, actor, text: str, attachments=None, request=None) -> Complaint:
    complaint = Complaint.objects.select_for_update().select_related("business__account__user").get(pk=complaint_id)
    if complaint.business.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if not (text or "").strip():
        raise ValidationError("متن پاسخ الزامی است.", code="required")
    if not can_proceed(complaint.record_answer):
        raise InvalidTransition(complaint, "answer", "به این شکایت پیش‌تر پاسخ داده شده یا رسیدگی آن پایان یافته است.")
    old = complaint.status
    complaint.record_answer(text.strip())
    complaint.save()
    _save_complaint_files(complaint, attachments, from_holder=True)
    audit.record(actor=actor, target=complaint, event="enamad.complaint.answered", old=old, new=complaint.status,
                 extra={"late": complaint.answered_late}, request=request)
    _notify_complainant(complaint, event="answered")
    return complaint


def _complaint_experts_emails() -> list[str]:
    experts = User.objects.with_perm("enamad.handle_complaint", is_active=True, include_superusers=False,
                                     backend="django.contrib.auth.backends.ModelBackend")
    return sorted({user.email for user in experts if user.email})


@transaction.atomic
def complaint_flag(*, complaint_id: int) -> bool:
    """No answer within the deadline: the complaint goes to the experts' list (N23)."""
    complaint = Complaint.objects.select_for_update().select_related("business__account__user").get(pk=complaint_id)
    if complaint.status != ComplaintStatus.AWAITING_ANSWER or complaint.answer_due_at > timezone.now():
        return False
    old = complaint.status
    complaint.flag()
    complaint.save()
    audit.record(actor=None, target=complaint, event="enamad.complaint.flagged", old=old, new=complaint.status)
    _notify_holder_of_complaint(complaint, event="overdue")
    context = {"complaint": complaint, "business": complaint.business,
               "url": _absolute(reverse("enamad:staff_complaint", args=[complaint.pk]))}
    for email in _complaint_experts_emails():
        notify.send_email(to=email, subject=f"اینماد: شکایت بی‌پاسخ {complaint.tracking_code}",
                          template="enamad_complaint_overdue", context=context)
    return True


def complaints_flag_overdue(limit: int = 500) -> int:
    """Beat: flag complaints whose answer is overdue."""
    ids = list(Complaint.objects.past_deadline().order_by("answer_due_at").values_list("pk", flat=True)[:limit])
    return sum(1 for complaint_id in ids if complaint_flag(complaint_id=complaint_id))


@transaction.atomic
def complaint_decide(*, complaint_id: int, actor, upheld: bool, note: str, suspend_seal: bool = False,
                     request=None) -> Complaint:
    """The expert's decision (N23): uphold or dismiss; an upheld complaint may suspend the seal."""
    if not (note or "").strip():
        raise ValidationError("نظر کارشناس را بنویسید.", code="note")
    if suspend_seal and not upheld:
        raise ValidationError("تعلیق نماد فقط با وارد دانستن شکایت ممکن است.", code="suspend")
    complaint = Complaint.objects.select_for_update().select_related("business__account__user").get(pk=complaint_id)
    name = "uphold" if upheld else "dismiss"
    method = getattr(complaint, name)
    if not can_proceed(method):
        raise InvalidTransition(complaint, name, "رسیدگی به این شکایت پیش‌تر پایان یافته است.")
    if not has_transition_perm(method, actor):
        raise PermissionDenied
    old = complaint.status
    method(note.strip())
    complaint.decided_by = actor
    if suspend_seal:
        business = _lock_business(complaint.business_id)
        reason = f"شکایت {complaint.tracking_code}: {note.strip()}"
        extra = {"complaint": complaint.tracking_code}
        if not _take_over_monitor_suspension(business, actor=actor, reason=reason, request=request, extra=extra):
            _transition(business, "suspend", actor=actor, event="enamad.seal.suspended", reason=reason,
                        args=(note.strip(),), extra=extra, request=request,
                        message="نماد در وضعیت فعلی قابل تعلیق نیست.")
        _forget_seal(Seal.objects.filter(business=business).first())
        complaint.seal_suspended = True
    complaint.save()
    audit.record(actor=actor, target=complaint, event=f"enamad.complaint.{'upheld' if upheld else 'dismissed'}",
                 old=old, new=complaint.status, reason=note.strip(), extra={"seal_suspended": suspend_seal},
                 request=request)
    _notify_complainant(complaint, event="decided")
    _notify_holder_of_complaint(complaint, event="decided")
    return complaint
