from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django_otp.models import Device


class User(AbstractUser):
    """Staff log in with a password and TOTP; applicants have no password and log in with
    their identity and an SMS code (their ``username`` is ``nc-<national code>``). Anyone may also
    log in with a signature certificate of our CA (certauth/certificates.py): staff are found by
    ``national_code``, which the certificate's ``PNOIR-`` serialNumber carries."""

    national_code = models.CharField("کد ملی", max_length=10, blank=True, db_index=True,
                                     help_text="برای ورود کارکنان با گواهی الکترونیکی")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "کاربر"
        verbose_name_plural = "کاربران"


class SMSDevice(Device):
    """A one-time code sent by SMS (R3): 6 digits, stored as an HMAC, valid for
    ``OTP_SMS_VALIDITY_SECONDS``, single use, dead after ``OTP_SMS_MAX_ATTEMPTS`` wrong tries,
    and not re-sent sooner than ``OTP_SMS_RESEND_SECONDS``."""

    mobile = models.CharField(max_length=11)
    token_hash = models.CharField(max_length=64, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta(Device.Meta):
        verbose_name = "دستگاه پیامک"

    def _digest(self, token: str) -> str:
        key = f"{settings.SECRET_KEY}:sms-otp:{self.pk}".encode()
        return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()

    def can_send(self, now=None) -> bool:
        now = now or timezone.now()
        return self.last_sent_at is None or now - self.last_sent_at >= timedelta(
            seconds=settings.OTP_SMS_RESEND_SECONDS
        )

    def issue_code(self) -> str:
        """Make a new code (the old one dies); the caller sends it and saves the device."""
        token = f"{secrets.randbelow(10**6):06d}"
        now = timezone.now()
        self.token_hash = self._digest(token)
        self.valid_until = now + timedelta(seconds=settings.OTP_SMS_VALIDITY_SECONDS)
        self.failures = 0
        self.last_sent_at = now
        return token

    def verify_token(self, token) -> bool:
        """django-otp's entry point. Counts failures; a code is used at most once."""
        token = str(token or "").strip()
        if not self.token_hash or self.valid_until is None or timezone.now() > self.valid_until:
            return False
        if hmac.compare_digest(self._digest(token), self.token_hash):
            self.token_hash = ""
            self.valid_until = None
            self.failures = 0
            self.save(update_fields=["token_hash", "valid_until", "failures"])
            return True
        self.failures += 1
        if self.failures >= settings.OTP_SMS_MAX_ATTEMPTS:
            self.token_hash = ""
            self.valid_until = None
        self.save(update_fields=["token_hash", "valid_until", "failures"])
        return False


class SSODevice(Device):
    """Records that the second factor was done by the national services window (R4): the
    provider sent the SMS code. It verifies no token itself."""

    class Meta(Device.Meta):
        verbose_name = "ورود از پنجره ملی خدمات"

    def verify_token(self, token) -> bool:  # noqa: ARG002
        return False


class CertificateDevice(Device):
    """Records that this session was opened with a client certificate of our CA (the key on the
    holder's token, its PIN entered there): the second factor itself. It verifies no token."""

    class Meta(Device.Meta):
        verbose_name = "ورود با گواهی الکترونیکی"

    def verify_token(self, token) -> bool:  # noqa: ARG002
        return False
