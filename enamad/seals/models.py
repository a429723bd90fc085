"""e-Namad seals: the public seal of an approved business and its monitoring state (N16–N18, N22)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from enamad.businesses.models import Business, BusinessStatus, seal_in_force_q, seal_vouches
from enamad.common import random_code

# --- Seals (N16–N18, N22) ---------------------------------------------------------------------


class SealQuerySet(models.QuerySet):
    def public(self) -> SealQuerySet:
        """Seals the public registry lists: in force (``seal_vouches``)."""
        return self.filter(seal_in_force_q("business__", timezone.now()))

    def monitored(self) -> SealQuerySet:
        """Seals the monitor re-checks (N21): every seal that vouches (``seal_vouches``: approved,
        or in the review of its renewal, within its year), and those the monitor itself suspended
        (so that a restored check can restore them)."""
        now = timezone.now()
        return self.filter(seal_in_force_q("business__", now) | Q(
            expires_at__gt=now, business__status=BusinessStatus.SUSPENDED, suspended_by_monitor=True))


class Seal(models.Model):
    business = models.OneToOneField(Business, on_delete=models.PROTECT, related_name="seal")
    number = models.PositiveBigIntegerField("شناسه نماد", unique=True)
    code = models.CharField(max_length=32, unique=True, default=random_code)
    stars = models.PositiveSmallIntegerField("تعداد ستاره", default=1)
    granted_at = models.DateTimeField("تاریخ اعطا")
    expires_at = models.DateTimeField("تاریخ انقضا", db_index=True)
    tls_checked_at = models.DateTimeField(null=True, blank=True)
    # Monitoring (N21): what the last check found and when the next one is due.
    monitor_due_at = models.DateTimeField("بررسی بعدی", null=True, blank=True, db_index=True)
    monitored_at = models.DateTimeField("آخرین بررسی", null=True, blank=True)
    reachable = models.BooleanField("در دسترس", default=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    domain_failing_since = models.DateTimeField("تأییدیه فنی از", null=True, blank=True)
    monitor_error = models.TextField(blank=True)
    suspended_by_monitor = models.BooleanField(default=False)
    # Checks failed in a row (N21): a failure is acted on only after ENAMAD_MONITOR_FAILURES of them.
    failed_checks = models.PositiveSmallIntegerField("بررسی‌های ناموفق پیاپی", default=0)
    # Expiry reminders (30 and 7 days): the smallest threshold already reminded of.
    reminder_days_sent = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = SealQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = "نماد"
        verbose_name_plural = "نمادها"

    def __str__(self) -> str:
        return f"seal {self.number} ({self.business.domain})"

    @property
    def is_active(self) -> bool:
        business = self.business
        return seal_vouches(status=business.status, renewing=business.renewing, expires_at=self.expires_at)
