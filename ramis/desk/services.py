"""The desk's write paths (STYLE 1–3): the identity check at the visit, issuance onto the
applicant's token, and the office's revocation with its signed form.

Request decisions (approve, return, reject), visit scheduling and revocation decisions are the
requests room's services; the desk's views call those directly.

Issuance (``request_issue_on_token``) runs its token and CA I/O outside any database
transaction: a short transaction claims the request (an ``IssuanceAttempt`` in ``started``),
then the token is opened, the key pair generated on it and the CSR signed by it; the CA's part
runs on the ``signing`` queue (``tasks.ca_sign``: the only worker holding the CA token's PIN;
eager in the embedded setup) while the clerk's request waits for its outcome on the attempt; the
certificate is written back onto the token, and a last transaction records it
(``request_mark_issued``) and closes the attempt. If anything fails, what was done is undone
before the clerk sees the message:

* the key generated on the token is deleted (with any certificate written beside it);
* a certificate the CA already issued — or issues later, for an attempt the office has given
  up — is revoked at once (reason ``cessation_of_operation``),
  so no valid certificate exists whose key is not on the applicant's token with its record —
  chosen over keeping it for a retry because a retry generates a new key anyway, and a
  certificate nobody holds must not stay valid;
* the attempt ends ``failed`` with the error and the clean-up done, audited; the request stays
  ``awaiting_issuance`` and the clerk can try again.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_fsm import can_proceed, has_transition_perm

from ramis.ca import selectors as ca_selectors
from ramis.ca import services as ca_services
from ramis.ca.builder import IssuanceError
from ramis.ca.findings import LintError
from ramis.ca.models import IssuedCertificate, Reason
from ramis.common import audit, validators
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import validate_upload
from ramis.offices.selectors import is_clerk_of
from ramis.requests import services as request_services
from ramis.requests.models import Certificate, CertificateRequest, RevocationReason, TokenChoice
from tokens import PinLocked, TokenError, TokenNotFound, TokenRemoved, WrongPin

from . import selectors, workstation
from .errors import NOT_FOR_HOLDERS
from .errors import DeskError as DeskError
from .models import Handover, IdentityCheck, IssuanceAttempt, OfficeRevocation, Workstation

# Issuing desks (workstations, their agents) have their own module; callers reach them here too.
from .station_services import Health as Health
from .station_services import _check_agent_url as _check_agent_url
from .station_services import workstation_add as workstation_add
from .station_services import workstation_check as workstation_check
from .station_services import workstation_choose as workstation_choose
from .station_services import workstation_rotate_secret as workstation_rotate_secret
from .station_services import workstation_update as workstation_update

log = logging.getLogger(__name__)
Status = CertificateRequest.Status


def _lock_request(request_id: int) -> CertificateRequest:
    return (CertificateRequest.objects.select_for_update(of=("self",))
            .select_related("applicant", "role", "role__company", "office", "token_model").get(pk=request_id))


def _require_clerk(req: CertificateRequest, actor) -> None:
    if not is_clerk_of(actor, req.office_id):
        raise PermissionDenied


# --- identity check at the visit (R13, R14, R21) -----------------------------------------------------


@dataclass
class IdentityFacts:
    """What the clerk records; see :class:`~ramis.desk.models.IdentityCheck`."""

    national_card_seen: bool
    second_document: str
    photo_matches: bool
    presenter: str
    attorney_name: str = ""
    attorney_national_code: str = ""
    power_kind: str = ""
    power_number: str = ""
    power_date: dt.date | None = None
    power_notary: str = ""
    note: str = ""


def identity_failures(facts: IdentityFacts) -> list[str]:
    """Why the person present cannot receive the certificate (empty: they can)."""
    failures = []
    if not facts.national_card_seen:
        failures.append("اصل کارت ملی دیده نشد.")
    if not facts.second_document:
        failures.append("اصل شناسنامه یا گذرنامه دیده نشد.")
    if not facts.photo_matches:
        failures.append("چهره فرد حاضر با عکس مدارک شناسایی مطابقت ندارد.")
    if facts.presenter == IdentityCheck.Presenter.ATTORNEY and facts.power_kind not in IdentityCheck.ACCEPTED_POWERS:
        failures.append("وکالت ثبت شرکت یا امور مالیاتی برای دریافت گواهی پذیرفته نیست؛ "
                        "وکالت‌نامه رسمی محضری لازم است (R21).")
    return failures


@transaction.atomic
def identity_check_record(*, request_id: int, actor, facts: IdentityFacts, power_file=None,
                          ctx=None) -> IdentityCheck:
    """Record the identity check of the person present for the request (owner or attorney)."""
    req = _lock_request(request_id)
    _require_clerk(req, actor)
    if req.status != Status.AWAITING_ISSUANCE:
        raise InvalidTransition(req, "identity_check", "احراز هویت حضوری فقط برای درخواست «در انتظار صدور» ثبت می‌شود.")
    if facts.presenter not in IdentityCheck.Presenter.values:
        raise DeskError("مشخص کنید چه کسی حاضر است: خود دارنده یا وکیل او.")
    attorney = facts.presenter == IdentityCheck.Presenter.ATTORNEY
    if attorney:
        if not (facts.attorney_name.strip() and facts.attorney_national_code and facts.power_kind):
            raise DeskError("نام، کد ملی وکیل و نوع وکالت‌نامه را وارد کنید.")
        try:
            validators.validate_national_code(facts.attorney_national_code)
        except ValidationError:
            raise DeskError("کد ملی وکیل معتبر نیست.") from None
        if facts.power_kind in IdentityCheck.ACCEPTED_POWERS and not (
                facts.power_number.strip() and facts.power_date and power_file is not None):
            raise DeskError("شماره، تاریخ و تصویر وکالت‌نامه محضری را وارد کنید.")
    failures = identity_failures(facts)
    check = IdentityCheck(
        request=req, checked_by=actor, national_card_seen=facts.national_card_seen,
        second_document=facts.second_document, photo_matches=facts.photo_matches, presenter=facts.presenter,
        note=facts.note.strip(), passed=not failures, failures=failures,
    )
    if attorney:
        check.attorney_name = facts.attorney_name.strip()
        check.attorney_national_code = facts.attorney_national_code
        check.power_kind = facts.power_kind
        check.power_number = facts.power_number.strip()
        check.power_date = facts.power_date
        check.power_notary = facts.power_notary.strip()
        if power_file is not None:
            check.power_file_kind = validate_upload(power_file)
            check.power_file.save(f"power.{check.power_file_kind}", power_file, save=False)
    check.save()
    audit.record(actor=actor, target=req, event="request.identity_checked", old=req.status, new=req.status,
                 reason="؛ ".join(failures), ctx=ctx, extra={
                     "check": check.pk, "passed": check.passed, "presenter": check.presenter,
                     "second_document": check.second_document, "power_kind": check.power_kind,
                     "power_number": check.power_number, "failures": failures,
                 })
    return check


# --- issuance onto the applicant's token (R13, R18) ---------------------------------------------------


def key_type_for(cert_type: str) -> str:
    from ramis.ca import profiles

    key_type = settings.OFFICE_KEY_TYPES.get(cert_type, "rsa2048")
    if key_type not in profiles.get_profile(cert_type).key_types:
        raise DeskError(f"نوع کلید {key_type} برای این نوع گواهی مجاز نیست؛ تنظیم OFFICE_KEY_TYPES را بررسی کنید.",
                        "config")
    return key_type


def _reap_abandoned(req: CertificateRequest, actor) -> None:
    """Close attempts a crashed process left unfinished; revoke at the CA any certificate issued
    for this request that was never recorded (nothing half-issued remains)."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.OFFICE_ISSUANCE_TIMEOUT_SECONDS)
    for attempt in req.issuance_attempts.in_progress().filter(started_at__lt=cutoff).select_for_update():
        cleanup = {}
        recorded = set(Certificate.objects.filter(request=req).values_list("serial", flat=True))
        for issued in IssuedCertificate.objects.active().filter(request_ref=_request_ref(req, attempt)):
            if issued.serial_hex not in recorded:
                ca_services.certificate_revoke(serial=issued.serial_hex, reason=Reason.CESSATION_OF_OPERATION,
                                               actor=actor)
                cleanup.setdefault("ca_revoked", []).append(issued.serial_hex)
        old = attempt.status
        attempt.fail(code="abandoned", error="the attempt did not finish (process ended)", cleanup=cleanup)
        attempt.save()
        audit.record(actor=actor, target=attempt, event="issuance.abandoned", old=old, new=attempt.status,
                     extra={"request": req.reference, "cleanup": cleanup})


def _request_ref(req: CertificateRequest, attempt: IssuanceAttempt) -> str:
    return f"{req.reference}/{attempt.pk}"


def _station(ws: Workstation | None) -> dict | None:
    """How an audit entry names the workstation an issuance ran at (``None``: in-process)."""
    return None if ws is None else {"id": ws.pk, "name": ws.name, "url": ws.agent_url}


def _workstation_for(req: CertificateRequest, workstation_id: int | None) -> Workstation | None:
    """The clerk's workstation: an active one of the request's office (or none, in-process)."""
    if workstation_id is None:
        if workstation.backend_class().needs_workstation:
            raise DeskError("باجه‌ای که پشت آن نشسته‌اید انتخاب نشده است؛ نخست باجهٔ خود را انتخاب کنید.",
                            "no_workstation")
        return None
    ws = Workstation.objects.active().filter(pk=workstation_id, office_id=req.office_id).first()
    if ws is None:
        raise DeskError("این باجه از باجه‌های فعال دفتر شما نیست؛ باجهٔ خود را دوباره انتخاب کنید.", "workstation")
    return ws


@transaction.atomic
def _issuance_start(*, request_id: int, actor, new_token: bool, token_serial: str, pin_length: int,
                    workstation_id: int | None = None, reinit_serial: str = "", so_pin_given: bool = False,
                    ctx=None):
    """Claim the issuance of the request: who may, its state (and a renewed certificate not held
    at the CA), the workstation, today's identity check, then the clerk's input (so a request that may not be issued is refused for that,
    whatever was typed)."""
    req = _lock_request(request_id)
    _require_clerk(req, actor)
    if not can_proceed(req.mark_issued):
        raise InvalidTransition(req, "issue", "فقط درخواست «در انتظار صدور» صادر می‌شود.")
    if not has_transition_perm(req.mark_issued, actor):
        raise PermissionDenied
    if req.renews_id and req.renews.status == Certificate.Status.ON_HOLD:
        # the renewal would supersede a certificate the CA holds (under review): not while it is held
        raise DeskError("گواهی‌ای که این درخواست تمدید می‌کند در مرجع صدور گواهی معلق است؛ تا رفع تعلیق، "
                        "تمدید صادر نمی‌شود.", "renewed_on_hold")
    ws = _workstation_for(req, workstation_id)
    check = selectors.valid_identity_check(req)
    if check is None:
        raise DeskError("پیش از صدور، احراز هویت حضوری امروز را ثبت کنید (و باید پذیرفته شده باشد).", "no_identity")
    if new_token and req.token_choice == TokenChoice.REUSE:
        raise DeskError("متقاضی توکن فعلی خود را به کار می‌برد؛ توکن نو برای او راه‌اندازی نمی‌شود.", "token_choice")
    if reinit_serial and req.token_choice != TokenChoice.BUY:
        raise DeskError("پاک‌سازی و راه‌اندازی دوبارهٔ توکن فقط برای توکن نوِ خریده‌شده است.", "token_choice")
    if reinit_serial in ca_selectors.system_token_serials():
        raise DeskError(NOT_FOR_HOLDERS, "system_token")
    if not pin_length:
        raise DeskError("رمز (PIN) توکن را وارد کنید.", "no_pin")
    if new_token and pin_length < settings.OFFICE_TOKEN_PIN_MIN_LENGTH:
        raise DeskError(f"رمز توکن نو دست‌کم {settings.OFFICE_TOKEN_PIN_MIN_LENGTH} نویسه باشد.", "pin_short")
    if not new_token and not token_serial:
        raise DeskError("توکن متقاضی را از فهرست انتخاب کنید.", "no_token")
    if reinit_serial and not so_pin_given:
        raise DeskError("رمز مدیر (SO PIN) فعلی توکن را وارد کنید.", "no_so_pin")
    _reap_abandoned(req, actor)
    running = req.issuance_attempts.in_progress().select_related("clerk").first()
    if running is not None:
        who = running.clerk.get_full_name() or running.clerk.username
        raise DeskError(f"صدور این درخواست هم‌اکنون در جریان است ({who})؛ چند لحظه بعد صفحه را تازه کنید.",
                        "in_progress")
    problem = selectors.check_subject(req)
    if problem:
        raise DeskError(f"مشخصات درخواست برای گواهی کافی نیست ({problem})؛ درخواست را برای اصلاح برگردانید.",
                        "subject")
    key_type = key_type_for(req.cert_type)
    try:
        with transaction.atomic():
            attempt = IssuanceAttempt.objects.create(request=req, clerk=actor, identity_check=check,
                                                     new_token=new_token, key_type=key_type, workstation=ws)
    except IntegrityError:  # another clerk's attempt got in first
        raise DeskError("صدور این درخواست هم‌اکنون در جریان است؛ چند لحظه بعد صفحه را تازه کنید.",
                        "in_progress") from None
    audit.record(actor=actor, target=attempt, event="issuance.started", new=attempt.status, ctx=ctx,
                 extra={"request": req.reference, "new_token": new_token, "key_type": key_type,
                        "identity_check": check.pk, "workstation": _station(ws),
                        "reinitialise": reinit_serial or None})
    return req, attempt


def _audit_refusal(*, request_id: int, actor, exc: Exception, new_token: bool, ctx=None) -> None:
    """A refusal before any attempt exists (bad input, wrong state, identity not checked, not this
    office's clerk, another attempt running...) is audited on the request, after the claiming
    transaction has rolled back: every failure of issuance leaves a row (issue 5)."""
    req = CertificateRequest.objects.filter(pk=request_id).first()
    if req is None:
        return
    if isinstance(exc, PermissionDenied):
        code, message = "permission", "صدور این درخواست در اختیار کارشناسان دفتر ثبت‌نام آن است."
    elif isinstance(exc, InvalidTransition):
        code, message = "state", exc.message
    else:
        code, message = exc.code, exc.message
    audit.record(actor=actor, target=req, event="issuance.refused", old=req.status, new=req.status, reason=message,
                 ctx=ctx, extra={"request": req.reference, "code": code, "new_token": new_token})


# What the clerk reads for each failure; the English detail goes to the audit entry and the log.
_TOKEN_MESSAGES = {
    WrongPin: ("wrong_pin", "رمز (PIN) توکن نادرست است؛ متقاضی رمز را دوباره وارد کند. "
                            "(پس از چند بار ورود نادرست، توکن قفل می‌شود.)"),
    PinLocked: ("pin_locked", "رمز توکن به دلیل ورود نادرست مکرر قفل شده است؛ توکن باید با رمز مدیر (SO PIN) "
                              "باز شود یا توکن دیگری به کار رود."),
    TokenNotFound: ("no_token", "توکن انتخاب‌شده پیدا نشد؛ اتصال توکن را بررسی کنید و فهرست توکن‌ها را تازه کنید."),
    TokenRemoved: ("token_removed", "ارتباط با توکن قطع شد (توکن جدا شد)؛ توکن را دوباره وصل کنید و از نو تلاش کنید."),
}


def _failure(exc: Exception, phase: str) -> tuple[str, str]:
    """(code, Persian message) for an exception raised in ``phase``."""
    if isinstance(exc, DeskError):
        return exc.code, exc.message
    if phase == "ca":
        if isinstance(exc, LintError):
            return "lint", ("گواهی در بررسی پیش از صدور (pkilint) خطا داشت و مرکز صدور آن را امضا نکرد؛ "
                            "هیچ گواهی‌ای صادر نشد. موضوع را به مدیر سامانه گزارش کنید.")
        if isinstance(exc, TokenError):
            return "hsm", ("امضای گواهی روی HSM مرکز صدور ممکن نشد (HSM در دسترس نیست)؛ "
                           "هیچ گواهی‌ای صادر نشد. کمی بعد دوباره تلاش کنید.")
        if isinstance(exc, IssuanceError | ca_services.CAError):
            return "ca_refused", "مرکز صدور درخواست گواهی را نپذیرفت؛ هیچ گواهی‌ای صادر نشد."
    if phase == "reinit" and isinstance(exc, WrongPin | PinLocked):
        if isinstance(exc, PinLocked):
            return "so_pin_locked", "رمز مدیر (SO PIN) این توکن قفل شده است؛ توکن پاک نشد. توکن را به فروشنده برگردانید."
        return "wrong_so_pin", ("رمز مدیر (SO PIN) توکن نادرست است؛ توکن پاک نشد و چیزی روی آن تغییر نکرد. "
                                "رمز پیش‌فرض سازنده را از برگهٔ همراه توکن وارد کنید.")
    if isinstance(exc, TokenError):
        for cls, (code, message) in _TOKEN_MESSAGES.items():
            if isinstance(exc, cls):
                return code, message
        if phase == "write":
            return "write_failed", ("نوشتن گواهی روی توکن ممکن نشد؛ گواهی صادرشده همان لحظه ابطال و کلید از توکن "
                                    "پاک شد. دوباره تلاش کنید.")
        return "token", exc.message_fa
    if phase == "write":
        return "write_failed", ("نوشتن گواهی روی توکن ممکن نشد؛ گواهی صادرشده همان لحظه ابطال و کلید از توکن "
                                "پاک شد. دوباره تلاش کنید.")
    return "unexpected", "صدور به دلیل خطای پیش‌بینی‌نشده انجام نشد؛ چیزی روی توکن یا در مرکز صدور باقی نماند."


def _delete_key(token, key_id: bytes | None) -> dict:
    """Remove the key a failed issuance generated (and anything written beside it)."""
    if token is None or key_id is None:
        return {}
    try:
        return {"token_objects_deleted": token.delete_key(key_id)}
    except TokenError as exc:
        log.warning("issuance clean-up: could not delete key %s: %s", key_id.hex(), exc)
        return {"key_delete_failed": key_id.hex()}


def _revoke_unrecorded(serial: str, actor) -> dict:
    """A certificate the CA signed for an attempt that did not finish: revoke it at once."""
    try:
        with transaction.atomic():
            ca_services.certificate_revoke(serial=serial, reason=Reason.CESSATION_OF_OPERATION, actor=actor)
        return {"ca_revoked": serial}
    except Exception:  # the CA's database is unreachable too: the operator must see it
        log.exception("issuance clean-up: could not revoke %s at the CA", serial)
        return {"ca_revoke_failed": serial}


def _update_attempt(attempt: IssuanceAttempt, **fields) -> None:
    """Progress notes on the attempt (not its status)."""
    for name, value in fields.items():
        setattr(attempt, name, value)
    IssuanceAttempt.objects.filter(pk=attempt.pk).update(**fields)


# --- the CA's part, on the signing queue ---------------------------------------------------------------


def ca_sign_for_attempt(*, attempt_id: int) -> None:
    """The signing worker's part (``ramis.desk.tasks.ca_sign``): claim the attempt, have the CA
    issue from its CSR with the request's subject, and record the outcome on the attempt. An
    attempt the office has already given up is left alone; a certificate signed after the office
    gave up is revoked at once."""
    with transaction.atomic():
        attempt = IssuanceAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status != IssuanceAttempt.Status.STARTED:
            return
        attempt.claim()
        attempt.save()
    ca_sign_claimed(attempt_id=attempt_id)


def ca_sign_claimed(*, attempt_id: int) -> None:
    attempt = IssuanceAttempt.objects.select_related("request", "request__applicant", "request__role",
                                                     "request__role__company", "clerk").get(pk=attempt_id)
    req = attempt.request
    try:
        issued = ca_services.certificate_issue(
            profile=req.cert_type, csr_pem=attempt.csr_pem, subject=selectors.certificate_subject(req),
            actor=attempt.clerk, request_ref=_request_ref(req, attempt), validity_days=365 * req.validity_years,
        )
    except Exception as exc:
        code, message = _failure(exc, "ca")
        if code == "unexpected":
            log.exception("CA issuance for %s failed", req.reference)
        with transaction.atomic():
            attempt = IssuanceAttempt.objects.select_for_update().get(pk=attempt_id)
            if attempt.status == IssuanceAttempt.Status.SIGNING:
                attempt.refuse(code=code, error=f"ca: {exc}", message=message)
                attempt.save()
        return
    if settings.OFFICE_SIGNING_DRILL_DELAY_SECONDS:  # fault drills only: a window to kill the worker in
        time.sleep(settings.OFFICE_SIGNING_DRILL_DELAY_SECONDS)
    with transaction.atomic():
        attempt = IssuanceAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status == IssuanceAttempt.Status.SIGNING:
            attempt.sign(certificate_serial=issued.serial_hex)
            attempt.save()
            return
    cleanup = _revoke_unrecorded(issued.serial_hex, attempt.clerk)
    audit.record(actor=attempt.clerk, target=attempt, event="issuance.late_certificate_revoked",
                 old=attempt.status, new=attempt.status,
                 extra={"request": req.reference, "serial": issued.serial_hex, "cleanup": cleanup})


def _wait_for_ca(attempt: IssuanceAttempt) -> IssuanceAttempt:
    """Queue the CA's part and wait for its outcome (eager in the embedded setup: already there)."""
    from . import tasks

    tasks.ca_sign.delay(attempt.pk)
    deadline = time.monotonic() + settings.OFFICE_SIGNING_TIMEOUT_SECONDS
    while True:
        attempt = IssuanceAttempt.objects.get(pk=attempt.pk)
        if attempt.status == IssuanceAttempt.Status.SIGNED:
            return attempt
        if attempt.status == IssuanceAttempt.Status.CA_REFUSED:
            raise DeskError(attempt.error_message or "مرکز صدور درخواست گواهی را نپذیرفت.", attempt.error_code)
        if time.monotonic() >= deadline:
            raise DeskError("مرکز صدور در زمان مقرر پاسخ نداد (صف امضا)؛ هیچ گواهی‌ای معتبر نماند. "
                            "کمی بعد دوباره تلاش کنید.", "ca_timeout")
        time.sleep(0.2)


def _fail_attempt(attempt: IssuanceAttempt, *, code: str, message: str, error: str, phase: str, cleanup: dict,
                  actor, ctx=None) -> None:
    """End the attempt as failed (whatever the signing worker did meanwhile), revoking a
    certificate it signed and nobody recorded."""
    recorded = None
    with transaction.atomic():
        attempt = (IssuanceAttempt.objects.select_for_update(of=("self",)).select_related("request", "workstation")
                   .get(pk=attempt.pk))
        if attempt.certificate_serial:
            recorded = Certificate.objects.filter(serial=attempt.certificate_serial).exists()
            if not recorded:
                cleanup.update(_revoke_unrecorded(attempt.certificate_serial, actor))
        # the signing worker died between the CA's signature and noting it: revoke that one too
        recorded_serials = set(Certificate.objects.filter(request=attempt.request).values_list("serial", flat=True))
        for serial in (IssuedCertificate.objects.active().filter(request_ref=_request_ref(attempt.request, attempt))
                       .exclude(serial_hex__in=recorded_serials).exclude(serial_hex=attempt.certificate_serial)
                       .values_list("serial_hex", flat=True)):
            cleanup.update(_revoke_unrecorded(serial, actor))
        old = attempt.status
        attempt.fail(code=code, error=f"{phase}: {error}", cleanup=cleanup)
        attempt.save()
        audit.record(actor=actor, target=attempt, event="issuance.failed", old=old, new=attempt.status,
                     reason=message, ctx=ctx, extra={
                         "request": attempt.request.reference, "code": code, "phase": phase,
                         "detail": error[:500], "cleanup": cleanup, "workstation": _station(attempt.workstation),
                     })


def _refuse_system_token(info) -> None:
    """Never open a token the system itself uses (a CA's, the TSA's, the audit anchor's) for a
    holder, whatever was posted: the CA room's rule, the one the issue page lists by."""
    if ca_selectors.is_system_token(info):
        raise DeskError(NOT_FOR_HOLDERS, "system_token")


@sensitive_variables("pin", "so_pin")
def request_issue_on_token(*, request_id: int, actor, pin: str, token_serial: str = "", new_token: bool = False,
                           workstation_id: int | None = None, reinit_serial: str = "", so_pin: str = "",
                           ctx=None) -> Certificate:
    """Issue the request's certificate onto the applicant's token, at the office, in the clerk's
    session, at the workstation ``workstation_id`` (an active one of the request's office; none
    for the in-process backend): open (or initialise) the token with the applicant's PIN,
    generate the key pair on it, sign the CSR with it, have the CA issue from that CSR with the
    request's subject (on the signing queue), write the certificate beside the key, record it.

    ``reinit_serial`` (a bought token only): that token arrived initialised by its vendor; it is
    wiped and re-initialised with ``so_pin`` (the vendor's SO PIN, typed by the clerk), gets the
    applicant's PIN and then the office's SO PIN. A wrong ``so_pin`` changes nothing. The PINs
    are used and forgotten.

    Raises :class:`DeskError` (Persian message) on any failure, after undoing what was done."""
    new_token = new_token or bool(reinit_serial)
    try:
        req, attempt = _issuance_start(request_id=request_id, actor=actor, new_token=new_token,
                                       token_serial=token_serial, pin_length=len(pin or ""),
                                       workstation_id=workstation_id, reinit_serial=reinit_serial,
                                       so_pin_given=bool(so_pin), ctx=ctx)
    except (DeskError, InvalidTransition, PermissionDenied) as exc:
        _audit_refusal(request_id=request_id, actor=actor, exc=exc, new_token=new_token, ctx=ctx)
        raise
    backend = workstation.get_backend(req.office, attempt.workstation)
    token = key_id = None
    phase = "token"
    # Labels unique on the token whatever the database says (a token outlives a reset database).
    suffix = secrets.token_hex(3)
    label = f"ramis-{req.cert_type}-{req.reference}-{suffix}"
    try:
        if reinit_serial:
            phase = "reinit"
            old = backend.info(serial=reinit_serial)
            _refuse_system_token(old)  # by its label too, before anything on it is wiped
            info = backend.init_token(label=f"RAMIS-{req.applicant.national_code}-{suffix}", user_pin=pin,
                                      serial=reinit_serial, current_so_pin=so_pin)
            audit.record(actor=actor, target=attempt, event="issuance.token_reinitialised", old=attempt.status,
                         new=attempt.status, ctx=ctx, extra={
                             "request": req.reference, "token_serial": info.serial, "old_label": old.label,
                             "new_label": info.label, "so_pin": "office", "workstation": _station(attempt.workstation)})
            token_serial, phase = info.serial, "token"
        elif new_token:
            info = backend.init_token(label=f"RAMIS-{req.applicant.national_code}-{suffix}", user_pin=pin)
            token_serial = info.serial
        info = backend.info(serial=token_serial)
        _refuse_system_token(info)
        _update_attempt(attempt, token_serial=info.serial, token_label=info.label[:32],
                        token_model=f"{info.manufacturer} {info.model}".strip()[:100])
        if info.pin_locked:
            raise PinLocked(f"PIN locked on token {info.label!r}")
        token = backend.open(serial=info.serial, pin=pin)
        phase = "keygen"
        key = token.generate_keypair(attempt.key_type, label=label)
        key_id = key.key_id
        _update_attempt(attempt, key_id=key_id.hex())
        phase = "csr"
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, req.reference)]))
               .sign(key, hashes.SHA256()))
        _update_attempt(attempt, csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode())
        phase = "ca"
        attempt = _wait_for_ca(attempt)
        issued = IssuedCertificate.objects.get(serial_hex=attempt.certificate_serial)
        phase = "write"
        cert = x509.load_der_x509_certificate(bytes(issued.der))
        token.import_certificate(cert, key_id, label)
        if token.certificate(key_id) != cert:
            raise TokenError("the certificate read back from the token differs from the one written")
        phase = "record"
        replaced = list(Certificate.objects.replaced_by(req, token.serial).values_list("serial", flat=True))
        with transaction.atomic():
            certificate = request_services.request_mark_issued(
                request_id=req.pk, actor=actor, serial=issued.serial_hex, not_before=issued.not_before,
                not_after=issued.not_after, subject_cn=cert.subject.rfc4514_string()[:200],
                token_serial=token.serial, ctx=ctx,
            )
            attempt = IssuanceAttempt.objects.select_for_update().get(pk=attempt.pk)
            old = attempt.status
            attempt.succeed()
            attempt.save()
            audit.record(actor=actor, target=attempt, event="issuance.completed", old=old, new=attempt.status,
                         ctx=ctx, extra={"request": req.reference, "serial": issued.serial_hex,
                                                 "token_serial": token.serial, "key_id": key_id.hex(),
                                                 "sha256": issued.sha256,
                                                 "workstation": _station(attempt.workstation)})
    except Exception as exc:
        code, message = _failure(exc, phase)
        if code == "unexpected":
            log.exception("issuance of %s failed in phase %s", req.reference, phase)
        cleanup = _delete_key(token, key_id)
        _fail_attempt(attempt, code=code, message=message, error=str(exc), phase=phase, cleanup=cleanup,
                      actor=actor, ctx=ctx)
        raise DeskError(message, code) from exc
    else:
        _remove_superseded(token, attempt, replaced, keep=key_id, actor=actor, ctx=ctx)
        return certificate
    finally:
        if token is not None:
            backend.close(token)


def _remove_superseded(token, attempt: IssuanceAttempt, serials: list[str], *, keep: bytes, actor,
                       ctx=None) -> None:
    """Delete from the token the key pairs and certificates that the new certificate superseded.

    Runs only once the new certificate is written, read back and recorded (so a failure before
    leaves the old key and certificate usable on the token). A failure here changes nothing
    recorded: the old certificate is superseded either way; what stayed is audited."""
    superseded = set(Certificate.objects.filter(serial__in=serials, status=Certificate.Status.SUPERSEDED)
                     .values_list("serial", flat=True))
    if not superseded:
        return
    outcome: dict = {"serials": sorted(superseded)}
    try:
        ids = {bytes.fromhex(o.id) for o in token.objects() if o.object_class == "certificate" and o.serial in superseded}
        ids.discard(keep)
        outcome["token_objects_deleted"] = sum(token.delete_key(key_id) for key_id in sorted(ids))
    except TokenError as exc:
        log.warning("issuance: could not remove superseded keys from token %s: %s", token.serial, exc)
        outcome["remove_failed"] = str(exc)[:500]
    audit.record(actor=actor, target=attempt, event="issuance.superseded_removed", old=attempt.status,
                 new=attempt.status, ctx=ctx, extra={"request": attempt.request.reference,
                                                             "token_serial": token.serial, **outcome})


# --- handover (R13, R14) ------------------------------------------------------------------------------


@transaction.atomic
def handover_record(*, request_id: int, actor, sheet=None, ctx=None) -> Handover:
    """Record that the issued certificate and its token were handed over now, by ``actor``, to the
    person whose identity check the issuance used (the owner or their attorney); ``sheet`` is the
    optional scan of the handover sheet they signed (checked by content). Once per certificate."""
    req = _lock_request(request_id)
    _require_clerk(req, actor)
    if req.status != Status.ISSUED:
        raise InvalidTransition(req, "hand_over", "تحویل فقط برای درخواستی ثبت می‌شود که گواهی آن صادر شده است.")
    certificate = Certificate.objects.filter(request=req).first()
    if certificate is None:
        raise DeskError("گواهی این درخواست یافت نشد.", "no_certificate")
    if Handover.objects.filter(certificate=certificate).exists():
        raise DeskError("تحویل این گواهی پیش‌تر ثبت شده است.", "handed_over")
    attempt = (req.issuance_attempts.filter(certificate_serial=certificate.serial)
               .select_related("identity_check").first())
    check = attempt.identity_check if attempt else selectors.latest_identity_check(req)
    attorney = check is not None and check.presenter == IdentityCheck.Presenter.ATTORNEY
    handover = Handover(request=req, certificate=certificate, handed_over_by=actor, handed_over_at=timezone.now(),
                        recipient=IdentityCheck.Presenter.ATTORNEY if attorney else IdentityCheck.Presenter.OWNER,
                        recipient_name=check.attorney_name if attorney else req.applicant.full_name)
    if sheet is not None:
        try:
            handover.sheet_kind = validate_upload(sheet)
        except ValidationError as exc:
            raise DeskError(exc.messages[0], "sheet") from None
        handover.sheet_file.save(f"handover.{handover.sheet_kind}", sheet, save=False)
    handover.save()
    audit.record(actor=actor, target=req, event="request.handed_over", old=req.status, new=req.status,
                 ctx=ctx, extra={"handover": handover.pk, "serial": certificate.serial,
                                         "recipient": handover.recipient, "recipient_name": handover.recipient_name,
                                         "identity_check": check.pk if check else None,
                                         "sheet_kind": handover.sheet_kind or None})
    return handover


# --- office revocation (R19) --------------------------------------------------------------------------


@transaction.atomic
def certificate_revoke_by_office(*, certificate_id: int, actor, reason: str, form_upload, note: str = "",
                                 ctx=None) -> OfficeRevocation:
    """The office revokes a certificate it issued, with the holder's signed revocation form; the
    CA's CRL and OCSP answers are refreshed right after commit (R19)."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
    if not is_clerk_of(actor, certificate.office_id):
        raise PermissionDenied
    if reason not in RevocationReason.values:
        raise DeskError("دلیل ابطال نامعتبر است.")
    if form_upload is None:
        raise DeskError("فرم ابطال امضاشده را بارگذاری کنید.")
    kind = validate_upload(form_upload)
    request_services.certificate_revoke(certificate_id=certificate.pk, actor=actor, reason=reason, note=note,
                                        ctx=ctx)
    revocation = OfficeRevocation(certificate=certificate, reason=reason, note=note.strip(), form_kind=kind,
                                  revoked_by=actor)
    revocation.form_file.save(f"revocation.{kind}", form_upload, save=False)
    revocation.save()
    audit.record(actor=actor, target=revocation, event="certificate.office_revoked", new=certificate.status,
                 reason=note, ctx=ctx, extra={"serial": certificate.serial, "reason": reason,
                                                      "form_kind": kind})
    return revocation
