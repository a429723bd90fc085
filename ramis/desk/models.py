"""The office's records at the visit: the identity check, each attempt to issue onto a token,
the handover of the certificate and token, and the signed revocation forms of office
revocations (R13, R14, R19, R21)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import transition

from ramis.common.fsm import ProtectedFSMModel, StateField
from ramis.common.uploads import private_upload_to
from ramis.offices.models import RegistrationOffice
from ramis.requests.models import Certificate, CertificateRequest, RevocationReason


class IdentityCheck(models.Model):
    """What the clerk saw at the visit (R13, R14, R21). One row per check; the latest counts.

    The owner of the certificate, or their attorney with a notarised power of attorney, must be
    present; a company-registration or tax power of attorney is not accepted."""

    class SecondDocument(models.TextChoices):
        BIRTH_CERTIFICATE = "birth_certificate", "اصل شناسنامه"
        PASSPORT = "passport", "اصل گذرنامه"

    class Presenter(models.TextChoices):
        OWNER = "owner", "خود دارنده گواهی"
        ATTORNEY = "attorney", "وکیل قانونی دارنده"

    class PowerKind(models.TextChoices):
        NOTARISED = "notarised", "وکالت‌نامه رسمی محضری"
        REGISTRATION = "registration", "وکالت ثبت شرکت"
        TAX = "tax", "وکالت امور مالیاتی"

    ACCEPTED_POWERS = (PowerKind.NOTARISED,)

    request = models.ForeignKey(CertificateRequest, on_delete=models.PROTECT, related_name="identity_checks")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="کارشناس", on_delete=models.PROTECT,
                                   related_name="+")
    national_card_seen = models.BooleanField("اصل کارت ملی دیده شد", default=False)
    second_document = models.CharField("مدرک دوم (اصل)", max_length=20, choices=SecondDocument.choices, blank=True)
    photo_matches = models.BooleanField("چهره با عکس مدارک مطابقت دارد", default=False)
    presenter = models.CharField("حاضر در دفتر", max_length=10, choices=Presenter.choices)
    attorney_name = models.CharField("نام و نام خانوادگی وکیل", max_length=200, blank=True)
    attorney_national_code = models.CharField("کد ملی وکیل", max_length=10, blank=True)
    power_kind = models.CharField("نوع وکالت‌نامه", max_length=20, choices=PowerKind.choices, blank=True)
    power_number = models.CharField("شماره وکالت‌نامه", max_length=50, blank=True)
    power_date = models.DateField("تاریخ وکالت‌نامه", null=True, blank=True)
    power_notary = models.CharField("دفترخانه اسناد رسمی", max_length=100, blank=True)
    power_file = models.FileField("تصویر وکالت‌نامه", upload_to=private_upload_to("attorney"), blank=True)
    power_file_kind = models.CharField(max_length=5, blank=True)
    passed = models.BooleanField("پذیرفته شد", default=False)
    failures = models.JSONField("دلایل نپذیرفتن", default=list, blank=True)
    note = models.TextField("توضیح", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "احراز هویت حضوری"
        verbose_name_plural = "احراز هویت‌های حضوری"

    def __str__(self) -> str:
        return f"{self.request.reference}: {'پذیرفته' if self.passed else 'نپذیرفته'}"


class WorkstationQuerySet(models.QuerySet):
    def active(self) -> WorkstationQuerySet:
        return self.filter(is_active=True)


class Workstation(models.Model):
    """An issuing desk's computer, where the applicant's token is plugged in, and its token agent
    (``python -m tokens.agent``, docs/reference/token-agent.md).

    The agent's HMAC secret is made by the server (``desk.services.workstation_add``), shown once
    and stored sealed (AES-256-GCM, :mod:`ramis.desk.sealing`) under a key derived from settings
    (``OFFICE_AGENT_SEALING_KEY``, else ``SECRET_KEY``): a database dump alone does not give it."""

    office = models.ForeignKey(RegistrationOffice, verbose_name="دفتر", on_delete=models.PROTECT,
                               related_name="workstations")
    name = models.CharField("نام باجه", max_length=100, help_text="مثلاً «باجهٔ ۲ — desk-teh02»")
    agent_url = models.CharField("نشانی نرم‌افزار توکن (agent)", max_length=200,
                                 help_text="https://desk-teh02.office.lan:8765 (HTTP فقط روی همین رایانه، 127.0.0.1)")
    is_active = models.BooleanField("فعال", default=True)
    secret_sealed = models.TextField("رمز مشترک (رمزنگاری‌شده)", editable=False, blank=True)
    secret_set_at = models.DateTimeField("زمان ساخت رمز مشترک", null=True, editable=False)
    created_at = models.DateTimeField("زمان ثبت", auto_now_add=True)
    last_checked_at = models.DateTimeField("آخرین بررسی", null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField("آخرین پاسخ", null=True, blank=True, editable=False)
    last_error = models.TextField("آخرین خطا", blank=True, editable=False)

    objects = WorkstationQuerySet.as_manager()

    class Meta:
        ordering = ["office", "name"]
        verbose_name = "باجهٔ صدور (رایانهٔ کارشناس)"
        verbose_name_plural = "باجه‌های صدور"
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="workstation_name_per_office")]

    def __str__(self) -> str:
        return f"{self.name} ({self.office.code})"

    @property
    def answers(self) -> bool:
        """Whether the last check reached the agent."""
        return self.last_seen_at is not None and self.last_seen_at == self.last_checked_at

    def secret(self) -> bytes:
        """The agent's shared secret (raises ``tokens.TokenError`` with a Persian message if the
        sealing key changed or the row was tampered with)."""
        from .sealing import unseal

        return unseal(self.secret_sealed, aad=self._aad())

    def seal_secret(self, secret: str) -> None:
        """Set (not save) the sealed secret; the row must have its primary key (bound into it)."""
        from .sealing import seal

        self.secret_sealed = seal(secret.encode(), aad=self._aad())
        self.secret_set_at = timezone.now()

    def _aad(self) -> bytes:
        assert self.pk is not None
        return f"ramis-workstation:{self.pk}".encode()


class IssuanceAttemptQuerySet(models.QuerySet):
    def in_progress(self) -> IssuanceAttemptQuerySet:
        return self.filter(status__in=IssuanceAttempt.OPEN)


class IssuanceAttempt(ProtectedFSMModel):
    """One attempt to issue a request's certificate onto the applicant's token::

        started ──claim (signing worker)──▶ signing ──sign──▶ signed ──succeed (office)──▶ issued
                                              └──refuse──▶ ca_refused
        started | signing | signed | ca_refused ──fail (office)──▶ failed

    The office's process opens the token, generates the key and the CSR, and waits; the CA signs
    on the ``signing`` queue, whose worker alone holds the CA token's PIN (DESIGN "PKI"; eager
    and in-process in the embedded setup). A started attempt holds the request: a second clerk
    cannot issue it at the same time. An attempt left unfinished by a crashed process is reaped
    after ``OFFICE_ISSUANCE_TIMEOUT_SECONDS``; a certificate signed for an attempt the office
    has given up is revoked at once."""

    class Status(models.TextChoices):
        STARTED = "started", "در حال آماده‌سازی توکن"
        SIGNING = "signing", "در حال امضا در مرکز صدور"
        SIGNED = "signed", "امضا شد، در حال نوشتن روی توکن"
        CA_REFUSED = "ca_refused", "مرکز صدور نپذیرفت"
        ISSUED = "issued", "صادر و روی توکن نوشته شد"
        FAILED = "failed", "ناموفق"

    OPEN = (Status.STARTED, Status.SIGNING, Status.SIGNED, Status.CA_REFUSED)

    request = models.ForeignKey(CertificateRequest, on_delete=models.PROTECT, related_name="issuance_attempts")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="کارشناس", on_delete=models.PROTECT,
                              related_name="+")
    identity_check = models.ForeignKey(IdentityCheck, on_delete=models.PROTECT, related_name="+")
    workstation = models.ForeignKey(Workstation, verbose_name="باجه", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    status = StateField("وضعیت", default=Status.STARTED, choices=Status.choices, protected=True, db_index=True)
    new_token = models.BooleanField("توکن نو (راه‌اندازی در دفتر)", default=False)
    token_label = models.CharField("برچسب توکن", max_length=32, blank=True)
    token_serial = models.CharField("سریال توکن", max_length=64, blank=True)
    token_model = models.CharField("مدل توکن", max_length=100, blank=True)
    key_type = models.CharField("نوع کلید", max_length=16, blank=True)
    key_id = models.CharField("شناسه کلید روی توکن", max_length=64, blank=True)
    csr_pem = models.TextField("درخواست امضای گواهی (CSR)", blank=True)
    certificate_serial = models.CharField("سریال گواهی", max_length=64, blank=True)
    error_code = models.CharField("نوع خطا", max_length=50, blank=True)
    error = models.TextField("شرح خطا", blank=True)
    error_message = models.TextField("پیام به کارشناس", blank=True)
    cleanup = models.JSONField("پاک‌سازی پس از خطا", default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = IssuanceAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "تلاش صدور روی توکن"
        verbose_name_plural = "تلاش‌های صدور روی توکن"
        constraints = [
            models.UniqueConstraint(fields=["request"],
                                    condition=models.Q(status__in=["started", "signing", "signed", "ca_refused"]),
                                    name="one_issuance_in_progress_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.request.reference} #{self.pk} ({self.get_status_display()})"

    @transition(field=status, source=Status.STARTED, target=Status.SIGNING)
    def claim(self):
        pass

    @transition(field=status, source=Status.SIGNING, target=Status.SIGNED)
    def sign(self, *, certificate_serial: str):
        self.certificate_serial = certificate_serial

    @transition(field=status, source=Status.SIGNING, target=Status.CA_REFUSED)
    def refuse(self, *, code: str, error: str, message: str):
        self.error_code = code
        self.error = error[:2000]
        self.error_message = message

    @transition(field=status, source=Status.SIGNED, target=Status.ISSUED)
    def succeed(self):
        self.finished_at = timezone.now()

    @transition(field=status, source=list(OPEN), target=Status.FAILED)
    def fail(self, *, code: str, error: str, cleanup: dict):
        self.error_code = code
        self.error = error[:2000]
        self.cleanup = cleanup
        self.finished_at = timezone.now()


class OfficeRevocation(models.Model):
    """The office revoked a certificate it issued (R19): the reason and the signed revocation form."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="office_revocations")
    reason = models.CharField("دلیل ابطال", max_length=30, choices=RevocationReason.choices)
    note = models.TextField("توضیح", blank=True)
    form_file = models.FileField("فرم ابطال امضاشده", upload_to=private_upload_to("revocation-forms"))
    form_kind = models.CharField(max_length=5)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="کارشناس", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "ابطال توسط دفتر"
        verbose_name_plural = "ابطال‌های دفتر"

    def __str__(self) -> str:
        return f"{self.certificate.serial} ({self.get_reason_display()})"


class Handover(models.Model):
    """The certificate and token were handed to the person present (R13, R14): when, by which
    clerk, to whom (the owner or their attorney, from the identity check the issuance used), and
    optionally the scan of the handover sheet the recipient signed. One per certificate."""

    request = models.ForeignKey(CertificateRequest, on_delete=models.PROTECT, related_name="handovers")
    certificate = models.OneToOneField(Certificate, verbose_name="گواهی", on_delete=models.PROTECT,
                                       related_name="handover")
    handed_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="کارشناس تحویل‌دهنده",
                                       on_delete=models.PROTECT, related_name="+")
    handed_over_at = models.DateTimeField("زمان تحویل")
    recipient = models.CharField("تحویل‌گیرنده", max_length=10, choices=IdentityCheck.Presenter.choices)
    recipient_name = models.CharField("نام تحویل‌گیرنده", max_length=200)
    sheet_file = models.FileField("تصویر برگه تحویل امضاشده", upload_to=private_upload_to("handover-sheets"),
                                  blank=True)
    sheet_kind = models.CharField(max_length=5, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "تحویل گواهی و توکن"
        verbose_name_plural = "تحویل‌های گواهی و توکن"

    def __str__(self) -> str:
        return f"{self.request.reference}: {self.recipient_name}"
