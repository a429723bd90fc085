"""The one write path for a seal: final approval, renewal, suspension, reinstatement,
revocation, expiry and the expiry reminders (N16–N18; STYLE 1–3)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from enamad.businesses.models import (
    Business,
    BusinessService,
    BusinessStatus,
    can_suspend,
)
from enamad.businesses.pending import apply_service_changes, stage_renewal_changes, stage_service_changes
from enamad.businesses.services import not_ready_message
from enamad.businesses.transitions import business_transition, lock_business, lock_own_business, notify_holder
from enamad.common import absolute_url
from enamad.seals.models import Seal
from enamad.seals.selectors import forget_memo, seal_cache_key
from ramis.common import audit, notify
from ramis.common.errors import InvalidTransition


def lock_seal(seal_id: int) -> tuple[Business, Seal]:
    """Lock a seal and its business in the one order every service uses: the business first,
    then the seal (the other order against ``business_final_approve`` or a staff reinstatement
    deadlocks on PostgreSQL)."""
    business = lock_business(Seal.objects.values_list("business_id", flat=True).get(pk=seal_id))
    return business, Seal.objects.select_for_update().get(pk=seal_id)


def forget_seal(seal: Seal | None) -> None:
    if seal is not None:
        key = seal_cache_key(seal.number, seal.code)

        def forget() -> None:  # the shared copy, and this process's own (the others' lapse on their own)
            cache.delete(key)
            forget_memo(key)

        transaction.on_commit(forget)


def _new_seal_number() -> int:
    while True:
        number = 100_000 + secrets.randbelow(9_900_000)
        if not Seal.objects.filter(number=number).exists():
            return number


@transaction.atomic
def business_final_approve(*, business_id: int, actor, ctx=None) -> Seal:
    """N15 → N16/N18: final approval issues (or renews) the seal: one star, two with valid TLS,
    valid ``ENAMAD_SEAL_VALIDITY_DAYS`` from now."""
    business = lock_business(business_id)
    message = None
    if business.status == BusinessStatus.MANAGER_REVIEW and business.contacts_verified_count < 3:
        message = "پیش از تأیید نهایی هر سه مورد رایانامه، تلفن و نشانی کسب‌وکار باید احراز شده باشند."
    service_changes = business.pending_changes.get("service", {})
    business_transition(business, "final_approve", actor=actor, event="enamad.business.final_approved", ctx=ctx,
                message=message, words="renewed" if business.renewing else None)
    if service_changes:
        apply_service_changes(business, service_changes)
    now = timezone.now()
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if seal is None:
        seal = Seal(business=business, number=_new_seal_number())
    forget_seal(seal if seal.pk else None)
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
                 extra={"number": seal.number, "expires_at": seal.expires_at.isoformat()}, ctx=ctx)
    return seal


RENEWAL_WINDOW_DAYS = 30
RENEWAL_FORM_SERVICE_FIELDS = ("offerings", "delivery_methods", "payment_methods", "licence_reference")


def renewal_allowed(business: Business, seal: Seal | None, now=None) -> bool:
    if business.status == BusinessStatus.EXPIRED:
        return True
    now = now or timezone.now()
    return (business.status == BusinessStatus.APPROVED and seal is not None
            and seal.expires_at - now <= timedelta(days=RENEWAL_WINDOW_DAYS))


@transaction.atomic
def business_renew(*, business_id: int, actor, data: dict | None = None, service_data: dict | None = None,
                   ctx=None) -> Business:
    """The owner asks for another year (N18): the renewal form comes pre-filled with the file's
    details, the owner confirms or corrects them, and the file goes back to the expert (DESIGN:
    renew → under_review), from an expired seal or within ``RENEWAL_WINDOW_DAYS`` of expiry.
    Until then the seal keeps vouching up to its old expiry date; the seal keeps its id and
    code, and final approval adds the new year to what was left."""
    business = lock_own_business(business_id, actor)
    seal = Seal.objects.filter(business=business).first()
    if not renewal_allowed(business, seal):
        raise InvalidTransition(business, "renew", f"تمدید از {RENEWAL_WINDOW_DAYS} روز پیش از انقضا ممکن است.")
    changed = stage_renewal_changes(business, data or {})
    service_changed = []
    if service_data and BusinessService.objects.filter(business=business).exists():
        service_changed = stage_service_changes(business, {name: service_data[name] for name in RENEWAL_FORM_SERVICE_FIELDS
                                                            if name in service_data})
    business_transition(business, "renew", actor=actor, event="enamad.business.renewal_requested", ctx=ctx,
                message=not_ready_message(business), extra={"fields": changed + service_changed})
    forget_seal(seal)
    return business


@transaction.atomic
def business_reject_renewal(*, business_id: int, actor, reason: str, ctx=None) -> Business:
    """The expert or the manager refuses a renewal, with a reason (N18): the file goes back to
    its seal as it was — approved, vouching until its old expiry date (expired if that date has
    passed) — the corrections waiting in ``pending_changes`` are dropped and the verifications
    of the values in force come back (audited ``…renewal_changes_dropped``, as on suspension).
    The holder is told and may ask for a renewal again."""
    if not (reason or "").strip():
        raise ValidationError("دلیل رد درخواست تمدید را بنویسید.", code="reason")
    business = lock_business(business_id)
    seal = Seal.objects.select_for_update().filter(business=business).first()
    expired = seal is None or seal.expires_at <= timezone.now()
    business_transition(business, "reject_renewal", actor=actor, event="enamad.business.renewal_rejected", reason=reason,
                args=(reason, expired), ctx=ctx,
                words="renewal_rejected_expired" if expired else "renewal_rejected")
    forget_seal(seal)
    return business


def _seal_transition(business_id: int, name: str, *, actor, event: str, reason: str = "", ctx=None) -> Business:
    business = lock_business(business_id)
    args = (reason,) if name in {"suspend", "revoke"} else ()
    business_transition(business, name, actor=actor, event=event, reason=reason, args=args, ctx=ctx)
    seal = Seal.objects.filter(business=business).first()
    if seal is not None and name == "reinstate" and seal.suspended_by_monitor:
        # Staff lifted a suspension the monitor imposed: the grace period starts again.
        Seal.objects.filter(pk=seal.pk).update(suspended_by_monitor=False, domain_failing_since=None,
                                               failed_checks=0)
    forget_seal(seal)
    return business


def monitor_suspension_can_be_taken_over(business: Business, seal: Seal | None, actor) -> bool:
    return (business.status == BusinessStatus.SUSPENDED and seal is not None and seal.suspended_by_monitor
            and can_suspend(business, actor))


def take_over_monitor_suspension(business: Business, *, actor, reason: str, ctx=None,
                                  extra: dict | None = None) -> bool:
    """Staff keep suspended a seal the monitor suspended (a complaint upheld, the desk): the
    suspension becomes theirs, so a restored domain check no longer lifts it (the monitor
    stops re-checking it). False when the seal is not under the monitor's suspension. The
    business is locked by the caller; the seal is locked after it (the one order)."""
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if business.status != BusinessStatus.SUSPENDED or seal is None or not seal.suspended_by_monitor:
        return False
    if not can_suspend(business, actor):
        raise PermissionDenied
    seal.suspended_by_monitor = False
    seal.save(update_fields=["suspended_by_monitor"])
    business.last_reason = reason
    business.save(update_fields=["last_reason", "updated_at"])
    audit.record(actor=actor, target=seal, event="enamad.seal.suspension_taken_over", old="monitor", new="staff",
                 reason=reason, extra=extra, ctx=ctx)
    notify_holder(business, event="enamad.seal.suspension_taken_over", reason=reason)
    return True


@transaction.atomic
def business_suspend(*, business_id: int, actor, reason: str, ctx=None) -> Business:
    """Suspend a seal that vouches; a seal the monitor suspended stays suspended by staff."""
    business = lock_business(business_id)
    if take_over_monitor_suspension(business, actor=actor, reason=reason, ctx=ctx):
        return business
    return _seal_transition(business_id, "suspend", actor=actor, event="enamad.seal.suspended", reason=reason,
                            ctx=ctx)


@transaction.atomic
def business_reinstate(*, business_id: int, actor, ctx=None) -> Business:
    return _seal_transition(business_id, "reinstate", actor=actor, event="enamad.seal.reinstated", ctx=ctx)


@transaction.atomic
def business_revoke(*, business_id: int, actor, reason: str, ctx=None) -> Business:
    return _seal_transition(business_id, "revoke", actor=actor, event="enamad.seal.revoked", reason=reason,
                            ctx=ctx)


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
    business, seal = lock_seal(seal_id)
    now = timezone.now()
    days = _reminder_due(seal.expires_at, seal.reminder_days_sent, now)
    if days is None or business.status != BusinessStatus.APPROVED or business.renewing:
        return False
    seal.reminder_days_sent = days
    seal.save(update_fields=["reminder_days_sent"])
    context = {"business": business, "seal": seal, "days": days,
               "url": absolute_url(reverse("enamad:renew", args=[business.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_seal_expiring", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, template="enamad_seal_expiring", context=context)
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
