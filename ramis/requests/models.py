"""Certificate requests (issue, renew), their documents, invoices, payments and appointments;
the certificates they produced and their revocation requests (R5–R17, R19–R21).

Every status is a ``StateField(protected=True)`` (django-fsm-2's ``FSMField``, ramis/common/fsm.py): it changes only through a transition method,
and the transition methods are called only from ``services.py``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, can_proceed, transition

from ramis.ca.models import Reason as CAReason
from ramis.common.fsm import ProtectedFSMModel, StateField
from ramis.common.uploads import private_upload_to
from ramis.offices.models import RegistrationOffice, TokenModel
from ramis.offices.selectors import is_clerk_of
from ramis.registry.models import Person, Role


class CertificateType(models.TextChoices):
    SIGNATURE = "signature", "گواهی امضای شخصی"
    SEAL = "seal", "گواهی مهر سازمانی"


class ServiceType(models.TextChoices):
    IN_PERSON = "in_person", "حضوری (مراجعه به دفتر)"
    ON_SITE = "on_site", "در محل (مراجعه دفتر به شرکت)"


class TokenChoice(models.TextChoices):
    REUSE = "reuse", "توکن یا گواهی قبلی دارم و همان را می‌آورم"
    BUY = "buy", "توکن جدید می‌خرم"


# --- permission callables for transitions (django-fsm calls them with (instance, user)) ---------------


def _is_applicant(instance, user) -> bool:
    return bool(user and getattr(user, "pk", None)) and instance.applicant.user_id == user.pk


def _is_office_clerk(instance, user) -> bool:
    return is_clerk_of(user, instance.office_id)


def _is_applicant_or_office_clerk(instance, user) -> bool:
    return _is_applicant(instance, user) or _is_office_clerk(instance, user)


def _can_pay_refund(instance, user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False)) and user.has_perm("certrequests.pay_refund")


def _can_decide_revocation(instance, user) -> bool:
    return _can_revoke_certificate(instance.certificate, user)


def _unexpired_if_superseded(instance) -> bool:
    """A superseded certificate (renewed onto another token) stays valid until it expires, and so
    stays revocable until then: the old token may be lost (R19)."""
    return instance.status != Certificate.Status.SUPERSEDED or instance.not_after > timezone.now()


def _can_revoke_certificate(instance, user) -> bool:
    """The certificate's office, or a reviewer allowed to revoke (SEO, when a role ends)."""
    if not (user and getattr(user, "is_authenticated", False)):
        return False
    return is_clerk_of(user, instance.office_id) or user.has_perm("certrequests.revoke_certificate")


# --- document requirements ---------------------------------------------------------------------------


class DocumentRequirementQuerySet(models.QuerySet):
    def for_request(self, req: CertificateRequest) -> DocumentRequirementQuerySet:
        qs = self.filter(is_active=True, applies_to__in=[req.cert_type, DocumentRequirement.AppliesTo.BOTH])
        if req.kind == CertificateRequest.Kind.RENEW:
            qs = qs.filter(on_renewal=True)
        return qs.order_by("order", "id")


class DocumentRequirement(models.Model):
    """One document the applicant uploads for a type of certificate: data, edited in the admin."""

    class AppliesTo(models.TextChoices):
        SIGNATURE = CertificateType.SIGNATURE.value, "گواهی امضا"
        SEAL = CertificateType.SEAL.value, "گواهی مهر سازمانی"
        BOTH = "both", "هر دو"

    code = models.SlugField("کد", max_length=50, unique=True)
    title = models.CharField("عنوان", max_length=200)
    help_text = models.CharField("راهنما", max_length=300, blank=True)
    applies_to = models.CharField("برای", max_length=10, choices=AppliesTo.choices, default=AppliesTo.BOTH)
    required = models.BooleanField("اجباری", default=True)
    on_renewal = models.BooleanField("در تمدید هم خواسته شود", default=True)
    order = models.PositiveSmallIntegerField("ترتیب", default=0)
    is_active = models.BooleanField("فعال", default=True)

    objects = DocumentRequirementQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "مدرک لازم"
        verbose_name_plural = "مدارک لازم"

    def __str__(self) -> str:
        return self.title


# --- the request -------------------------------------------------------------------------------------


class CertificateRequestQuerySet(models.QuerySet):
    def with_parties(self) -> CertificateRequestQuerySet:
        return self.select_related("applicant", "role", "role__company", "office", "token_model")

    def open(self) -> CertificateRequestQuerySet:
        closed = [CertificateRequest.Status.ISSUED, CertificateRequest.Status.REJECTED,
                  CertificateRequest.Status.CANCELLED]
        return self.exclude(status__in=closed)


class CertificateRequest(ProtectedFSMModel):
    """A request for a certificate (new or renewal)::

        draft ──final_submit──▶ submitted ──approve──▶ awaiting_payment ──pay──▶ awaiting_appointment ──book──▶ awaiting_issuance ──mark_issued──▶ issued
          ▲                        │   │                                   └─pay (on-site)──▶ awaiting_visit ──schedule_visit──▶ awaiting_issuance
          └──────resubmit── returned◀─return_for_correction
                                   └─reject──▶ rejected        (cancel before issued ──▶ cancelled; after
                                                                payment with a Refund of what was paid)
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "پیش‌نویس"
        SUBMITTED = "submitted", "ارسال‌شده به دفتر ثبت‌نام"
        RETURNED = "returned", "بازگشت برای اصلاح"
        REJECTED = "rejected", "ردشده"
        AWAITING_PAYMENT = "awaiting_payment", "در انتظار پرداخت"
        AWAITING_APPOINTMENT = "awaiting_appointment", "در انتظار تعیین نوبت"
        AWAITING_VISIT = "awaiting_visit", "در انتظار هماهنگی مراجعه در محل"
        AWAITING_ISSUANCE = "awaiting_issuance", "در انتظار صدور"
        ISSUED = "issued", "صادرشده"
        CANCELLED = "cancelled", "لغوشده"

    class Kind(models.TextChoices):
        ISSUE = "issue", "صدور"
        RENEW = "renew", "تمدید"

    EDITABLE = (Status.DRAFT, Status.RETURNED)
    # Paid and not yet issued: a cancel here frees the appointment and refunds the invoice.
    PAID = (Status.AWAITING_APPOINTMENT, Status.AWAITING_VISIT, Status.AWAITING_ISSUANCE)
    CANCELLABLE = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.AWAITING_PAYMENT, *PAID)

    applicant = models.ForeignKey(Person, verbose_name="متقاضی", on_delete=models.PROTECT, related_name="requests")
    role = models.ForeignKey(Role, verbose_name="سمت", on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField("نوع درخواست", max_length=10, choices=Kind.choices, default=Kind.ISSUE)
    cert_type = models.CharField("نوع گواهی", max_length=10, choices=CertificateType.choices)
    validity_years = models.PositiveSmallIntegerField(
        "مدت اعتبار (سال)", choices=[(2, "دو سال"), (1, "یک سال")], default=2
    )
    # Details (R6): the Latin spelling goes into the certificate's subject.
    email = models.EmailField("رایانامه", blank=True)
    # The address the applicant proved to receive (a code e-mailed to it): only this one goes into
    # the certificate (subjectAltName), and only while it is still the request's ``email``.
    email_confirmed = models.EmailField("رایانامهٔ تأییدشده", blank=True)
    email_confirmed_at = models.DateTimeField("زمان تأیید رایانامه", null=True, blank=True)
    latin_first_name = models.CharField("نام به لاتین", max_length=100, blank=True)
    latin_last_name = models.CharField("نام خانوادگی به لاتین", max_length=100, blank=True)
    latin_company_name = models.CharField("نام شرکت به لاتین", max_length=200, blank=True)
    organizational_unit = models.CharField("واحد سازمانی", max_length=100, blank=True)
    # Office and service (R7).
    office = models.ForeignKey(
        RegistrationOffice, verbose_name="دفتر ثبت‌نام", null=True, blank=True, on_delete=models.PROTECT,
        related_name="requests",
    )
    service_type = models.CharField("نوع خدمت", max_length=10, choices=ServiceType.choices, blank=True)
    on_site_address = models.TextField("نشانی محل خدمت", blank=True)
    # Hardware (R8).
    token_choice = models.CharField("توکن", max_length=10, choices=TokenChoice.choices, blank=True)
    token_model = models.ForeignKey(
        TokenModel, verbose_name="مدل توکن", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    renews = models.ForeignKey(
        "Certificate", verbose_name="تمدید گواهی", null=True, blank=True, on_delete=models.PROTECT,
        related_name="renewals",
    )
    status = StateField("وضعیت", default=Status.DRAFT, choices=Status.choices, protected=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = CertificateRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "درخواست گواهی"
        verbose_name_plural = "درخواست‌های گواهی"
        constraints = [
            models.UniqueConstraint(
                fields=["renews"],
                condition=~models.Q(status__in=["issued", "rejected", "cancelled"]),
                name="one_open_renewal_per_certificate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_cert_type_display()}"

    @property
    def reference(self) -> str:
        return f"RQ-{self.pk or 0:06d}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def email_is_confirmed(self) -> bool:
        return bool(self.email) and self.email.strip().lower() == self.email_confirmed.strip().lower()

    @property
    def office_is_fixed(self) -> bool:
        """A renewal is bound to the office that issued the certificate (R15)."""
        return self.kind == self.Kind.RENEW

    # --- transitions: only this row's fields, no I/O -------------------------------------------------

    def role_in_force(self) -> bool:
        """A request moves on only while its role is approved: an ended role stops it (R2, R19)."""
        return self.role.status == Role.Status.APPROVED

    @transition(field=status, source=Status.DRAFT, target=Status.SUBMITTED, permission=_is_applicant,
                conditions=[role_in_force])
    def final_submit(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=Status.RETURNED, target=Status.SUBMITTED, permission=_is_applicant,
                conditions=[role_in_force])
    def resubmit(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=Status.SUBMITTED, target=Status.AWAITING_PAYMENT, permission=_is_office_clerk,
                conditions=[role_in_force])
    def approve(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.RETURNED, permission=_is_office_clerk)
    def return_for_correction(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED, permission=_is_office_clerk)
    def reject(self):
        pass

    @transition(
        field=status, source=Status.AWAITING_PAYMENT,
        target=RETURN_VALUE(Status.AWAITING_APPOINTMENT, Status.AWAITING_VISIT),
    )
    def pay(self):
        """Called when the gateway's verified callback settles the invoice (no user permission)."""
        if self.service_type == ServiceType.ON_SITE:
            return self.Status.AWAITING_VISIT
        return self.Status.AWAITING_APPOINTMENT

    @transition(field=status, source=Status.AWAITING_APPOINTMENT, target=Status.AWAITING_ISSUANCE,
                permission=_is_applicant)
    def book(self):
        pass

    @transition(field=status, source=Status.AWAITING_ISSUANCE, target=Status.AWAITING_ISSUANCE,
                permission=_is_applicant, conditions=[lambda r: r.service_type == ServiceType.IN_PERSON])
    def rebook(self):
        pass

    @transition(field=status, source=Status.AWAITING_VISIT, target=Status.AWAITING_ISSUANCE,
                permission=_is_office_clerk)
    def schedule_visit(self):
        pass

    @transition(field=status, source=Status.AWAITING_ISSUANCE, target=Status.ISSUED, permission=_is_office_clerk,
                conditions=[role_in_force])
    def mark_issued(self):
        pass

    @transition(field=status, source=[Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.AWAITING_PAYMENT,
                                      Status.AWAITING_APPOINTMENT, Status.AWAITING_VISIT, Status.AWAITING_ISSUANCE],
                target=Status.CANCELLED)
    def withdraw(self):
        """The system closes the request because its role ended (no user permission)."""

    @transition(field=status, source=list(CANCELLABLE), target=Status.CANCELLED,
                permission=_is_applicant_or_office_clerk)
    def cancel(self):
        """The applicant, or a clerk of the request's office, cancels before issuance."""


class ReturnNote(models.Model):
    """The clerk's note on one item of a request returned for correction (R10)."""

    request = models.ForeignKey(CertificateRequest, on_delete=models.CASCADE, related_name="return_notes")
    item = models.CharField("مورد", max_length=60, help_text="details, office, token یا doc:<کد مدرک>")
    note = models.TextField("توضیح")
    is_open = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "یادداشت اصلاح"
        verbose_name_plural = "یادداشت‌های اصلاح"

    def __str__(self) -> str:
        return f"{self.item}: {self.note[:40]}"


class RequestDocument(models.Model):
    request = models.ForeignKey(CertificateRequest, on_delete=models.CASCADE, related_name="documents")
    requirement = models.ForeignKey(DocumentRequirement, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=private_upload_to("requests"))
    kind = models.CharField(max_length=5)  # pdf / jpg / png, sniffed from the content
    size = models.PositiveIntegerField()
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["requirement__order", "id"]
        verbose_name = "مدرک بارگذاری‌شده"
        verbose_name_plural = "مدارک بارگذاری‌شده"
        constraints = [models.UniqueConstraint(fields=["request", "requirement"], name="one_document_per_requirement")]

    def __str__(self) -> str:
        return f"{self.request.reference} {self.requirement}"


# --- invoices and payments (R11, X4) -----------------------------------------------------------------


class Payee(models.TextChoices):
    TREASURY = "treasury", "خزانه"
    OFFICE = "office", "دفتر ثبت‌نام"


class Invoice(ProtectedFSMModel):
    class Status(models.TextChoices):
        UNPAID = "unpaid", "پرداخت‌نشده"
        PAID = "paid", "پرداخت‌شده"
        VOID = "void", "باطل"

    request = models.OneToOneField(CertificateRequest, on_delete=models.PROTECT, related_name="invoice")
    total_rials = models.PositiveBigIntegerField("مبلغ کل (ریال)")
    status = StateField(default=Status.UNPAID, choices=Status.choices, protected=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "صورت‌حساب"
        verbose_name_plural = "صورت‌حساب‌ها"

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"INV-{self.pk or 0:06d}"

    @transition(field=status, source=Status.UNPAID, target=Status.PAID)
    def settle(self):
        self.paid_at = timezone.now()

    @transition(field=status, source=Status.UNPAID, target=Status.VOID)
    def void(self):
        pass


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=200)
    payee = models.CharField(max_length=10, choices=Payee.choices)
    amount_rials = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount_rials}"


def _payment_token() -> str:
    return secrets.token_urlsafe(24)


class Payment(ProtectedFSMModel):
    """One attempt to pay an invoice through the gateway. A second successful payment of an
    invoice already paid is kept as ``refund_due`` (the money came in; it must go back)."""

    class Status(models.TextChoices):
        PENDING = "pending", "در انتظار بازگشت از درگاه"
        PAID = "paid", "موفق"
        FAILED = "failed", "ناموفق"
        CANCELLED = "cancelled", "انصراف پرداخت‌کننده"
        REFUND_DUE = "refund_due", "پرداخت تکراری (باید بازگردانده شود)"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    token = models.CharField(max_length=64, unique=True, default=_payment_token)
    backend = models.CharField(max_length=200)
    amount_rials = models.PositiveBigIntegerField()
    gateway_ref = models.CharField("شناسه درگاه", max_length=100, blank=True, db_index=True)
    bank_ref = models.CharField("شماره پیگیری بانک", max_length=100, blank=True)
    status = StateField(default=Status.PENDING, choices=Status.choices, protected=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "پرداخت"
        verbose_name_plural = "پرداخت‌ها"

    def __str__(self) -> str:
        return f"{self.invoice.number} #{self.pk} {self.status}"

    @transition(field=status, source=Status.PENDING, target=Status.PAID)
    def succeed(self):
        self.completed_at = timezone.now()

    @transition(field=status, source=Status.PENDING, target=Status.REFUND_DUE)
    def succeed_duplicate(self):
        self.completed_at = timezone.now()

    @transition(field=status, source=Status.PENDING, target=Status.FAILED)
    def fail(self):
        self.completed_at = timezone.now()

    @transition(field=status, source=Status.PENDING, target=Status.CANCELLED)
    def cancel(self):
        self.completed_at = timezone.now()


class Refund(ProtectedFSMModel):
    """The money of a paid invoice going back to the applicant after a cancel:
    ``requested ──mark_paid──▶ paid`` (an operator records the bank transfer in the admin)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "در انتظار بازپرداخت"
        PAID = "paid", "بازپرداخت شد"

    request = models.ForeignKey(CertificateRequest, on_delete=models.PROTECT, related_name="refunds")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refunds")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    amount_rials = models.PositiveBigIntegerField("مبلغ (ریال)")
    treasury_rials = models.PositiveBigIntegerField("سهم خزانه (ریال)")
    office_rials = models.PositiveBigIntegerField("سهم دفتر ثبت‌نام (ریال)")
    reason = models.TextField("دلیل", blank=True)
    status = StateField("وضعیت", default=Status.REQUESTED, choices=Status.choices, protected=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    bank_ref = models.CharField("شماره پیگیری واریز", max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "بازپرداخت"
        verbose_name_plural = "بازپرداخت‌ها"
        permissions = [("pay_refund", "Can record a refund as paid (operator, SEO reviewer)")]

    def __str__(self) -> str:
        return f"بازپرداخت {self.invoice.number} ({self.amount_rials})"

    @transition(field=status, source=Status.REQUESTED, target=Status.PAID, permission=_can_pay_refund)
    def mark_paid(self, *, bank_ref: str, by):
        self.paid_at = timezone.now()
        self.paid_by = by
        self.bank_ref = bank_ref


# --- appointments (R12, R13) -------------------------------------------------------------------------


class AppointmentQuerySet(models.QuerySet):
    def active(self) -> AppointmentQuerySet:
        return self.filter(is_active=True)


class Appointment(models.Model):
    """The applicant's time at the office (in person), or the office's visit to the company (on site)."""

    request = models.ForeignKey(CertificateRequest, on_delete=models.PROTECT, related_name="appointments")
    office = models.ForeignKey(RegistrationOffice, on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(max_length=10, choices=ServiceType.choices, default=ServiceType.IN_PERSON)
    starts_at = models.DateTimeField("زمان", db_index=True)
    ends_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # On-site visits (R12): where the office goes and which of its clerks goes.
    address = models.TextField("نشانی مراجعه", blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="کارشناس اعزامی", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "نوبت"
        verbose_name_plural = "نوبت‌ها"
        indexes = [models.Index(fields=["office", "starts_at", "is_active"])]
        constraints = [
            models.UniqueConstraint(fields=["request"], condition=models.Q(is_active=True),
                                    name="one_active_appointment_per_request")
        ]

    def __str__(self) -> str:
        return f"{self.request.reference} @ {self.starts_at:%Y-%m-%d %H:%M}"


# --- certificates and revocation (R17, R19, R20) -----------------------------------------------------


class CertificateQuerySet(models.QuerySet):
    def active(self) -> CertificateQuerySet:
        return self.filter(status=Certificate.Status.ACTIVE)

    def replaced_by(self, req: CertificateRequest, token_serial: str = "") -> CertificateQuerySet:
        """The active certificates a new certificate for ``req`` on token ``token_serial``
        supersedes: the one a renewal renews, and any of the same holder, role and type on
        that same token (a reused token gets a new, non-renewal certificate)."""
        replaced = models.Q(pk=req.renews_id) if req.renews_id else models.Q(pk__in=[])
        if token_serial:
            replaced |= models.Q(holder_id=req.applicant_id, role_id=req.role_id, cert_type=req.cert_type,
                                 token_serial=token_serial)
        return self.active().filter(replaced).exclude(request_id=req.pk)


class Certificate(ProtectedFSMModel):
    """The requests room's record of a certificate issued by the CA.

    ``serial`` (lower-case hex) is the CA's serial number and the key to ``ramis.ca``'s
    ``IssuedCertificate``: this room refers to the CA's record by serial only, so the CA can
    be merged and queried (``issued()``) without a migration here.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "معتبر"
        ON_HOLD = "on_hold", "معلق"  # held at the CA (certificateHold): may be released or revoked
        REVOKED = "revoked", "ابطال‌شده"
        EXPIRED = "expired", "منقضی"
        SUPERSEDED = "superseded", "جایگزین‌شده"  # by a renewal, or a new certificate on the same token

    LIVE = (Status.ACTIVE, Status.ON_HOLD)  # still the CA's to revoke or to let expire

    serial = models.CharField("شماره سریال", max_length=64, unique=True)
    cert_type = models.CharField("نوع", max_length=10, choices=CertificateType.choices)
    holder = models.ForeignKey(Person, verbose_name="دارنده", on_delete=models.PROTECT, related_name="certificates")
    role = models.ForeignKey(Role, verbose_name="سمت", on_delete=models.PROTECT, related_name="certificates")
    office = models.ForeignKey(
        RegistrationOffice, verbose_name="دفتر صادرکننده", on_delete=models.PROTECT, related_name="certificates"
    )
    subject_cn = models.CharField("نام در گواهی", max_length=200, blank=True)
    not_before = models.DateTimeField("معتبر از")
    not_after = models.DateTimeField("معتبر تا", db_index=True)
    token_serial = models.CharField("سریال توکن", max_length=64, blank=True)
    request = models.OneToOneField(
        CertificateRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    status = StateField("وضعیت", default=Status.ACTIVE, choices=Status.choices, protected=True, db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=30, blank=True)
    held_at = models.DateTimeField("تعلیق از", null=True, blank=True)
    ca_note = models.CharField("توضیح مرجع صدور", max_length=300, blank=True,
                               help_text="why the CA's operator held, released or revoked it (manage.py ca)")
    reminders_sent = models.JSONField(default=list, blank=True)  # the day counts already reminded (30, 7)
    superseded_by = models.ForeignKey("self", verbose_name="جایگزین‌شده با", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-not_after"]
        verbose_name = "گواهی"
        verbose_name_plural = "گواهی‌ها"
        permissions = [("revoke_certificate", "Can revoke any certificate (SEO reviewer, CA operator)")]

    def __str__(self) -> str:
        return f"{self.get_cert_type_display()} {self.serial}"

    def days_left(self, now=None) -> int:
        return (self.not_after - (now or timezone.now())).days

    def issued(self):
        """The CA's record (``ramis.ca.models.IssuedCertificate``), once the CA room is installed."""
        from django.apps import apps

        if not apps.is_installed("ramis.ca"):
            return None
        model = apps.get_model("ca", "IssuedCertificate")
        return model.objects.filter(serial_hex=self.serial).first()

    @property
    def revocable(self) -> bool:
        """Active, held at the CA, or superseded by a renewal and not yet expired (the holder, the
        office and a reviewer may revoke it; who may is the transition's permission, which
        ``can_proceed`` does not check: only the source states and the conditions)."""
        return can_proceed(self.revoke)

    @transition(field=status, source=[Status.ACTIVE, Status.ON_HOLD, Status.SUPERSEDED], target=Status.REVOKED,
                permission=_can_revoke_certificate, conditions=[_unexpired_if_superseded])
    def revoke(self, reason: str = "", ca_note: str = ""):
        self.revoked_at = timezone.now()
        self.revocation_reason = reason
        self.held_at = None
        self.ca_note = ca_note[:300]

    @transition(field=status, source=Status.ACTIVE, target=Status.ON_HOLD)
    def hold(self, *, note: str):
        """Only the CA holds (``ramis.ca.services.certificate_hold``); this record follows it."""
        self.held_at = timezone.now()
        self.ca_note = note[:300]

    @transition(field=status, source=Status.ON_HOLD, target=Status.ACTIVE)
    def release(self, *, note: str):
        self.held_at = None
        self.ca_note = note[:300]

    @transition(field=status, source=[Status.ACTIVE, Status.ON_HOLD], target=Status.EXPIRED)
    def expire(self):
        pass

    @transition(field=status, source=Status.ACTIVE, target=Status.SUPERSEDED)
    def supersede(self, *, by: Certificate):
        self.superseded_by = by

    @property
    def status_why(self) -> str:
        """Why a held or revoked certificate is so, in Persian: the revocation's reason or the
        hold, then the CA operator's note if they gave one. Empty otherwise."""
        if self.status == self.Status.ON_HOLD:
            why = "تعلیق در مرجع صدور گواهی"
        elif self.status == self.Status.REVOKED and self.revocation_reason in RevocationReason.values:
            why = RevocationReason(self.revocation_reason).label
        else:
            return ""
        return f"{why}: {self.ca_note}" if self.ca_note else why

    @property
    def superseded_why(self) -> str:
        """Why a superseded certificate was replaced, in Persian, from the certificate that replaced
        it (``select_related("superseded_by__request")`` where many are shown): renewed, or a new
        certificate (not a renewal of this one) on the same token. Empty otherwise."""
        by = self.superseded_by if self.status == self.Status.SUPERSEDED else None
        if by is None:
            return ""
        if by.request is not None and by.request.renews_id == self.pk:
            return "با تمدید"
        return "با گواهی تازه روی همان توکن"


class RevocationReason(models.TextChoices):
    """What the applicant or the office says; ``RFC5280_REASON`` maps it to the CRL/OCSP reason code."""

    KEY_COMPROMISE = "key_compromise", "احتمال افشای کلید خصوصی یا رمز توکن"
    TOKEN_LOST = "token_lost", "گم شدن یا سرقت توکن"
    AFFILIATION_CHANGED = "affiliation_changed", "تغییر سمت یا پایان همکاری با شرکت"
    CESSATION_OF_OPERATION = "cessation_of_operation", "پایان فعالیت شرکت یا نقش"
    SUPERSEDED = "superseded", "جایگزینی با گواهی دیگر"
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn", "سلب اختیار امضا"
    UNSPECIFIED = "unspecified", "سایر دلایل"


# RFC 5280 §5.3.1 CRLReason, as the CA stores it (``ramis.ca.models.Reason``).
RFC5280_REASON = {
    RevocationReason.KEY_COMPROMISE: CAReason.KEY_COMPROMISE,
    RevocationReason.TOKEN_LOST: CAReason.KEY_COMPROMISE,
    RevocationReason.AFFILIATION_CHANGED: CAReason.AFFILIATION_CHANGED,
    RevocationReason.CESSATION_OF_OPERATION: CAReason.CESSATION_OF_OPERATION,
    RevocationReason.SUPERSEDED: CAReason.SUPERSEDED,
    RevocationReason.PRIVILEGE_WITHDRAWN: CAReason.PRIVILEGE_WITHDRAWN,
    RevocationReason.UNSPECIFIED: CAReason.UNSPECIFIED,
}
# The CA's reason (a revocation made at the CA by its operator) as this room says it.
REASON_FROM_CA = {
    CAReason.KEY_COMPROMISE: RevocationReason.KEY_COMPROMISE,
    CAReason.AFFILIATION_CHANGED: RevocationReason.AFFILIATION_CHANGED,
    CAReason.CESSATION_OF_OPERATION: RevocationReason.CESSATION_OF_OPERATION,
    CAReason.SUPERSEDED: RevocationReason.SUPERSEDED,
    CAReason.PRIVILEGE_WITHDRAWN: RevocationReason.PRIVILEGE_WITHDRAWN,
}
# Reasons that revoke at once when the holder asks (R19); the others wait for the office.
IMMEDIATE_REASONS = frozenset({RevocationReason.KEY_COMPROMISE, RevocationReason.TOKEN_LOST})


class RevocationRequest(ProtectedFSMModel):
    """submitted ──confirm──▶ confirmed (certificate revoked) | ──reject──▶ rejected | ──cancel──▶ cancelled"""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "در انتظار تأیید دفتر"
        CONFIRMED = "confirmed", "انجام شد (گواهی ابطال شد)"
        REJECTED = "rejected", "ردشده"
        CANCELLED = "cancelled", "لغوشده"

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="revocations")
    reason = models.CharField("دلیل ابطال", max_length=30, choices=RevocationReason.choices)
    note = models.TextField("توضیح", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = StateField(default=Status.SUBMITTED, choices=Status.choices, protected=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "درخواست ابطال"
        verbose_name_plural = "درخواست‌های ابطال"
        constraints = [
            models.UniqueConstraint(fields=["certificate"], condition=models.Q(status="submitted"),
                                    name="one_open_revocation_per_certificate")
        ]

    def __str__(self) -> str:
        return f"ابطال {self.certificate.serial} ({self.get_reason_display()})"

    @transition(field=status, source=Status.SUBMITTED, target=Status.CONFIRMED)
    def confirm(self):
        """The holder's immediate reasons confirm at once; otherwise the office or a reviewer
        (the service checks who may, for each case)."""
        self.decided_at = timezone.now()

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED, permission=_can_decide_revocation)
    def reject(self):
        self.decided_at = timezone.now()

    @transition(field=status, source=Status.SUBMITTED, target=Status.CANCELLED)
    def cancel(self):
        """Overtaken: the certificate was revoked or expired by another path, or the holder's
        urgent revocation replaces this request (the service says why)."""
        self.decided_at = timezone.now()


class EmailConfirmationCode(models.Model):
    """A code e-mailed to a request's address (only its hash is kept); the latest one counts."""

    request = models.ForeignKey(CertificateRequest, on_delete=models.CASCADE, related_name="email_codes")
    address = models.EmailField()
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "کد تأیید رایانامه"
        verbose_name_plural = "کدهای تأیید رایانامه"

    def __str__(self) -> str:
        return f"{self.address} ({self.created_at:%Y-%m-%d %H:%M})"
