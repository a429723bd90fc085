"""The CA's records: CAs, issued certificates (an FSM), CRLs, pre-signed OCSP answers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import transition

from ramis.common.fsm import StateField


class Reason(models.TextChoices):
    """RFC 5280 CRLReason, as stored (keys of ``crl.REASON_CODES``)."""

    UNSPECIFIED = "unspecified", "نامشخص"
    KEY_COMPROMISE = "key_compromise", "افشای کلید (یا گم‌شدن توکن)"
    AFFILIATION_CHANGED = "affiliation_changed", "تغییر سمت یا وابستگی (پایان نقش)"
    SUPERSEDED = "superseded", "جایگزین‌شده"
    CESSATION_OF_OPERATION = "cessation_of_operation", "توقف فعالیت (گواهی دیگر به کار نمی‌رود)"
    CERTIFICATE_HOLD = "certificate_hold", "تعلیق"
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn", "سلب اختیار"
    CA_COMPROMISE = "ca_compromise", "افشای کلید مرکز صدور"


class CertificateAuthority(models.Model):
    slug = models.SlugField("شناسه", unique=True)  # "root", "issuing": in the URLs
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    subject = models.CharField("نام", max_length=500)
    token_label = models.CharField("برچسب توکن", max_length=32)
    token_serial = models.CharField("سریال توکن", max_length=32)
    key_id = models.CharField("شناسه کلید", max_length=128)  # hex CKA_ID
    key_type = models.CharField("نوع کلید", max_length=16)
    certificate_der = models.BinaryField("گواهی")
    serial_hex = models.CharField("سریال", max_length=64)
    sha256 = models.CharField("اثر انگشت SHA-256", max_length=64)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    # Delegated OCSP responder (issuing CAs): its key is on this CA's token.
    ocsp_key_id = models.CharField(max_length=128, blank=True)
    ocsp_certificate_der = models.BinaryField(null=True, blank=True)
    crl_number = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "مرکز صدور گواهی"
        verbose_name_plural = "مراکز صدور گواهی"

    def __str__(self) -> str:
        return f"{self.slug}: {self.subject}"


class CertificateQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=IssuedCertificate.Status.ACTIVE)

    def revoked_or_held(self):
        return self.filter(status__in=[IssuedCertificate.Status.REVOKED, IssuedCertificate.Status.ON_HOLD])


class IssuedCertificate(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "فعال"
        ON_HOLD = "on_hold", "معلق"
        REVOKED = "revoked", "باطل‌شده"
        EXPIRED = "expired", "منقضی"
        SUPERSEDED = "superseded", "جایگزین‌شده"

    class Profile(models.TextChoices):
        SIGNATURE = "signature", "امضای شخصی"
        SEAL = "seal", "مهر سازمانی"
        TSA = "tsa", "مرجع مهر زمانی"  # the timestamp authority's own certificate (ca init)

    ca = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="certificates")
    serial_hex = models.CharField("سریال", max_length=64, unique=True)  # lowercase, no leading zeros
    profile = models.CharField("نوع گواهی", max_length=16, choices=Profile.choices)
    subject = models.CharField("موضوع", max_length=1000)
    subject_data = models.JSONField("داده‌های موضوع", default=dict)
    der = models.BinaryField("گواهی")
    sha1 = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64, db_index=True)
    not_before = models.DateTimeField("از")
    not_after = models.DateTimeField("تا", db_index=True)
    status = StateField("وضعیت", default=Status.ACTIVE, choices=Status.choices, protected=True, db_index=True)
    revocation_reason = models.CharField("دلیل ابطال", max_length=32, choices=Reason.choices, blank=True)
    revoked_at = models.DateTimeField("زمان ابطال", null=True, blank=True)
    request_ref = models.CharField("مرجع درخواست", max_length=64, blank=True, db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = "گواهی صادرشده"
        verbose_name_plural = "گواهی‌های صادرشده"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_profile_display()} {self.serial_hex}"

    @property
    def serial(self) -> int:
        return int(self.serial_hex, 16)

    def unexpired_if_superseded(self) -> bool:
        """A renewal replaced it, but it has not expired: its key (perhaps on a lost token) still
        signs, so it can — and must be able to — be revoked."""
        return self.status != IssuedCertificate.Status.SUPERSEDED or self.not_after > timezone.now()

    # -- transitions: only this row's fields, no I/O ----------------------------
    @transition(field=status, source=[Status.ACTIVE, Status.ON_HOLD, Status.SUPERSEDED], target=Status.REVOKED,
                conditions=[unexpired_if_superseded])
    def revoke(self, *, reason: str, when) -> None:
        self.revocation_reason = reason
        self.revoked_at = when

    @transition(field=status, source=Status.ACTIVE, target=Status.ON_HOLD)
    def hold(self, *, when) -> None:
        self.revocation_reason = Reason.CERTIFICATE_HOLD
        self.revoked_at = when

    @transition(field=status, source=Status.ON_HOLD, target=Status.ACTIVE)
    def release(self) -> None:
        self.revocation_reason = ""
        self.revoked_at = None

    @transition(field=status, source=[Status.ACTIVE, Status.ON_HOLD], target=Status.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(field=status, source=Status.ACTIVE, target=Status.SUPERSEDED)
    def supersede(self) -> None:
        pass


class CRL(models.Model):
    ca = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="crls")
    number = models.PositiveBigIntegerField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()
    der = models.BinaryField()
    entries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "فهرست ابطال"
        verbose_name_plural = "فهرست‌های ابطال"
        constraints = [models.UniqueConstraint(fields=["ca", "number"], name="ca_crl_number_unique")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"CRL {self.ca.slug} #{self.number}"


class OCSPResponse(models.Model):
    """A pre-signed answer, found by the CertID a client sends."""

    ca = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="+")
    certificate = models.ForeignKey(IssuedCertificate, on_delete=models.CASCADE, related_name="ocsp_responses")
    hash_algorithm = models.CharField(max_length=8)  # "sha1" | "sha256"
    issuer_name_hash = models.CharField(max_length=64)  # hex
    issuer_key_hash = models.CharField(max_length=64)  # hex
    serial_hex = models.CharField(max_length=64)
    cert_status = models.CharField(max_length=8)  # good | revoked
    der = models.BinaryField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "پاسخ OCSP"
        verbose_name_plural = "پاسخ‌های OCSP"
        constraints = [
            models.UniqueConstraint(
                fields=["hash_algorithm", "issuer_key_hash", "issuer_name_hash", "serial_hex"],
                name="ca_ocsp_certid_unique",
            )
        ]

    def __str__(self) -> str:
        return f"OCSP {self.serial_hex} ({self.hash_algorithm})"


class AuditKey(models.Model):
    """A key on a token that signs checkpoints of the audit trail (never extractable)."""

    token_label = models.CharField("برچسب توکن", max_length=32)
    token_serial = models.CharField("سریال توکن", max_length=32)
    key_label = models.CharField("برچسب کلید", max_length=64)
    key_id = models.CharField("شناسه کلید", max_length=128)  # hex CKA_ID
    public_key_der = models.BinaryField("کلید عمومی")
    sha256 = models.CharField("اثر انگشت SHA-256", max_length=64, unique=True)  # of the DER public key
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "کلید ممیزی"
        verbose_name_plural = "کلیدهای ممیزی"

    def __str__(self) -> str:
        return f"audit key {self.key_label} on {self.token_label} ({self.sha256[:16]})"


class AuditCheckpoint(models.Model):
    """The audit chain's length and head hash at one moment, signed with an audit key.

    ``payload`` is the exact JSON that was signed (ECDSA P-256 with SHA-256, DER
    ``signature``): exported as two files, an auditor checks it with ``openssl dgst``.
    """

    key = models.ForeignKey(AuditKey, on_delete=models.PROTECT, related_name="checkpoints")
    length = models.BigIntegerField(db_index=True)
    head_hash = models.CharField(max_length=64)
    payload = models.TextField()
    signature = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "نقطهٔ وارسی ممیزی"
        verbose_name_plural = "نقاط وارسی ممیزی"
        ordering = ["-length", "-id"]

    def __str__(self) -> str:
        return f"audit checkpoint {self.length} {self.head_hash[:16]}"


class TimestampToken(models.Model):
    """One timestamp the TSA granted: its row id is the token's serial number (unique across every
    TSA process), with what was stamped and when."""

    id = models.BigAutoField(primary_key=True)
    gen_time = models.DateTimeField("زمان")
    hash_algorithm = models.CharField("الگوریتم چکیده", max_length=16)
    imprint = models.CharField("چکیده", max_length=128)  # hex of the stamped digest

    class Meta:
        verbose_name = "مهر زمانی"
        verbose_name_plural = "مهرهای زمانی"

    def __str__(self) -> str:
        return f"TST {self.pk} ({self.gen_time:%Y-%m-%d %H:%M:%S})"


class OCSPChange(models.Model):
    """A certificate's status changed (revocation, hold, release): written in the change's own
    transaction, so every responder process sees it exactly when it commits. Each process reads
    the recent ones a few times a second and forgets the answers it keeps for those serials
    (:func:`ramis.ca.responder.poll_changes`); rows older than a day are removed by the beat."""

    serial_hex = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "تغییر وضعیت برای OCSP"
        verbose_name_plural = "تغییرهای وضعیت برای OCSP"

    def __str__(self) -> str:
        return f"{self.serial_hex} @ {self.created_at:%Y-%m-%d %H:%M:%S}"
