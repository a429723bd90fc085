"""The one write path for support tickets and the change requests they carry (N19, N20)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from enamad.accounts.models import Account, DocumentKind, IdentityDocument, Persona
from enamad.businesses.models import CONTACT_VERIFICATION, Business, BusinessStatus
from enamad.businesses.transitions import lock_business
from enamad.common import absolute_url
from enamad.seals.models import Seal
from enamad.seals.services import forget_seal
from enamad.support.models import (
    CHANGE_CATEGORIES,
    AttachmentKind,
    ChangeStatus,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatus,
    ticket_idle_cutoff,
)
from ramis.common import audit, notify
from ramis.common.errors import InvalidTransition
from ramis.common.transitions import lock, transition
from ramis.common.uploads import validate_upload

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


def _lock_ticket(ticket_id: int) -> Ticket:
    return lock(Ticket.objects.select_related("account__user", "person"), of=("self",), pk=ticket_id)


def _lock_own_ticket(ticket_id: int, actor) -> Ticket:
    ticket = _lock_ticket(ticket_id)
    if ticket.holder_user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    return ticket


def holder_ticket_url(ticket: Ticket) -> str:
    """The ticket's page for its holder: in the RAMIS panel for an applicant, else in e-Namad's."""
    name = "applicant_support:ticket" if ticket.from_ramis else "enamad:ticket"
    return absolute_url(reverse(name, args=[ticket.pk]))


def _tell_holder(ticket: Ticket, *, template: str, context: dict) -> None:
    context = {**context, "ticket": ticket, "url": holder_ticket_url(ticket), "ramis": ticket.from_ramis}
    notify.send_sms(to=ticket.holder_mobile, template=template, context=context)
    if ticket.holder_email:
        notify.send_email(to=ticket.holder_email, template=template, context=context)


@transaction.atomic
def ticket_open(*, account_id: int, actor, category: str, subject: str, body: str,
                attachments: list[tuple[str, object]], business_id: int | None = None,
                change_data: dict | None = None, ctx=None) -> Ticket:
    """A new ticket (N19): subject, category, message and attachments are all required. A change
    request (N20) also carries the new values and exactly the documents that change needs;
    nothing is applied until staff approve it (``ticket_approve_change``)."""
    account = lock(Account, pk=account_id)
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
                 ctx=ctx)
    return ticket


# What a RAMIS applicant may ask e-Namad's support (no change requests: those are e-Namad's).
APPLICANT_CATEGORIES = (TicketCategory.GENERAL, TicketCategory.TECHNICAL)


@transaction.atomic
def ticket_open_for_applicant(*, person_id: int, actor, category: str, subject: str, body: str,
                              attachments: list[tuple[str, object]] | None = None, ctx=None) -> Ticket:
    """A RAMIS applicant (the SMS-code user) opens a ticket from the RAMIS panel: the same
    ticket, thread and staff desk as an e-Namad account's; attachments are optional."""
    from ramis.registry.models import Person

    person = lock(Person, pk=person_id)
    if person.user_id is None or person.user_id != actor.pk:
        raise PermissionDenied
    if category not in APPLICANT_CATEGORIES:
        raise ValidationError("دسته تیکت معتبر نیست.", code="category")
    if not (subject or "").strip() or not (body or "").strip():
        raise ValidationError("موضوع و متن پیام الزامی است.", code="required")
    attachments = list(attachments or [])
    if len(attachments) > MAX_TICKET_ATTACHMENTS:
        raise ValidationError(f"حداکثر {MAX_TICKET_ATTACHMENTS} پیوست.", code="attachments")
    ticket = Ticket.objects.create(person=person, category=category, subject=subject.strip())
    message = TicketMessage.objects.create(ticket=ticket, author=actor, body=body.strip())
    _save_attachments(message, attachments)
    audit.record(actor=actor, target=ticket, event="enamad.ticket.opened", new=ticket.status,
                 extra={"category": category, "from": "ramis"}, ctx=ctx)
    return ticket


@transaction.atomic
def ticket_follow_up(*, ticket_id: int, actor, body: str, attachments: list[tuple[str, object]] | None = None,
                     ctx=None) -> TicketMessage:
    """The holder writes again: the ticket is open (waiting for staff) again. A ticket the idle
    task closed reopens when the holder writes within ``ENAMAD_TICKET_CLOSE_DAYS`` of it."""
    ticket = _lock_own_ticket(ticket_id, actor)
    if not (body or "").strip():
        raise ValidationError("متن پیام الزامی است.", code="required")
    name, event = "follow_up", "enamad.ticket.followed_up"
    if ticket.status == TicketStatus.CLOSED:
        name, event = "reopen", "enamad.ticket.reopened"
    transition(ticket, name, actor=actor, message="این تیکت بسته شده است؛ تیکت تازه‌ای بفرستید.", save=True,
               event=event, ctx=ctx)
    message = TicketMessage.objects.create(ticket=ticket, author=actor, body=body.strip())
    _save_attachments(message, attachments or [])
    return message


def _staff_message(ticket: Ticket, actor, body: str, *, event: str, ctx=None, attachments=None,
                   extra: dict | None = None) -> TicketMessage:
    """Staff answer (inside the caller's transaction): status answered, the holder told by SMS
    and e-mail."""
    transition(ticket, "answer", actor=actor, message="این تیکت بسته شده است.", save=True, event=event,
               extra=extra, ctx=ctx)
    message = TicketMessage.objects.create(ticket=ticket, author=actor, from_staff=True, body=body.strip())
    _save_attachments(message, attachments or [])
    _tell_holder(ticket, template="enamad_ticket_answered", context={"body": message.body})
    return message


@transaction.atomic
def ticket_answer(*, ticket_id: int, actor, body: str, attachments: list[tuple[str, object]] | None = None,
                  ctx=None) -> TicketMessage:
    ticket = _lock_ticket(ticket_id)
    if not (body or "").strip():
        raise ValidationError("متن پاسخ الزامی است.", code="required")
    return _staff_message(ticket, actor, body, event="enamad.ticket.answered", ctx=ctx,
                          attachments=attachments)


@transaction.atomic
def ticket_close(*, ticket_id: int, actor, ctx=None) -> Ticket:
    """The holder, or staff who answer tickets, close it."""
    ticket = _lock_ticket(ticket_id)
    by_holder = ticket.holder_user_id == actor.pk
    if not by_holder and not actor.has_perm("enamad.answer_ticket"):
        raise PermissionDenied
    # Staff decide a pending change before closing; a ticket already closed hears that instead.
    if not by_holder and ticket.change_status == ChangeStatus.PENDING and ticket.status != TicketStatus.CLOSED:
        raise InvalidTransition(ticket, "close", "پیش از بستن، درباره درخواست تغییر تصمیم بگیرید.")
    transition(ticket, "close", actor=actor, message="این تیکت پیش‌تر بسته شده است.", save=True,
               event="enamad.ticket.closed", ctx=ctx)
    return ticket


@transaction.atomic
def ticket_auto_close(*, ticket_id: int) -> bool:
    """Close an answered ticket the holder has not replied to for ``ENAMAD_TICKET_CLOSE_DAYS``
    (re-checked under the row lock, so a reply that came meanwhile keeps it open), audit it and
    tell the holder until when writing reopens it."""
    ticket = _lock_ticket(ticket_id)
    days = settings.ENAMAD_TICKET_CLOSE_DAYS
    try:
        transition(ticket, "auto_close", actor=None, check_perm=False, save=True, event="enamad.ticket.closed",
                   reason=f"{days} روز بی‌پاسخ از سوی دارنده", extra={"by": "auto", "days": days})
    except InvalidTransition:  # the holder wrote meanwhile, or a change request waits for its decision
        return False
    _tell_holder(ticket, template="enamad_ticket_closed", context={"days": days})
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


def _apply_change(ticket: Ticket, actor, ctx=None) -> tuple[dict, dict]:
    """Apply an approved change to the account or the business; returns {field: [old, new]}
    and the renewal's requested values it superseded ({field: [renewal's, ticket's]})."""
    data = dict(ticket.change_data)
    diff: dict[str, list[str]] = {}
    if ticket.category in (TicketCategory.PERSONA_CHANGE, TicketCategory.IDENTITY_CHANGE):
        account = lock(Account, pk=ticket.account_id)
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
                                                                   "documents": adopted}, ctx=ctx)
        return diff, {}
    business = lock_business(ticket.business_id)
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
                 extra={"ticket": ticket.reference, "fields": diff}, ctx=ctx)
    if superseded:
        audit.record(actor=actor, target=business, event="enamad.business.renewal_changes_superseded",
                     extra={"ticket": ticket.reference, "changes": superseded}, ctx=ctx)
    forget_seal(Seal.objects.filter(business=business).first())
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


CHANGE_EVENTS = {"approve_change": "enamad.ticket.change_approved", "reject_change": "enamad.ticket.change_rejected"}


def _decide_change(ticket_id: int, name: str, *, actor, note: str, ctx=None) -> Ticket:
    """Staff with the permission approve or reject the pending change of an open ticket."""
    ticket = _lock_ticket(ticket_id)
    transition(ticket, name, actor=actor, args=(actor, note), message="درخواست تغییری در انتظار بررسی نیست.",
               save=True, event=CHANGE_EVENTS[name], reason=note, state_field="change_status", ctx=ctx)
    return ticket


@transaction.atomic
def ticket_approve_change(*, ticket_id: int, actor, note: str = "", ctx=None) -> Ticket:
    """N20: staff approve the change; only now is it applied to the account or business."""
    ticket = _decide_change(ticket_id, "approve_change", actor=actor, note=note, ctx=ctx)
    diff, superseded = _apply_change(ticket, actor, ctx)
    labels = [str(Business._meta.get_field(name).verbose_name) for name in superseded]
    body = render_to_string("enamad/words/change_approved.txt", {"note": note, "superseded": labels})
    _staff_message(ticket, actor, body, event="enamad.ticket.answered", ctx=ctx,
                   extra={"change": ticket.change_status, "fields": sorted(diff)})
    return ticket


@transaction.atomic
def ticket_reject_change(*, ticket_id: int, actor, note: str, ctx=None) -> Ticket:
    if not (note or "").strip():
        raise ValidationError("دلیل رد درخواست را بنویسید.", code="reason")
    ticket = _decide_change(ticket_id, "reject_change", actor=actor, note=note, ctx=ctx)
    _staff_message(ticket, actor, render_to_string("enamad/words/change_rejected.txt", {"note": note}),
                   event="enamad.ticket.answered", ctx=ctx, extra={"change": ticket.change_status})
    return ticket
