from __future__ import annotations

from django.conf import settings
from django.db import models
from django_fsm import transition

from ramis.common import validators
from ramis.common.fsm import ProtectedFSMModel, StateField
from ramis.common.uploads import private_upload_to


class SEODepartment(models.Model):
    """A department of the Securities and Exchange Organization that supervises companies."""

    name = models.CharField("نام", max_length=200, unique=True)

    class Meta:
        verbose_name = "مدیریت نظارتی سازمان بورس"
        verbose_name_plural = "مدیریت‌های نظارتی سازمان بورس"

    def __str__(self) -> str:
        return self.name


class Company(models.Model):
    name = models.CharField("نام شرکت", max_length=250)
    national_id = models.CharField(
        "شناسه ملی", max_length=11, unique=True, validators=[validators.validate_legal_national_id]
    )
    registration_number = models.CharField("شماره ثبت", max_length=30, blank=True)
    seo_department = models.ForeignKey(
        SEODepartment, verbose_name="مدیریت نظارتی", on_delete=models.PROTECT, related_name="companies"
    )

    class Meta:
        verbose_name = "شرکت"
        verbose_name_plural = "شرکت‌ها"

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    national_code = models.CharField(
        "کد ملی", max_length=10, unique=True, validators=[validators.validate_national_code]
    )
    first_name = models.CharField("نام", max_length=100)
    last_name = models.CharField("نام خانوادگی", max_length=100)
    father_name = models.CharField("نام پدر", max_length=100)
    birth_date = models.DateField("تاریخ تولد")
    birth_certificate_number = models.CharField("شماره شناسنامه", max_length=12)
    mobile = models.CharField("تلفن همراه", max_length=11, validators=[validators.validate_mobile])
    email = models.EmailField("رایانامه", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="person"
    )

    class Meta:
        verbose_name = "شخص"
        verbose_name_plural = "اشخاص"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class RoleQuerySet(models.QuerySet):
    def approved(self) -> RoleQuerySet:
        return self.filter(status=Role.Status.APPROVED)

    def with_parties(self) -> RoleQuerySet:
        return self.select_related("person", "company", "company__seo_department")


class Role(ProtectedFSMModel):
    """A company's introduction of a person for a position (R2).

    pending ──approve──▶ approved ──end──▶ ended
        └────reject───▶ rejected
    """

    class Status(models.TextChoices):
        PENDING = "pending", "در انتظار تأیید"
        APPROVED = "approved", "تأییدشده"
        REJECTED = "rejected", "ردشده"
        ENDED = "ended", "پایان‌یافته"

    class Position(models.TextChoices):
        CEO = "ceo", "مدیرعامل"
        CHAIRMAN = "chairman", "رئیس هیئت‌مدیره"
        BOARD_MEMBER = "board_member", "عضو هیئت‌مدیره"
        AUTHORISED_SIGNATORY = "signatory", "صاحب امضای مجاز"
        COMPLIANCE_OFFICER = "compliance", "مسئول تطبیق"
        EMPLOYEE = "employee", "کارمند"

    person = models.ForeignKey(Person, verbose_name="شخص", on_delete=models.PROTECT, related_name="roles")
    company = models.ForeignKey(Company, verbose_name="شرکت", on_delete=models.PROTECT, related_name="roles")
    position = models.CharField("سمت", max_length=20, choices=Position.choices)
    has_signing_authority = models.BooleanField(
        "دارای حق امضا برای شرکت", default=False,
        help_text="فقط نقشی که حق امضا دارد می‌تواند گواهی مهر سازمانی درخواست کند.",
    )
    introduction_letter = models.FileField(
        "معرفی‌نامه", upload_to=private_upload_to("introductions"), blank=True
    )
    letter_number = models.CharField("شماره معرفی‌نامه", max_length=50, blank=True)
    status = StateField("وضعیت", default=Status.PENDING, choices=Status.choices, protected=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField("دلیل", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = "معرفی (نقش)"
        verbose_name_plural = "معرفی‌ها (نقش‌ها)"
        permissions = [("review_role", "Can approve, reject and end introductions")]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "company", "position"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="one_live_introduction_per_position",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_position_display()} {self.company}"

    @transition(field=status, source=Status.PENDING, target=Status.APPROVED, permission="registry.review_role")
    def approve(self):
        pass

    @transition(field=status, source=Status.PENDING, target=Status.REJECTED, permission="registry.review_role")
    def reject(self):
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.ENDED, permission="registry.review_role")
    def end(self):
        pass
