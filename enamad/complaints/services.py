"""The one write path for complaints about a sealed shop (N23)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from certauth.models import User
from enamad.businesses.transitions import business_transition, lock_business
from enamad.common import absolute_url
from enamad.complaints.models import Complaint, ComplaintAttachment, ComplaintStatus
from enamad.seals.models import Seal
from enamad.seals.services import forget_seal, take_over_monitor_suspension
from enamad.support.services import MAX_TICKET_ATTACHMENTS
from ramis.common import audit, notify
from ramis.common.transitions import lock, transition
from ramis.common.uploads import validate_upload

# --- complaints (N23) --------------------------------------------------------------------------


def _complaint_status_url(complaint: Complaint) -> str:
    return absolute_url(reverse("seal:complaint_status") + f"?code={complaint.tracking_code}")


def _notify_complainant(complaint: Complaint, *, event: str) -> None:
    context = {"complaint": complaint, "business": complaint.business, "event": event,
               "url": _complaint_status_url(complaint)}
    notify.send_sms(to=complaint.contact_mobile, template="enamad_complaint_buyer", context=context)
    if complaint.contact_email:
        notify.send_email(to=complaint.contact_email, template="enamad_complaint_buyer", context=context)


def _notify_holder_of_complaint(complaint: Complaint, *, event: str) -> None:
    business = complaint.business
    context = {"complaint": complaint, "business": business, "event": event,
               "hours": settings.ENAMAD_COMPLAINT_ANSWER_HOURS,
               "url": absolute_url(reverse("enamad:complaint", args=[complaint.pk]))}
    notify.send_sms(to=business.account.mobile, template="enamad_complaint_holder", context=context)
    if business.account.user.email:
        notify.send_email(to=business.account.user.email, template="enamad_complaint_holder", context=context)


def _lock_complaint(complaint_id: int) -> Complaint:
    return lock(Complaint.objects.select_related("business__account__user"), pk=complaint_id)


def _save_complaint_files(complaint: Complaint, uploads, *, from_holder: bool) -> None:
    for upload in uploads or []:
        validate_upload(upload)
        attachment = ComplaintAttachment(complaint=complaint, from_holder=from_holder)
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()


@transaction.atomic
def complaint_file(*, seal_id: int, data: dict, attachments=None, ctx=None) -> Complaint:
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
                 extra={"type": complaint.complaint_type, "seal": seal.number}, ctx=ctx)
    _notify_holder_of_complaint(complaint, event="filed")
    _notify_complainant(complaint, event="filed")
    return complaint


@transaction.atomic
def complaint_answer(*, complaint_id: int, actor, text: str, attachments=None, ctx=None) -> Complaint:
    complaint = _lock_complaint(complaint_id)
    if complaint.business.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if not (text or "").strip():
        raise ValidationError("متن پاسخ الزامی است.", code="required")
    old = transition(complaint, "record_answer", actor=actor, args=(text.strip(),), save=True,
                     message="به این شکایت پیش‌تر پاسخ داده شده یا رسیدگی آن پایان یافته است.")
    _save_complaint_files(complaint, attachments, from_holder=True)
    # The entry says whether the answer came late, which the step itself decides (its time).
    audit.record(actor=actor, target=complaint, event="enamad.complaint.answered", old=old, new=complaint.status,
                 extra={"late": complaint.answered_late}, ctx=ctx)
    _notify_complainant(complaint, event="answered")
    return complaint


def _complaint_experts_emails() -> list[str]:
    experts = User.objects.with_perm("enamad.handle_complaint", is_active=True, include_superusers=False,
                                     backend="django.contrib.auth.backends.ModelBackend")
    return sorted({user.email for user in experts if user.email})


@transaction.atomic
def complaint_flag(*, complaint_id: int) -> bool:
    """No answer within the deadline: the complaint goes to the experts' list (N23)."""
    complaint = _lock_complaint(complaint_id)
    if complaint.status != ComplaintStatus.AWAITING_ANSWER or complaint.answer_due_at > timezone.now():
        return False
    transition(complaint, "flag", actor=None, check_perm=False, save=True, event="enamad.complaint.flagged")
    _notify_holder_of_complaint(complaint, event="overdue")
    context = {"complaint": complaint, "business": complaint.business,
               "url": absolute_url(reverse("enamad:staff_complaint", args=[complaint.pk]))}
    for email in _complaint_experts_emails():
        notify.send_email(to=email, template="enamad_complaint_overdue", context=context)
    return True


def complaints_flag_overdue(limit: int = 500) -> int:
    """Beat: flag complaints whose answer is overdue."""
    ids = list(Complaint.objects.past_deadline().order_by("answer_due_at").values_list("pk", flat=True)[:limit])
    return sum(1 for complaint_id in ids if complaint_flag(complaint_id=complaint_id))


@transaction.atomic
def complaint_decide(*, complaint_id: int, actor, upheld: bool, note: str, suspend_seal: bool = False,
                     ctx=None) -> Complaint:
    """The expert's decision (N23): uphold or dismiss; an upheld complaint may suspend the seal."""
    if not (note or "").strip():
        raise ValidationError("نظر کارشناس را بنویسید.", code="note")
    if suspend_seal and not upheld:
        raise ValidationError("تعلیق نماد فقط با وارد دانستن شکایت ممکن است.", code="suspend")
    note = note.strip()
    complaint = _lock_complaint(complaint_id)
    transition(complaint, "uphold" if upheld else "dismiss", actor=actor, args=(note,),
               message="رسیدگی به این شکایت پیش‌تر پایان یافته است.",
               fields={"decided_by": actor, "seal_suspended": suspend_seal}, save=True,
               event=f"enamad.complaint.{'upheld' if upheld else 'dismissed'}", reason=note,
               extra={"seal_suspended": suspend_seal}, ctx=ctx)
    if suspend_seal:
        business = lock_business(complaint.business_id)
        reason = f"شکایت {complaint.tracking_code}: {note}"
        extra = {"complaint": complaint.tracking_code}
        if not take_over_monitor_suspension(business, actor=actor, reason=reason, ctx=ctx, extra=extra):
            business_transition(business, "suspend", actor=actor, event="enamad.seal.suspended", reason=reason,
                                args=(note,), extra=extra, ctx=ctx, message="نماد در وضعیت فعلی قابل تعلیق نیست.")
        forget_seal(Seal.objects.filter(business=business).first())
    _notify_complainant(complaint, event="decided")
    _notify_holder_of_complaint(complaint, event="decided")
    return complaint
