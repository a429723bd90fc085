from __future__ import annotations

from django.conf import settings
from django.db import models

from ramis.common import validators


class OfficeQuerySet(models.QuerySet):
    def active(self) -> OfficeQuerySet:
        return self.filter(is_active=True)


class RegistrationOffice(models.Model):
    """A registration office (دفتر ثبت‌نام) of the capital market's CA (R1, R7)."""

    code = models.CharField("کد دفتر", max_length=10, unique=True)
    name = models.CharField("نام", max_length=200)
    city = models.CharField("شهر", max_length=100, db_index=True)
    address = models.TextField("نشانی")
    phone = models.CharField("تلفن", max_length=11, validators=[validators.validate_landline])
    hours = models.CharField("ساعات کاری", max_length=200, default="شنبه تا چهارشنبه ۹:۳۰–۱۲:۳۰ و ۱۳:۳۰–۱۵:۰۰")
    offers_in_person = models.BooleanField("خدمت حضوری", default=True)
    offers_on_site = models.BooleanField("خدمت در محل", default=False)
    is_active = models.BooleanField("فعال", default=True)

    objects = OfficeQuerySet.as_manager()

    class Meta:
        ordering = ["city", "name"]
        verbose_name = "دفتر ثبت‌نام"
        verbose_name_plural = "دفاتر ثبت‌نام"

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


class Clerk(models.Model):
    """A staff user who works at one office and sees only its requests (X7)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clerk")
    office = models.ForeignKey(RegistrationOffice, on_delete=models.PROTECT, related_name="clerks")

    class Meta:
        verbose_name = "کارشناس دفتر"
        verbose_name_plural = "کارشناسان دفاتر"

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} — {self.office}"
