"""The one write path for every e-Namad state change (STYLE 1–3).

Each service locks its row, checks, transitions, writes the audit entry and queues the
notification in the same transaction (the outbox delivers after commit). Network I/O (domain
checks) happens outside any transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from certauth.models import User
from ramis.common import audit, notify, throttle
from ramis.common.digits import to_latin_digits
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import validate_upload

from . import verification
from .models import (
    Account,
    Business,
    BusinessService,
    BusinessStatus,
    ChecklistItem,
    IdentityDocument,
    PhoneChallenge,
    PostalLetter,
    Review,
    ReviewItem,
    Seal,
    SurveyResponse,
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


class Throttled(Exception):
    message = "تعداد درخواست‌ها بیش از حد مجاز است؛ چند دقیقه بعد دوباره تلاش کنید."


# --- helpers -----------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _digest(purpose: str, value: str) -> str:
    key = f"{settings.SECRET_KEY}:enamad:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _lock_business(business_id: int) -> Business:
    return Business.objects.select_for_update().select_related("account__user").get(pk=business_id)


def _lock_own_business(business_id: int, actor) -> Business:
    business = _lock_business(business_id)
    if business.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    return business


def _notify_holder(business: Business, *, event: str, reason: str = "") -> None:
    account = business.account
    context = {
        "business": business, "status": business.get_status_display(), "next_step": NEXT_STEP.get(business.status, ""),
        "reason": reason, "url": _absolute(reverse("enamad:business", args=[business.pk])), "event": event,
    }
    notify.send_sms(to=account.mobile, template="enamad_status", context=context)
    if account.user.email:
        notify.send_email(to=account.user.email, subject=f"اینماد: {business.domain} — {business.get_status_display()}",
                          template="enamad_status", context=context)


def _transition(business: Business, name: str, *, actor, event: str, reason: str = "", request=None,
                args: tuple = (), extra: dict | None = None, message: str | None = None) -> Business:
    method = getattr(business, name)
    if not can_proceed(method):
        raise InvalidTransition(business, name, message)
    if actor is not None and not has_transition_perm(method, actor):
        raise PermissionDenied
    old = business.status
    method(*args)
    business.save()
    audit.record(actor=actor, target=business, event=event, old=old, new=business.status, reason=reason,
                 extra=extra, request=request)
    _notify_holder(business, event=event, reason=reason)
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
        phone, channel = business.phone, PhoneChallenge.Channel.IVR
    live = PhoneChallenge.objects.filter(account=account, purpose=purpose, business=business, phone=phone,
                                         verified_at__isnull=True, expires_at__gt=timezone.now()).first()
    if live:
        return live
    if not throttle.hit(f"enamad-phone:{account.pk}", limit=20, window=3600):
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
    elif challenge.purpose == PhoneChallenge.Purpose.BUSINESS_PHONE and challenge.business.phone == sender:
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
    if not throttle.hit(f"enamad-verify:{business.pk}", limit=10, window=600):
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


@transaction.atomic
def business_save_services(*, business_id: int, actor, data: dict, licence_file=None, request=None) -> BusinessService:
    """N8: the four sections; a service that needs a licence needs its upload."""
    business = _lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "services", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    service = BusinessService.objects.filter(business=business).first() or BusinessService(business=business)
    for name in ("category", "offerings", "delivery_methods", "payment_methods", "licence_reference"):
        setattr(service, name, data.get(name, getattr(service, name, "")))
    if licence_file is not None:
        validate_upload(licence_file)
        service.licence_file.save(licence_file.name, licence_file, save=False)
    if service.category.requires_licence and not (service.licence_file and service.licence_reference):
        raise ValidationError(
            "خدمت «%(name)s» به مجوز از %(authority)s نیاز دارد: شماره مجوز و تصویر آن را بارگذاری کنید.",
            code="licence_required", params={"name": service.category.name, "authority": service.category.authority},
        )
    service.save()
    audit.record(actor=actor, target=business, event="enamad.business.services_saved",
                 extra={"category": service.category.name}, request=request)
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
    if not throttle.hit(f"enamad-email:{business.pk}", limit=5, window=3600):
        raise Throttled
    token = signing.dumps({"b": business.pk, "e": business.email}, salt=EMAIL_SALT)
    notify.send_email(to=business.email, subject=f"اینماد: تأیید رایانامه {business.domain}",
                      template="enamad_business_email",
                      context={"business": business, "url": _absolute(reverse("enamad:confirm_email", args=[token]))})
    audit.record(actor=actor, target=business, event="enamad.business.email_link_sent", request=request)


@transaction.atomic
def business_confirm_email(*, token: str, request=None) -> Business:
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=settings.ENAMAD_EMAIL_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise ActivationError("پیوند تأیید رایانامه معتبر نیست یا منقضی شده است.") from None
    business = Business.objects.select_for_update().filter(pk=data.get("b")).first()
    if business is None or business.email != data.get("e"):
        raise ActivationError("این پیوند برای رایانامه فعلی کسب‌وکار نیست.")
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
        business=business, recipient=business.account.display_name, address=business.address,
        postal_code=business.postal_code,
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
    _transition(business, "final_approve", actor=actor, event="enamad.business.final_approved", request=request,
                message=message)
    now = timezone.now()
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if seal is None:
        seal = Seal(business=business, number=_new_seal_number())
    _forget_seal(seal if seal.pk else None)
    seal.stars = 2 if business.tls_valid else 1
    seal.granted_at = now
    seal.expires_at = now + timedelta(days=settings.ENAMAD_SEAL_VALIDITY_DAYS)
    seal.tls_checked_at = business.tls_checked_at
    seal.save()
    audit.record(actor=actor, target=seal, event="enamad.seal.issued", new=str(seal.stars),
                 extra={"number": seal.number, "expires_at": seal.expires_at.isoformat()}, request=request)
    return seal


RENEWAL_WINDOW_DAYS = 30


@transaction.atomic
def business_renew(*, business_id: int, actor, request=None) -> Business:
    """The owner asks for another year: back to the expert (DESIGN: renew → under_review), from
    an expired seal or within ``RENEWAL_WINDOW_DAYS`` of expiry. The seal keeps its id and code;
    final approval gives it new dates."""
    business = _lock_own_business(business_id, actor)
    seal = Seal.objects.filter(business=business).first()
    if (business.status == BusinessStatus.APPROVED and seal is not None
            and seal.expires_at - timezone.now() > timedelta(days=RENEWAL_WINDOW_DAYS)):
        raise InvalidTransition(business, "renew", f"تمدید از {RENEWAL_WINDOW_DAYS} روز پیش از انقضا ممکن است.")
    _transition(business, "renew", actor=actor, event="enamad.business.renewal_requested", request=request,
                message=_not_ready_message(business))
    _forget_seal(seal)
    return business


def _seal_transition(business_id: int, name: str, *, actor, event: str, reason: str = "", request=None) -> Business:
    business = _lock_business(business_id)
    args = (reason,) if name in {"suspend", "revoke"} else ()
    _transition(business, name, actor=actor, event=event, reason=reason, args=args, request=request)
    _forget_seal(Seal.objects.filter(business=business).first())
    return business


@transaction.atomic
def business_suspend(*, business_id: int, actor, reason: str, request=None) -> Business:
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


def seal_refresh_tls(*, seal_id: int) -> Seal:
    """Re-check TLS (network first, no transaction) and set the stars accordingly (N18, N21)."""
    domain = Seal.objects.values_list("business__domain", flat=True).get(pk=seal_id)
    valid = verification.check_tls(domain)
    with transaction.atomic():
        seal = Seal.objects.select_for_update().get(pk=seal_id)
        stars = 2 if valid else 1
        old = seal.stars
        seal.stars, seal.tls_checked_at = stars, timezone.now()
        seal.save(update_fields=["stars", "tls_checked_at"])
        if old != stars:
            audit.record(actor=None, target=seal, event="enamad.seal.stars_changed", old=str(old), new=str(stars))
            _forget_seal(seal)
    return seal
