"""Domain control after the file: the code e-mailed to info@<domain> (N22) and the monitor's
record of each sealed site's check (N18, N21).

The network part of a check runs in ``enamad.businesses.verification`` outside any transaction; these
services record what it found."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from enamad.businesses import verification
from enamad.businesses.domains import control_email_address, display_domain
from enamad.businesses.models import (
    Business,
    BusinessStatus,
    DomainEmailCode,
    VerificationMethod,
    seal_vouches,
)
from enamad.businesses.services import domain_is_held, recheck_idle_holder
from enamad.businesses.transitions import business_transition, lock_own_business
from enamad.common import Throttled, absolute_url, digest
from enamad.seals.models import Seal
from enamad.seals.presentation import MONITOR_LINES
from enamad.seals.services import forget_seal, lock_seal
from ramis.common import audit, notify
from ramis.common.digits import to_latin_digits
from ramis.common.errors import InvalidTransition

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
    return digest("domain-email", f"{business.pk}:{address}:{code}")


def _issue_domain_code(business: Business, *, actor, by_monitor: bool = False, ctx=None) -> DomainEmailCode:
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
               "url": absolute_url(reverse("enamad:technical", args=[business.pk]))}
    notify.send_email(to=address, template="enamad_domain_code", context=context, secrets=("code",))
    audit.record(actor=actor, target=business, event="enamad.business.domain_code_sent",
                 extra={"address": address, "by": "monitor" if by_monitor else "holder"}, ctx=ctx)
    return row


@transaction.atomic
def business_send_domain_code(*, business_id: int, actor, ctx=None) -> DomainEmailCode:
    """The holder asks for a code at info@ the business's own domain (never an address they
    type). Not sooner than ``ENAMAD_DOMAIN_EMAIL_RESEND_SECONDS`` after the last one, and at
    most ``ENAMAD_DOMAIN_EMAIL_DAILY_LIMIT`` a day per business and
    ``ENAMAD_DOMAIN_EMAIL_ADDRESS_DAILY_LIMIT`` per address (others may claim the same domain:
    its mailbox is not to be flooded)."""
    business = lock_own_business(business_id, actor)
    seal = Seal.objects.select_for_update().filter(business=business).first()
    if not _domain_code_purpose(business, seal):
        raise InvalidTransition(business, "send_domain_code", "تأییدیه فنی این کسب‌وکار اکنون به کد رایانامه‌ای نیاز ندارد.")
    if business.domain_verified_at is None and domain_is_held(business.domain, exclude_id=business.pk):
        message = DOMAIN_HELD_MESSAGE
        if recheck_idle_holder(business.domain, exclude_id=business.pk):
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
    return _issue_domain_code(business, actor=actor, ctx=ctx)


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


def business_confirm_domain_code(*, business_id: int, actor, code: str, ctx=None) -> Business:
    """The holder enters the e-mailed code: domain control is proved with method ``email``
    (or, for a seal asked to confirm again, the proof is renewed and the monitor's warning or
    suspension lifted). A refusal raises ``ValidationError`` in words for the code field; a
    wrong try is counted (and audited) all the same."""
    refusal = _confirm_domain_code(business_id=business_id, actor=actor, code=to_latin_digits(code or "").strip(),
                                   ctx=ctx)
    if refusal:
        raise ValidationError(refusal, code="code")
    return Business.objects.get(pk=business_id)


@transaction.atomic
def _confirm_domain_code(*, business_id: int, actor, code: str, ctx=None) -> str:
    business = lock_own_business(business_id, actor)
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
        if recheck_idle_holder(business.domain, exclude_id=business.pk):
            message += " آن تأییدیه دوباره بررسی می‌شود؛ چند دقیقه بعد دوباره تلاش کنید."
        return message
    row.used_at = now
    row.save(update_fields=["used_at"])
    extra = {"domain": business.domain, "address": row.address}
    if purpose == "verify":
        audit.record(actor=actor, target=business, event="enamad.business.domain_verified", new=business.domain_verified_method,
                     extra=extra, ctx=ctx)
        notify.send_email(to=business.account.user.email, template="enamad_domain_verified",
                          context={"business": business})
        return ""
    audit.record(actor=actor, target=business, event="enamad.business.domain_reconfirmed", old=old_method,
                 new=business.domain_verified_method, extra=extra, ctx=ctx)
    events = _seal_domain_restored(business, seal, method=business.domain_verified_method)
    seal.save()
    forget_seal(seal)
    _notify_monitor(business, seal, events)
    return ""


# --- monitoring of sealed sites (N18, N21) -----------------------------------------------------

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
               "url": absolute_url(reverse("enamad:business", args=[business.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_monitor", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, template="enamad_monitor", context=context)


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
        business_transition(business, "reinstate", actor=None, event="enamad.seal.reinstated",
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
    business, seal = lock_seal(seal_id)
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
            business_transition(business, "suspend", actor=None, event="enamad.seal.suspended", reason=reason,
                        args=(reason,), extra={"by": "monitor"})
            events.append("enamad.seal.suspended")
    seal.save()
    if events:
        forget_seal(seal)
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
