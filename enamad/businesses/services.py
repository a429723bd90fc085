"""The one write path for an e-Namad business file: the file, domain control by the site itself,
services, survey, contact checks and the review up to the documents (N6–N15; STYLE 1–3).

Network I/O (domain checks) happens outside any transaction."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from enamad.accounts.models import Account
from enamad.accounts.services import ActivationError
from enamad.businesses import verification
from enamad.businesses.models import (
    EDITABLE_STATES,
    RENEWAL_SERVICE_FIELDS,
    Business,
    BusinessService,
    BusinessStatus,
    ChecklistItem,
    PostalLetter,
    Review,
    ReviewItem,
    SurveyResponse,
)
from enamad.businesses.pending import stage_renewal_changes, stage_service_changes
from enamad.businesses.transitions import business_transition, lock_business, lock_own_business
from enamad.common import Throttled, absolute_url, digest, throttle_hit
from ramis.common import audit, notify
from ramis.common.digits import to_latin_digits
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import validate_upload

EMAIL_SALT = "enamad.business-email"
ADDRESS_CODE_MAX_FAILURES = 5


# --- businesses (N6–N11, N13) ------------------------------------------------------------------

BUSINESS_FIELDS = ("domain", "name", "address", "postal_code", "phone", "email", "answering_hours")


def domain_is_held(domain: str, *, exclude_id: int | None = None) -> bool:
    qs = Business.objects.filter(domain=domain, domain_verified_at__isnull=False).exclude(
        status=BusinessStatus.REVOKED)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


@transaction.atomic
def business_create(*, account_id: int, actor, data: dict, ctx=None) -> Business:
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.user_id != actor.pk:
        raise PermissionDenied
    if domain_is_held(data["domain"]):
        raise ValidationError("این دامنه پیش‌تر به نام کسب‌وکار دیگری ثبت و تأیید شده است.", code="domain_taken")
    if account.businesses.filter(domain=data["domain"]).exclude(status=BusinessStatus.REVOKED).exists():
        raise ValidationError("این دامنه را پیش‌تر افزوده‌اید.", code="duplicate")
    business = Business.objects.create(account=account, **{k: data[k] for k in BUSINESS_FIELDS if k in data})
    audit.record(actor=actor, target=business, event="enamad.business.created", new=business.status,
                 extra={"domain": business.domain}, ctx=ctx)
    return business


@transaction.atomic
def business_update(*, business_id: int, actor, data: dict, ctx=None) -> Business:
    """Edit the details (N10) while the file is not with the expert. Changing the domain, the
    e-mail, the phone or the address undoes the verification that depended on it."""
    business = lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "update", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    if business.renewing:
        # A deficiency round of a renewal: the corrections wait for final approval too.
        if data.get("domain", business.domain) != business.domain:
            raise ValidationError("دامنه نماد در تمدید تغییر نمی‌کند؛ دامنه تازه کسب‌وکار تازه است.", code="domain")
        changed = stage_renewal_changes(business, data)
        business.save()
        audit.record(actor=actor, target=business, event="enamad.business.updated",
                     extra={"fields": changed, "pending": True}, ctx=ctx)
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
                 ctx=ctx)
    return business


@transaction.atomic
def business_change_activity(*, business_id: int, actor, activity_type: str, ctx=None) -> Business:
    """N13: non-guild ↔ guild, while editable or when the expert has asked for it."""
    business = lock_own_business(business_id, actor)
    if not (business.editable or business.activity_change_requested):
        raise InvalidTransition(business, "change_activity", "تغییر نوع فعالیت فقط به درخواست کارشناس ممکن است.")
    old = business.activity_type
    business.activity_type = activity_type
    business.activity_change_requested = False
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.activity_changed", old=old, new=activity_type,
                 ctx=ctx)
    return business


@transaction.atomic
def business_request_domain_check(*, business_id: int, actor, ctx=None) -> Business:
    """Ask for a check now (the periodic task also picks pending businesses up)."""
    from .tasks import verify_business_domain

    business = lock_own_business(business_id, actor)
    if not throttle_hit(f"enamad-verify:{business.pk}", limit=10, window=600):
        raise Throttled
    business.domain_check_requested_at = timezone.now()
    business.save(update_fields=["domain_check_requested_at", "updated_at"])
    transaction.on_commit(lambda: verify_business_domain.delay(business.pk))
    return business


def _release_domain_claim(business: Business, *, actor, event: str, reason: str, ctx=None) -> None:
    """Clear the verified claim of a (locked) business, audit it and tell the owner."""
    old = business.domain_verified_method
    business.domain_verified_at = None
    business.domain_verified_method = ""
    business.tls_valid = False
    business.save()
    audit.record(actor=actor, target=business, event=event, old=old, reason=reason,
                 extra={"domain": business.domain}, ctx=ctx)
    context = {"business": business, "reason": reason,
               "url": absolute_url(reverse("enamad:technical", args=[business.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_domain_released", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, template="enamad_domain_released", context=context)


@transaction.atomic
def business_release_domain(*, business_id: int, actor, reason: str, ctx=None) -> Business:
    """Staff (managers) clear the verified claim of a business still with its applicant (draft or
    deficient) — an abandoned claim that keeps the domain's real owner out (N7). The owner is
    told why and may verify again."""
    if not reason.strip():
        raise ValidationError("دلیل آزادسازی دامنه را بنویسید.", code="reason")
    business = lock_business(business_id)
    if not actor.has_perm("enamad.approve_business"):
        raise PermissionDenied
    if not business.editable or business.domain_verified_at is None:
        raise InvalidTransition(business, "release_domain", "فقط تأییدیه فنی کسب‌وکاری آزاد می‌شود که هنوز نزد "
                                                            "متقاضی است (در حال تکمیل یا اعلام نقص).")
    _release_domain_claim(business, actor=actor, event="enamad.business.domain_released", reason=reason,
                          ctx=ctx)
    return business


def recheck_idle_holder(domain: str, *, exclude_id: int) -> bool:
    """Someone has just proved control of ``domain`` while a business still with its applicant
    holds the claim: check the holder again (a failed re-check releases its claim)."""
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
            business = lock_business(business_id)
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
                notify.send_email(to=business.account.user.email, template="enamad_domain_verified",
                                  context={"business": business})
    except IntegrityError:
        message = "این دامنه پیش‌تر به نام کسب‌وکار دیگری تأیید شده است."
        if recheck_idle_holder(snapshot["domain"], exclude_id=business_id):
            message += " آن تأییدیه دوباره بررسی می‌شود؛ چند دقیقه بعد دوباره تلاش کنید."
        Business.objects.filter(pk=business_id).update(
            domain_checked_at=now, domain_check_requested_at=None, domain_check_error=message)
        result.ok = False
        result.problems.append(message)
    return result


def _licence_required(category) -> ValidationError:
    return ValidationError(
        "خدمت «%(name)s» به مجوز از %(authority)s نیاز دارد: شماره مجوز و تصویر آن را بارگذاری کنید.",
        code="licence_required", params={"name": category.name, "authority": category.authority})


@transaction.atomic
def business_save_services(*, business_id: int, actor, data: dict, licence_file=None, ctx=None) -> BusinessService:
    """N8: the four sections; a service that needs a licence needs its upload."""
    business = lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "services", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    service = BusinessService.objects.filter(business=business).first() or BusinessService(business=business)
    if business.renewing and service.pk:
        return _stage_services(business, service, data, licence_file, actor=actor, ctx=ctx)
    for name in ("category", "offerings", "delivery_methods", "payment_methods", "licence_reference"):
        setattr(service, name, data.get(name, getattr(service, name, "")))
    if licence_file is not None:
        validate_upload(licence_file)
        service.licence_file.save(licence_file.name, licence_file, save=False)
    if service.category.requires_licence and not (service.licence_file and service.licence_reference):
        raise _licence_required(service.category)
    service.save()
    audit.record(actor=actor, target=business, event="enamad.business.services_saved",
                 extra={"category": service.category.name}, ctx=ctx)
    return service


def _stage_services(business: Business, service: BusinessService, data: dict, licence_file, *, actor,
                    ctx=None) -> BusinessService:
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
    changed = stage_service_changes(business, staged)
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.services_saved",
                 extra={"category": category.name, "fields": changed, "pending": True}, ctx=ctx)
    return service


@transaction.atomic
def business_save_survey(*, business_id: int, actor, data: dict, ctx=None) -> SurveyResponse:
    business = lock_own_business(business_id, actor)
    if not business.editable:
        raise InvalidTransition(business, "survey", "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
    survey, _ = SurveyResponse.objects.update_or_create(business=business, defaults=data)
    business.survey_done_at = business.survey_done_at or timezone.now()
    business.save(update_fields=["survey_done_at", "updated_at"])
    audit.record(actor=actor, target=business, event="enamad.business.survey_saved", ctx=ctx)
    return survey


@transaction.atomic
def business_send_email_link(*, business_id: int, actor, ctx=None) -> None:
    business = lock_own_business(business_id, actor)
    if not throttle_hit(f"enamad-email:{business.pk}", limit=5, window=3600):
        raise Throttled
    email = business.requested("email")
    token = signing.dumps({"b": business.pk, "e": email}, salt=EMAIL_SALT)
    notify.send_email(to=email, template="enamad_business_email",
                      context={"business": business, "url": absolute_url(reverse("enamad:confirm_email", args=[token]))})
    audit.record(actor=actor, target=business, event="enamad.business.email_link_sent", ctx=ctx)


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
def business_confirm_email(*, token: str, ctx=None) -> Business:
    business = business_email_link_check(token=token, lock=True)
    if business.email_verified_at is None:
        business.email_verified_at = timezone.now()
        business.save(update_fields=["email_verified_at", "updated_at"])
        audit.record(actor=None, target=business, event="enamad.business.email_verified", ctx=ctx)
    return business


@transaction.atomic
def business_send_address_letter(*, business_id: int, actor, ctx=None) -> PostalLetter:
    """N10 address check: a code posted on paper to the business address."""
    business = lock_own_business(business_id, actor)
    if business.address_code_sent_at and timezone.now() - business.address_code_sent_at < timedelta(days=1):
        raise Throttled
    code = f"{secrets.randbelow(10**8):08d}"
    business.address_code_hash = digest("address", f"{business.pk}:{code}")
    business.address_code_sent_at = timezone.now()
    business.address_code_failures = 0
    business.save()
    letter = PostalLetter.objects.create(
        business=business, recipient=business.account.display_name, address=business.requested("address"),
        postal_code=business.requested("postal_code"),
        body=render_to_string("enamad/words/address_letter.txt", {"business": business, "code": code}).strip(),
    )
    audit.record(actor=actor, target=business, event="enamad.business.address_letter_queued", ctx=ctx)
    return letter


@transaction.atomic
def business_confirm_address(*, business_id: int, actor, code: str, ctx=None) -> bool:
    business = lock_own_business(business_id, actor)
    code = to_latin_digits(code or "").strip()
    if not business.address_code_hash or business.address_code_failures >= ADDRESS_CODE_MAX_FAILURES:
        return False
    if not hmac.compare_digest(digest("address", f"{business.pk}:{code}"), business.address_code_hash):
        business.address_code_failures += 1
        business.save(update_fields=["address_code_failures", "updated_at"])
        return False
    business.address_verified_at = timezone.now()
    business.address_code_hash = ""
    business.save()
    audit.record(actor=actor, target=business, event="enamad.business.address_verified", ctx=ctx)
    return True


# --- review (N11, N12, N14, N15) ---------------------------------------------------------------


def not_ready_message(business: Business) -> str:
    missing = business.missing_for_send()
    if not missing:
        return "این عملیات در وضعیت فعلی امکان‌پذیر نیست."
    return "پیش از ارسال این موارد را کامل کنید: " + "، ".join(missing)


@transaction.atomic
def business_send(*, business_id: int, actor, ctx=None) -> Business:
    """N12: send the file to the expert; no edits after this."""
    business = lock_own_business(business_id, actor)
    return business_transition(business, "send", actor=actor, event="enamad.business.sent", ctx=ctx,
                       message=not_ready_message(business))


@transaction.atomic
def business_resend(*, business_id: int, actor, replies: dict[int, str] | None = None, ctx=None) -> Business:
    """N12: after fixing, answer the failed items (optional) and send again."""
    business = lock_own_business(business_id, actor)
    review = business.reviews.first()
    if review and replies:
        now = timezone.now()
        for item in review.items.filter(approved=False):
            text = (replies.get(item.pk) or "").strip()
            if text:
                item.reply, item.replied_at = text, now
                item.save(update_fields=["reply", "replied_at"])
    return business_transition(business, "resend", actor=actor, event="enamad.business.resent", ctx=ctx,
                       message=not_ready_message(business))


@transaction.atomic
def business_review(*, business_id: int, actor, results: dict[int, tuple[bool, str]], note: str = "",
                    ask_activity_change: bool = False, ctx=None) -> Review:
    """The expert's checklist verdict: every active item approved → physical documents; any item
    not approved (each with its explanation) → deficiency announced."""
    business = lock_business(business_id)
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
    business_transition(business, name, actor=actor, event=f"enamad.business.{'approved' if all_ok else 'deficient'}",
                reason=reason, ctx=ctx, extra={"round": review.round, "failed": len(failed)})
    return review


@transaction.atomic
def business_documents_received(*, business_id: int, actor, ctx=None) -> Business:
    business = lock_business(business_id)
    if not actor.has_perm("enamad.review_documents"):
        raise PermissionDenied
    if business.status != BusinessStatus.PHYSICAL_DOCUMENTS:
        raise InvalidTransition(business, "documents_received")
    business.documents_received_at = timezone.now()
    business.save(update_fields=["documents_received_at", "updated_at"])
    audit.record(actor=actor, target=business, event="enamad.business.documents_received", ctx=ctx)
    return business


@transaction.atomic
def business_accept_documents(*, business_id: int, actor, ctx=None) -> Business:
    business = lock_business(business_id)
    if business.documents_received_at is None and business.status == BusinessStatus.PHYSICAL_DOCUMENTS:
        business.documents_received_at = timezone.now()
    return business_transition(business, "accept_documents", actor=actor, event="enamad.business.documents_accepted",
                       ctx=ctx)


@transaction.atomic
def business_reject_documents(*, business_id: int, actor, reason: str, ctx=None) -> Business:
    if not reason.strip():
        raise ValidationError("دلیل عدم تأیید مدارک را بنویسید.", code="reason")
    business = lock_business(business_id)
    return business_transition(business, "reject_documents", actor=actor, event="enamad.business.documents_rejected",
                       reason=reason, args=(reason,), ctx=ctx)


@transaction.atomic
def business_resend_documents(*, business_id: int, actor, ctx=None) -> Business:
    business = lock_own_business(business_id, actor)
    return business_transition(business, "resend_documents", actor=actor, event="enamad.business.documents_resent",
                       ctx=ctx)


@transaction.atomic
def business_return_to_expert(*, business_id: int, actor, reason: str, ctx=None) -> Business:
    business = lock_business(business_id)
    return business_transition(business, "return_to_expert", actor=actor, event="enamad.business.returned_to_expert",
                       reason=reason, args=(reason,), ctx=ctx)
