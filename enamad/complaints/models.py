"""e-Namad complaints about a sealed shop (N23)."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMModelMixin, transition

from enamad.businesses.models import Business
from ramis.common.fsm import StateField
from ramis.common.uploads import private_upload_to


def random_tracking_code() -> str:
    return "C-" + "".join(secrets.choice(string.digits) for _ in range(10))

# --- Complaints (N23) -------------------------------------------------------------------------


class ComplaintType(models.TextChoices):
    NON_DELIVERY = "non_delivery", "عدم تحویل کالا یا خدمت"
    NO_REFUND = "no_refund", "عدم استرداد وجه پس از انصراف از خرید"
    DEFECT = "defect", "معیوب بودن یا مغایرت کالا با مشخصات"
    DELAY = "delay", "تأخیر در ارسال یا تحویل"
    NEW_CHARGES = "new_charges", "دریافت هزینه جدید پس از فروش"
    AFTER_SALES = "after_sales", "عدم ارائه خدمات پس از فروش"
    NO_INVOICE = "no_invoice", "عدم ارائه فاکتور"


class ComplaintStatus(models.TextChoices):
    AWAITING_ANSWER = "awaiting_answer", "در انتظار پاسخ فروشنده"
    ANSWERED = "answered", "پاسخ فروشنده ثبت شد"
    OVERDUE = "overdue", "بی‌پاسخ در مهلت — ارجاع به کارشناس"
    UPHELD = "upheld", "وارد دانسته شد"
    DISMISSED = "dismissed", "رد شد"


OPEN_COMPLAINT_STATES = (ComplaintStatus.AWAITING_ANSWER, ComplaintStatus.ANSWERED, ComplaintStatus.OVERDUE)
DECIDABLE_STATES = list(OPEN_COMPLAINT_STATES)


class ComplaintQuerySet(models.QuerySet):
    def open(self) -> ComplaintQuerySet:
        return self.filter(status__in=OPEN_COMPLAINT_STATES)

    def past_deadline(self, now=None) -> ComplaintQuerySet:
        return self.filter(status=ComplaintStatus.AWAITING_ANSWER, answer_due_at__lte=now or timezone.now())


class Complaint(FSMModelMixin, models.Model):
    """A buyer's complaint about a seal holder (N23), filed from the public seal page."""

    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="complaints")
    tracking_code = models.CharField("کد پیگیری", max_length=14, unique=True, default=random_tracking_code)
    complaint_type = models.CharField("نوع شکایت", max_length=20, choices=ComplaintType.choices)
    payment_reference = models.CharField("شماره پیگیری پرداخت", max_length=40)
    description = models.TextField("شرح شکایت")
    contact_name = models.CharField("نام و نام خانوادگی", max_length=120)
    contact_mobile = models.CharField("تلفن همراه", max_length=11)
    contact_email = models.EmailField("رایانامه", blank=True)
    status = StateField("وضعیت", max_length=20, choices=ComplaintStatus.choices,
                      default=ComplaintStatus.AWAITING_ANSWER, protected=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    answer_due_at = models.DateTimeField("مهلت پاسخ", db_index=True)
    flagged_at = models.DateTimeField("ارجاع به کارشناس", null=True, blank=True)
    answer = models.TextField("پاسخ فروشنده", blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("نظر کارشناس", blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    seal_suspended = models.BooleanField("نماد به سبب این شکایت تعلیق شد", default=False)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "شکایت"
        verbose_name_plural = "شکایت‌ها"
        permissions = [("handle_complaint", "رسیدگی به شکایت‌ها (وارد/رد، تعلیق نماد)")]

    def __str__(self) -> str:
        return f"{self.tracking_code} — {self.business_id}"

    @property
    def answered_late(self) -> bool:
        return bool(self.answered_at and self.answered_at > self.answer_due_at)

    # --- transitions ---------------------------------------------------------------------------
    @transition(field=status, source=[ComplaintStatus.AWAITING_ANSWER, ComplaintStatus.OVERDUE],
                target=ComplaintStatus.ANSWERED)
    def record_answer(self, text: str):
        self.answer = text
        self.answered_at = timezone.now()

    @transition(field=status, source=ComplaintStatus.AWAITING_ANSWER, target=ComplaintStatus.OVERDUE)
    def flag(self):
        self.flagged_at = timezone.now()

    @transition(field=status, source=DECIDABLE_STATES, target=ComplaintStatus.UPHELD,
                permission="enamad.handle_complaint")
    def uphold(self, note: str):
        self.decision_note = note
        self.decided_at = timezone.now()

    @transition(field=status, source=DECIDABLE_STATES, target=ComplaintStatus.DISMISSED,
                permission="enamad.handle_complaint")
    def dismiss(self, note: str):
        self.decision_note = note
        self.decided_at = timezone.now()


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    from_holder = models.BooleanField("پیوست پاسخ فروشنده", default=False)
    file = models.FileField(upload_to=private_upload_to("enamad/complaints"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "پیوست شکایت"
        verbose_name_plural = "پیوست‌های شکایت"

    def __str__(self) -> str:
        return f"attachment {self.pk} of {self.complaint_id}"
