"""The write path for issued certificates: revocation (R19, R21), following the CA's record, and
expiry (R20). Same rules as services.py (which re-exports these names): one transaction, a locked
row, the FSM checks, the audit entry, the SMS after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from ramis.common import audit, notify
from ramis.common.errors import InvalidTransition
from ramis.common.transitions import transition
from ramis.registry import services as registry_services

from .models import (
    IMMEDIATE_REASONS,
    REASON_FROM_CA,
    RFC5280_REASON,
    Certificate,
    CertificateRequest,
    RevocationReason,
    RevocationRequest,
)
from .service_base import (
    DomainError,
    _record,
    _sms_applicant,
    logger,
)

# --- revocation (R19, R21) ----------------------------------------------------------------------------


class CARevocationFailed(DomainError):
    """The CA did not revoke: the caller's transaction rolls back, the certificate stays active."""


def _ca_revoke(serial: str, reason: str, actor) -> str:
    """Revoke at the CA, in this transaction (the CA refreshes OCSP and the CRL right after
    commit, R19). Returns ``"revoked"``, or ``"already_revoked"`` when the CA's record was revoked
    before (e.g. by the CA operator); raises ``CARevocationFailed`` when the CA refuses (no such
    serial, a certificate it cannot revoke) or fails, so the caller never marks a certificate
    revoked that the CA did not revoke."""
    from ramis.ca import services as ca_services
    from ramis.ca.models import IssuedCertificate

    try:
        with transaction.atomic():
            ca_services.certificate_revoke(serial=serial, reason=reason, actor=actor)
    except InvalidTransition:
        status = IssuedCertificate.objects.filter(serial_hex=serial).values_list("status", flat=True).first()
        if status == IssuedCertificate.Status.REVOKED:
            return "already_revoked"
        logger.error("the CA refused to revoke %s (its status: %s)", serial, status)
        raise CARevocationFailed("مرجع صدور گواهی این گواهی را ابطال نکرد (وضعیت آن در مرجع اجازه نمی‌دهد).") from None
    except Exception as exc:
        logger.exception("revocation of %s at the CA failed", serial)
        raise CARevocationFailed("ابطال در مرجع صدور گواهی انجام نشد؛ گواهی همچنان معتبر است. دوباره تلاش کنید.") \
            from exc
    return "revoked"


def _revoke(certificate: Certificate, *, actor, reason: str, note: str, check_perm: bool, ctx=None) -> None:
    """Revoke a locked certificate here and at the CA, in the caller's transaction (the CA's
    ``certificate_status_changed`` then finds this record revoked already)."""
    old = transition(certificate, "revoke", actor=actor, check_perm=check_perm, kwargs={"reason": reason})
    certificate.save()
    at_ca = _ca_revoke(certificate.serial, RFC5280_REASON[RevocationReason(reason)], actor)
    _revoked(certificate, old, actor=actor, reason=reason, note=note, at_ca=at_ca, ctx=ctx)


def _cancel_open_revocations(certificate: Certificate, *, actor, why: str, ctx=None) -> None:
    """The holder's revocation requests still waiting for the office are overtaken (the
    certificate was revoked or expired by another path, or an urgent revocation replaces them):
    cancelled, audited, and the holder told."""
    for revocation in certificate.revocations.select_for_update().filter(status=RevocationRequest.Status.SUBMITTED):
        old = transition(revocation, "cancel", actor=actor, check_perm=False)
        revocation.decision_note = why
        revocation.save()
        audit.record(actor=actor, target=revocation, event="revocation.cancelled", old=old, new=revocation.status,
                     reason=why, extra={"serial": certificate.serial}, ctx=ctx)
        notify.send_sms(to=certificate.holder.mobile, template="revocation_cancelled",
                        context={"certificate": certificate, "why": why})


def _revoked(certificate: Certificate, old: str, *, actor, reason: str, note: str, at_ca: str, ctx=None) -> None:
    """What follows a revocation here: open renewals and the holder's waiting revocation
    requests cancelled, the audit row, the holder's SMS."""
    _cancel_open_revocations(certificate, actor=actor, why="گواهی ابطال شد.", ctx=ctx)
    for renewal in certificate.renewals.open().select_for_update():
        if can_proceed(renewal.cancel):
            was = renewal.status
            renewal.cancel()
            renewal.save()
            _record(actor, renewal, "request.cancelled", was, reason="گواهی مورد تمدید ابطال شد.", ctx=ctx)
    audit.record(actor=actor, target=certificate, event="certificate.revoked", old=old, new=certificate.status,
                 reason=note, extra={"reason": reason, "rfc5280": RFC5280_REASON[RevocationReason(reason)],
                                     "ca": at_ca}, ctx=ctx)
    notify.send_sms(to=certificate.holder.mobile, template="certificate_revoked", context={
        "certificate": certificate, "reason": RevocationReason(reason).label,
    })


def revocation_pending(certificate: Certificate) -> bool:
    """A holder's revocation request waits for the office (``open_revocations`` when prefetched,
    ``selectors.certificates_for_applicant``)."""
    prefetched = getattr(certificate, "open_revocations", None)
    if prefetched is not None:
        return bool(prefetched)
    return certificate.revocations.filter(status=RevocationRequest.Status.SUBMITTED).exists()


def revocation_allowed_reasons(certificate: Certificate, *, now=None) -> list[str]:
    """Within ``RENEWAL_INSTEAD_OF_REVOCATION_DAYS`` of expiry, renewal or lapse replaces
    revocation (R21), and while a request waits for the office a second one would not be
    decided sooner (R19): only the urgent reasons (key compromise, lost token) remain, which
    revoke at once."""
    if certificate.days_left(now) < settings.RENEWAL_INSTEAD_OF_REVOCATION_DAYS or revocation_pending(certificate):
        return [r.value for r in RevocationReason if r in IMMEDIATE_REASONS]
    return list(RevocationReason.values)


@dataclass
class RevocationOutcome:
    revocation: RevocationRequest
    immediate: bool


@transaction.atomic
def revocation_request(*, certificate_id: int, actor, reason: str, note: str = "", ctx=None
                       ) -> RevocationOutcome:
    """The holder asks to revoke. Key compromise or a lost token revoke at once (and reach the
    CA's CRL/OCSP), and cancel a request of the holder still waiting for the office; other
    reasons wait for the office to confirm, one request at a time."""
    certificate = Certificate.objects.select_for_update().select_related("holder").get(pk=certificate_id)
    if certificate.holder.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if not certificate.revocable:  # active, on hold, or superseded by a renewal and not expired
        raise InvalidTransition(certificate, "revoke", "این گواهی معتبر نیست.")
    immediate = reason in IMMEDIATE_REASONS
    if not immediate and revocation_pending(certificate):
        raise DomainError("برای این گواهی درخواست ابطالی در انتظار تأیید دفتر است؛ اکنون فقط ابطال فوری "
                          "(افشای کلید یا گم شدن توکن) ممکن است.")
    if reason not in revocation_allowed_reasons(certificate):
        raise DomainError(
            "این گواهی کمتر از ۳۰ روز دیگر منقضی می‌شود: به جای ابطال آن را تمدید کنید یا بگذارید منقضی شود "
            "(ابطال فوری فقط برای افشای کلید یا گم شدن توکن)."
        )
    if immediate:
        _cancel_open_revocations(certificate, actor=actor, ctx=ctx,
                                 why="با درخواست ابطال فوری دارنده جایگزین شد.")
    revocation = RevocationRequest.objects.create(certificate=certificate, reason=reason, note=note,
                                                  requested_by=actor)
    audit.record(actor=actor, target=revocation, event="revocation.requested", new=revocation.status,
                 reason=note, extra={"reason": reason, "serial": certificate.serial}, ctx=ctx)
    if immediate:
        old = transition(revocation, "confirm", actor=actor, check_perm=False)
        revocation.decided_by = actor
        revocation.save()
        audit.record(actor=actor, target=revocation, event="revocation.confirmed", old=old, new=revocation.status,
                     extra={"immediate": True}, ctx=ctx)
        _revoke(certificate, actor=actor, reason=reason, note=note, check_perm=False, ctx=ctx)
    else:
        notify.send_sms(to=certificate.holder.mobile, template="revocation_requested",
                        context={"certificate": certificate, "office": certificate.office})
    return RevocationOutcome(revocation=revocation, immediate=immediate)


@transaction.atomic
def revocation_confirm(*, revocation_id: int, actor, ctx=None) -> RevocationRequest:
    """The certificate's office (or a reviewer) confirms a holder's revocation request."""
    revocation = RevocationRequest.objects.select_for_update().select_related("certificate").get(pk=revocation_id)
    certificate = Certificate.objects.select_for_update().select_related("holder").get(pk=revocation.certificate_id)
    if not can_proceed(certificate.revoke):  # revoked or expired meanwhile: nothing left to confirm
        raise InvalidTransition(certificate, "revoke", "این گواهی دیگر قابل ابطال نیست "
                                f"(وضعیت آن: {certificate.get_status_display()}).")
    if not has_transition_perm(certificate.revoke, actor):
        raise PermissionDenied
    old = transition(revocation, "confirm", actor=actor, check_perm=False)
    revocation.decided_by = actor
    revocation.save()
    audit.record(actor=actor, target=revocation, event="revocation.confirmed", old=old, new=revocation.status,
                 ctx=ctx)
    _revoke(certificate, actor=actor, reason=revocation.reason, note=revocation.note, check_perm=True, ctx=ctx)
    return revocation


@transaction.atomic
def revocation_reject(*, revocation_id: int, actor, reason: str, ctx=None) -> RevocationRequest:
    if not reason.strip():
        raise DomainError("دلیل رد درخواست ابطال را بنویسید.")
    revocation = RevocationRequest.objects.select_for_update().select_related(
        "certificate", "certificate__holder").get(pk=revocation_id)
    old = transition(revocation, "reject", actor=actor)
    revocation.decided_by = actor
    revocation.decision_note = reason
    revocation.save()
    audit.record(actor=actor, target=revocation, event="revocation.rejected", old=old, new=revocation.status,
                 reason=reason, ctx=ctx)
    notify.send_sms(to=revocation.certificate.holder.mobile, template="revocation_rejected",
                    context={"certificate": revocation.certificate, "reason": reason})
    return revocation


@transaction.atomic
def certificate_revoke(*, certificate_id: int, actor, reason: str, note: str = "", ctx=None) -> Certificate:
    """The office or a reviewer revokes directly (no holder request)."""
    certificate = Certificate.objects.select_for_update().select_related("holder").get(pk=certificate_id)
    if reason not in RevocationReason.values:
        raise DomainError("دلیل ابطال نامعتبر است.")
    _revoke(certificate, actor=actor, reason=reason, note=note, check_perm=True, ctx=ctx)
    return certificate


@transaction.atomic
def role_end_with_revocation(
    *, role_id: int, actor, reason: str = "", revocation_reason: str = RevocationReason.AFFILIATION_CHANGED,
    ctx=None,
) -> list[Certificate]:
    """An SEO reviewer ends a role (R19): the role ends in the registry and every active
    certificate bound to it is revoked (affiliation changed / cessation of operation)."""
    registry_services.role_end(role_id=role_id, actor=actor, reason=reason, ctx=ctx)
    revoked = []
    for certificate in Certificate.objects.select_for_update().select_related("holder").filter(
        Q(status__in=Certificate.LIVE) | Q(status=Certificate.Status.SUPERSEDED, not_after__gt=timezone.now()),
        role_id=role_id,
    ):
        # ending the role (registry.review_role) is the authority for these revocations
        _revoke(certificate, actor=actor, reason=revocation_reason, note=reason, check_perm=False, ctx=ctx)
        revoked.append(certificate)
    for req in CertificateRequest.objects.select_for_update().filter(role_id=role_id).open():
        if can_proceed(req.withdraw):
            was = req.status
            req.withdraw()
            req.save()
            _record(actor, req, "request.withdrawn", was, reason="سمت درخواست‌کننده پایان یافت.", ctx=ctx)
            _sms_applicant(req, "request_withdrawn")
    return revoked


CA_EVENTS = {  # the CA's event → this record's transition and the status it reaches
    "certificate.held": ("hold", Certificate.Status.ON_HOLD),
    "certificate.released": ("release", Certificate.Status.ACTIVE),
    "certificate.revoked": ("revoke", Certificate.Status.REVOKED),
}


@transaction.atomic
def certificate_follow_ca(*, serial: str, event: str, ca_reason: str = "", note: str = "", actor=None,
                          ctx=None) -> Certificate | None:
    """The CA held, released or revoked a certificate (its operator at ``manage.py ca hold|release|
    revoke`` or in the admin; ``ramis.ca.signals.certificate_status_changed``): this room's record
    follows in the same transaction, audited, and the holder is told by SMS, so the panel and the
    desk show the status and why. Nothing happens when the record already shows it (the change
    started here, ``_revoke``), or for a certificate this room does not know."""
    certificate = Certificate.objects.select_for_update().select_related("holder").filter(
        serial=serial.lower()).first()
    if certificate is None or event not in CA_EVENTS:
        return None
    name, target = CA_EVENTS[event]
    if not can_proceed(getattr(certificate, name)):
        if certificate.status != target:
            logger.warning("the CA's %s of %s does not apply to its record here (%s)", event, serial,
                           certificate.status)
        return None
    note = (note or "").strip()
    if name == "revoke":
        reason = REASON_FROM_CA.get(ca_reason, RevocationReason.UNSPECIFIED)
        old = transition(certificate, "revoke", actor=actor, check_perm=False, kwargs={"reason": reason, "ca_note": note})
        certificate.save()
        _revoked(certificate, old, actor=actor, reason=reason, note=note, at_ca="by_ca", ctx=ctx)
        return certificate
    old = transition(certificate, name, actor=actor, check_perm=False, kwargs={"note": note})
    certificate.save()
    audit.record(actor=actor, target=certificate, event=event, old=old, new=certificate.status, reason=note,
                 extra={"by": "ca", "serial": certificate.serial}, ctx=ctx)
    notify.send_sms(to=certificate.holder.mobile, template=f"certificate_{name}", context={
        "certificate": certificate, "note": note, "base_url": settings.PUBLIC_BASE_URL,
    })
    return certificate


# --- expiry (R20) -------------------------------------------------------------------------------------


def certificates_remind_expiring(*, now: dt.datetime | None = None) -> int:
    """SMS the holders of active certificates that expire within each of
    ``EXPIRY_REMINDER_DAYS`` (30 and 7): once per threshold per certificate."""
    now = now or timezone.now()
    thresholds = sorted(settings.EXPIRY_REMINDER_DAYS)
    if not thresholds:
        return 0
    horizon = now + dt.timedelta(days=max(thresholds))
    sent = 0
    candidates = Certificate.objects.active().filter(not_after__gt=now, not_after__lte=horizon).values_list("pk", flat=True)
    for pk in candidates:
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().select_related("holder").get(pk=pk)
            if certificate.status != Certificate.Status.ACTIVE:
                continue
            days_left = (certificate.not_after - now).total_seconds() / 86400
            due = [t for t in thresholds if days_left <= t and t not in certificate.reminders_sent]
            if not due:
                continue
            threshold = min(due)
            certificate.reminders_sent = sorted({*certificate.reminders_sent, *due})
            certificate.save(update_fields=["reminders_sent"])
            notify.send_sms(to=certificate.holder.mobile, template="certificate_expiring", context={
                "certificate": certificate, "days": threshold, "base_url": settings.PUBLIC_BASE_URL,
            })
            audit.record(actor=None, target=certificate, event="certificate.expiry_reminded",
                         old=certificate.status, new=certificate.status, extra={"days": threshold})
            sent += 1
    return sent


def certificates_expire(*, now: dt.datetime | None = None) -> int:
    """Mark active certificates past their ``not_after`` as expired."""
    now = now or timezone.now()
    done = 0
    for pk in Certificate.objects.filter(status__in=Certificate.LIVE, not_after__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().select_related("holder").get(pk=pk)
            if not can_proceed(certificate.expire):
                continue
            old = transition(certificate, "expire", actor=None, check_perm=False)
            certificate.save()
            audit.record(actor=None, target=certificate, event="certificate.expired", old=old, new=certificate.status)
            _cancel_open_revocations(certificate, actor=None, why="گواهی منقضی شد.")
            notify.send_sms(to=certificate.holder.mobile, template="certificate_expired",
                            context={"certificate": certificate})
            done += 1
    return done
