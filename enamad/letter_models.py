"""The e-Namad commitment letter as issued (its fingerprint) and as signed with a RAMIS certificate
(issue 14). Imported by ``enamad.models`` so that Django sees the models; the logic is in
``enamad.signed_letter``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ramis.common.uploads import private_upload_to


class CommitmentLetter(models.Model):
    """The letter PDF issued for a business, kept byte for byte: what the owner downloads is this
    file, and a signed upload must be this file plus the signature's incremental update."""

    business = models.ForeignKey("enamad.Business", on_delete=models.CASCADE, related_name="commitment_letters")
    file = models.FileField(upload_to=private_upload_to("enamad/letters"))
    sha256 = models.CharField("اثر انگشت SHA-256", max_length=64, db_index=True)
    size = models.PositiveIntegerField("اندازه (بایت)")
    revisions = models.PositiveSmallIntegerField(default=1)  # the PDF's revisions (xref sections) as issued
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "تعهدنامه صادرشده"
        verbose_name_plural = "تعهدنامه‌های صادرشده"

    def __str__(self) -> str:
        return f"letter {self.pk} of {self.business_id} ({self.sha256[:12]})"


class SignedLetter(models.Model):
    """A signed letter that passed validation; ``report`` is what the documents officer sees."""

    class SignerKind(models.TextChoices):
        OWNER = "owner", "گواهی امضای خود مالک"
        SEAL = "seal", "گواهی مهر سازمانی شرکت"
        SIGNATORY = "signatory", "گواهی امضای صاحب امضای مجاز شرکت"

    business = models.ForeignKey("enamad.Business", on_delete=models.CASCADE, related_name="signed_letters")
    letter = models.ForeignKey(CommitmentLetter, on_delete=models.PROTECT, related_name="signed")
    file = models.FileField(upload_to=private_upload_to("enamad/signed-letters"))
    sha256 = models.CharField(max_length=64)
    signer_kind = models.CharField(max_length=10, choices=SignerKind.choices)
    signer_subject = models.CharField("امضاکننده", max_length=1000)
    certificate_serial = models.CharField("سریال گواهی", max_length=64)
    signed_at = models.DateTimeField("زمان مهر زمانی")
    report = models.JSONField("گزارش اعتبارسنجی", default=dict)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "تعهدنامه امضاشده الکترونیکی"
        verbose_name_plural = "تعهدنامه‌های امضاشده الکترونیکی"

    def __str__(self) -> str:
        return f"signed letter {self.pk} of {self.business_id}"
