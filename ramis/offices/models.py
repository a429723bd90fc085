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
    offers_in_person = models.BooleanField("خدمت حضوری", default=True)
    offers_on_site = models.BooleanField("خدمت در محل", default=False)
    is_active = models.BooleanField("فعال", default=True)
    slot_minutes = models.PositiveSmallIntegerField("طول هر نوبت (دقیقه)", default=30)
    slot_capacity = models.PositiveSmallIntegerField("ظرفیت هر نوبت (نفر)", default=2)

    objects = OfficeQuerySet.as_manager()

    class Meta:
        ordering = ["city", "name"]
        verbose_name = "دفتر ثبت‌نام"
        verbose_name_plural = "دفاتر ثبت‌نام"

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"

    @property
    def working_hours(self) -> str:
        """The hours shown to applicants, written from the working periods that make the slots
        (prefetch ``working_periods`` for a list)."""
        from .hours import describe_week

        return describe_week(self)


class Clerk(models.Model):
    """A staff user who works at one office and sees only its requests (X7)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clerk")
    office = models.ForeignKey(RegistrationOffice, on_delete=models.PROTECT, related_name="clerks")

    class Meta:
        verbose_name = "کارشناس دفتر"
        verbose_name_plural = "کارشناسان دفاتر"

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} — {self.office}"


# --- Office data for requests: working hours, holidays, tariffs, token catalogue (R7, R8, R12, R21) ----------


class Weekday(models.IntegerChoices):
    """Python's ``date.weekday()`` numbering, labelled in Persian (the Iranian week starts on Saturday)."""

    SATURDAY = 5, "شنبه"
    SUNDAY = 6, "یکشنبه"
    MONDAY = 0, "دوشنبه"
    TUESDAY = 1, "سه‌شنبه"
    WEDNESDAY = 2, "چهارشنبه"
    THURSDAY = 3, "پنجشنبه"
    FRIDAY = 4, "جمعه"


class WorkingPeriod(models.Model):
    """One opening period of an office on a weekday (e.g. Saturday 9:30–12:30).

    An office with no periods of its own works the default week (``ramis.offices.hours``):
    Saturday to Wednesday 9:30–12:30 and 13:30–15:00, closed Thursday and Friday.
    """

    office = models.ForeignKey(RegistrationOffice, on_delete=models.CASCADE, related_name="working_periods")
    weekday = models.PositiveSmallIntegerField("روز هفته", choices=Weekday.choices)
    start = models.TimeField("از ساعت")
    end = models.TimeField("تا ساعت")

    class Meta:
        ordering = ["office", "weekday", "start"]
        verbose_name = "ساعت کاری"
        verbose_name_plural = "ساعات کاری"
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="period_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class Holiday(models.Model):
    """A closed day: for every office (``office`` empty) or for one office."""

    date = models.DateField("تاریخ", db_index=True)
    title = models.CharField("مناسبت", max_length=200)
    office = models.ForeignKey(
        RegistrationOffice, null=True, blank=True, on_delete=models.CASCADE, related_name="holidays",
        help_text="خالی: تعطیل برای همه دفاتر",
    )

    class Meta:
        ordering = ["date"]
        verbose_name = "تعطیلی"
        verbose_name_plural = "تعطیلات"

    def __str__(self) -> str:
        return f"{self.date} {self.title}"


class TokenModel(models.Model):
    """A hardware token on sale at the offices (R8)."""

    name = models.CharField("نام", max_length=100, unique=True)
    manufacturer = models.CharField("سازنده", max_length=100, blank=True)
    description = models.CharField("توضیح", max_length=300, blank=True)
    price_rials = models.PositiveBigIntegerField("قیمت (ریال)")
    is_active = models.BooleanField("قابل فروش", default=True)

    class Meta:
        ordering = ["price_rials", "name"]
        verbose_name = "مدل توکن"
        verbose_name_plural = "فهرست توکن‌ها"

    def __str__(self) -> str:
        return self.name


class TariffQuerySet(models.QuerySet):
    def in_force(self, on) -> TariffQuerySet:
        return self.filter(valid_from__lte=on).order_by("item", "validity_years", "-valid_from")


class Tariff(models.Model):
    """A fee and its split between the two payees of an invoice (R21): the treasury's share and
    the registration office's share. The row with the latest ``valid_from`` not in the future wins."""

    class Item(models.TextChoices):
        SIGNATURE_CERTIFICATE = "signature", "گواهی امضا"
        SEAL_CERTIFICATE = "seal", "گواهی مهر سازمانی"
        ON_SITE_SERVICE = "on_site", "خدمت در محل"

    item = models.CharField("بابت", max_length=20, choices=Item.choices)
    validity_years = models.PositiveSmallIntegerField(
        "مدت اعتبار (سال)", default=0, help_text="برای گواهی‌ها: ۱ یا ۲؛ برای خدمت در محل: ۰",
    )
    treasury_rials = models.PositiveBigIntegerField("سهم خزانه (ریال)", default=0)
    office_rials = models.PositiveBigIntegerField("سهم دفتر ثبت‌نام (ریال)", default=0)
    valid_from = models.DateField("معتبر از")

    objects = TariffQuerySet.as_manager()

    class Meta:
        ordering = ["item", "validity_years", "-valid_from"]
        verbose_name = "تعرفه"
        verbose_name_plural = "تعرفه‌ها"
        constraints = [
            models.UniqueConstraint(fields=["item", "validity_years", "valid_from"], name="one_tariff_per_day")
        ]

    def __str__(self) -> str:
        years = f" {self.validity_years} ساله" if self.validity_years else ""
        return f"{self.get_item_display()}{years} از {self.valid_from}"

    @property
    def total_rials(self) -> int:
        return self.treasury_rials + self.office_rials
