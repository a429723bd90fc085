"""e-Namad support: tickets and the change requests they carry (N19, N20)."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMModelMixin, transition

from enamad.accounts.models import Account, DocumentKind
from enamad.businesses.models import Business
from ramis.common.fsm import StateField
from ramis.common.uploads import private_upload_to

# --- Support tickets (N19, N20) ---------------------------------------------------------------


def random_ticket_reference() -> str:
    return "T-" + "".join(secrets.choice(string.digits) for _ in range(8))



class TicketCategory(models.TextChoices):
    GENERAL = "general", "پرسش عمومی"
    TECHNICAL = "technical", "مشکل فنی یا تأییدیه فنی"
    SEAL = "seal", "نماد، کد نماد و تمدید"
    PERSONA_CHANGE = "persona_change", "تغییر نوع شخصیت (حقیقی ↔ حقوقی)"
    IDENTITY_CHANGE = "identity_change", "تغییر اطلاعات هویتی"
    BUSINESS_CHANGE = "business_change", "تغییر اطلاعات کسب‌وکار"


# N20: these categories ask for a change that staff approve and a service applies.
CHANGE_CATEGORIES = (TicketCategory.PERSONA_CHANGE, TicketCategory.IDENTITY_CHANGE, TicketCategory.BUSINESS_CHANGE)


class TicketStatus(models.TextChoices):
    OPEN = "open", "باز (در انتظار پاسخ پشتیبانی)"
    ANSWERED = "answered", "پاسخ داده شد"
    CLOSED = "closed", "بسته"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "در انتظار بررسی"
    APPROVED = "approved", "تأیید و اعمال شد"
    REJECTED = "rejected", "رد شد"


class AttachmentKind(models.TextChoices):
    """What a ticket attachment is: one of the identity documents (a change applies them to the
    account), a document that supports a business-data change, or anything else."""

    NATIONAL_CARD = DocumentKind.NATIONAL_CARD.value, DocumentKind.NATIONAL_CARD.label
    BIRTH_CERTIFICATE = DocumentKind.BIRTH_CERTIFICATE.value, DocumentKind.BIRTH_CERTIFICATE.label
    GAZETTE = DocumentKind.GAZETTE.value, DocumentKind.GAZETTE.label
    ARTICLES = DocumentKind.ARTICLES.value, DocumentKind.ARTICLES.label
    GOVERNMENT_LETTER = DocumentKind.GOVERNMENT_LETTER.value, DocumentKind.GOVERNMENT_LETTER.label
    SUPPORTING = "supporting", "مدرک مثبت تغییر (اجاره‌نامه، پروانه کسب، آگهی تغییرات و مانند آن)"
    OTHER = "other", "پیوست"


def _asks_for_change(ticket: Ticket) -> bool:
    return ticket.category in CHANGE_CATEGORIES


def _ticket_not_closed(ticket: Ticket) -> bool:
    return ticket.status != TicketStatus.CLOSED


def ticket_idle_cutoff(now=None):
    """An answered ticket whose last message is older than this is closed automatically."""
    return (now or timezone.now()) - timedelta(days=settings.ENAMAD_TICKET_CLOSE_DAYS)


def _idle_since_answer(ticket: Ticket) -> bool:
    """No reply from the holder for ``ENAMAD_TICKET_CLOSE_DAYS`` since the answer, and no change
    request still waiting for its decision."""
    return ticket.change_status != ChangeStatus.PENDING and ticket.last_message_at <= ticket_idle_cutoff()


def _reopenable(ticket: Ticket) -> bool:
    """A ticket closed automatically reopens when the holder writes within the same period."""
    return bool(ticket.auto_closed and ticket.closed_at and ticket.closed_at > ticket_idle_cutoff())


class TicketQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> TicketQuerySet:
        return self.filter(account=account)

    def for_person(self, person) -> TicketQuerySet:
        return self.filter(person=person)

    def waiting_for_staff(self) -> TicketQuerySet:
        return self.filter(status=TicketStatus.OPEN)


class Ticket(FSMModelMixin, models.Model):
    """A support ticket of an e-Namad account, or of a RAMIS applicant (``person``, the SMS-code
    user): one room and one staff desk for both, exactly one of the two is set."""

    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="support_tickets", verbose_name="متقاضی رمیس")
    business = models.ForeignKey(Business, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets",
                                 verbose_name="کسب‌وکار")
    reference = models.CharField("شماره تیکت", max_length=12, unique=True, default=random_ticket_reference)
    subject = models.CharField("موضوع", max_length=200)
    category = models.CharField("دسته", max_length=20, choices=TicketCategory.choices)
    status = StateField("وضعیت", max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN,
                      protected=True, db_index=True)
    # N20: the change asked for (new values), its decision and when it was applied.
    # Blank for a ticket that asks for no change; moved only by the change transitions below.
    change_status = StateField("وضعیت درخواست تغییر", max_length=10, choices=ChangeStatus.choices, default="",
                             blank=True, protected=True, db_index=True)
    change_data = models.JSONField("مقادیر درخواستی", default=dict, blank=True)
    change_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    change_decided_at = models.DateTimeField(null=True, blank=True)
    change_note = models.TextField("توضیح تصمیم", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Closed by the idle-ticket task (not by the holder or staff): the holder may reopen it.
    auto_closed = models.BooleanField("بسته‌شدن خودکار", default=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at"]
        verbose_name = "تیکت پشتیبانی"
        verbose_name_plural = "تیکت‌های پشتیبانی"
        permissions = [
            ("answer_ticket", "پاسخ به تیکت‌های پشتیبانی"),
            ("approve_change", "تأیید درخواست تغییر نوع شخصیت و اطلاعات هویتی/کسب‌وکار"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(account__isnull=False, person__isnull=True)
                           | models.Q(account__isnull=True, person__isnull=False)),
                name="enamad_ticket_one_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_change(self) -> bool:
        return self.category in CHANGE_CATEGORIES

    @property
    def from_ramis(self) -> bool:
        """Opened by a RAMIS applicant from the RAMIS panel (not by an e-Namad account)."""
        return self.person_id is not None

    @property
    def holder_user_id(self) -> int | None:
        return self.person.user_id if self.from_ramis else self.account.user_id

    @property
    def holder_name(self) -> str:
        return self.person.full_name if self.from_ramis else self.account.display_name

    @property
    def holder_mobile(self) -> str:
        return self.person.mobile if self.from_ramis else self.account.mobile

    @property
    def holder_email(self) -> str:
        return self.person.email if self.from_ramis else self.account.user.email

    # --- transitions: only this row's fields (STYLE 2) -----------------------------------------
    @transition(field=status, source=[TicketStatus.OPEN, TicketStatus.ANSWERED], target=TicketStatus.ANSWERED,
                permission="enamad.answer_ticket")
    def answer(self):
        self.last_message_at = timezone.now()

    @transition(field=status, source=[TicketStatus.OPEN, TicketStatus.ANSWERED], target=TicketStatus.OPEN)
    def follow_up(self):
        self.last_message_at = timezone.now()

    @transition(field=status, source=[TicketStatus.OPEN, TicketStatus.ANSWERED], target=TicketStatus.CLOSED)
    def close(self):
        self.closed_at, self.auto_closed = timezone.now(), False

    @transition(field=status, source=TicketStatus.ANSWERED, target=TicketStatus.CLOSED,
                conditions=[_idle_since_answer])
    def auto_close(self):
        self.closed_at, self.auto_closed = timezone.now(), True

    @transition(field=status, source=TicketStatus.CLOSED, target=TicketStatus.OPEN, conditions=[_reopenable])
    def reopen(self):
        self.last_message_at, self.closed_at, self.auto_closed = timezone.now(), None, False

    @property
    def reopen_until(self):
        """Until when the holder may reopen this automatically closed ticket by writing."""
        if not (self.auto_closed and self.closed_at):
            return None
        return self.closed_at + timedelta(days=settings.ENAMAD_TICKET_CLOSE_DAYS)

    # N20: a change request is pending from the start, then approved (and applied) or rejected
    # by staff, while the ticket is not closed.
    @transition(field=change_status, source="", target=ChangeStatus.PENDING, conditions=[_asks_for_change])
    def request_change(self, data: dict):
        self.change_data = data

    @transition(field=change_status, source=ChangeStatus.PENDING, target=ChangeStatus.APPROVED,
                permission="enamad.approve_change", conditions=[_ticket_not_closed])
    def approve_change(self, by, note: str):
        self.change_decided_by, self.change_decided_at, self.change_note = by, timezone.now(), note

    @transition(field=change_status, source=ChangeStatus.PENDING, target=ChangeStatus.REJECTED,
                permission="enamad.approve_change", conditions=[_ticket_not_closed])
    def reject_change(self, by, note: str):
        self.change_decided_by, self.change_decided_at, self.change_note = by, timezone.now(), note


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_staff = models.BooleanField(default=False)
    body = models.TextField("متن")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "پیام تیکت"
        verbose_name_plural = "پیام‌های تیکت"

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.pk}"


class TicketAttachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("نوع پیوست", max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    file = models.FileField(upload_to=private_upload_to("enamad/tickets"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "پیوست تیکت"
        verbose_name_plural = "پیوست‌های تیکت"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.message_id})"
