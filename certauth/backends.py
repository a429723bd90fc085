from __future__ import annotations

from django.contrib.auth.backends import BaseBackend
from django.db import transaction

from .models import SMSDevice, User
from .selectors import device_for_national_code


class ApplicantOTPBackend(BaseBackend):
    """Authenticates an applicant by national code + the SMS code sent to them.

    Called through ``django.contrib.auth.authenticate`` so that django-axes counts failures
    per national code and per IP like any other login."""

    def authenticate(self, request, national_code=None, otp=None, **kwargs):
        if not national_code or not otp:
            return None
        device = device_for_national_code(national_code)
        if device is None:
            return None
        with transaction.atomic():  # the row lock keeps parallel guesses within the failure limit
            device = SMSDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
            if not device.verify_token(otp):
                return None
        user = device.user
        user.otp_device = device  # django_otp.login() reads it
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user) -> bool:
        return getattr(user, "is_active", False)

    def get_user(self, user_id):
        try:
            return User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None


def _national_window(request) -> bool:
    return bool(getattr(request, "national_window_login", False))  # set by certauth.oidc.SSOCallbackView


def axes_username(request, credentials) -> str | None:
    """django-axes: the identity a failure counts against (staff username or national code).

    A national-window login counts against the national code of the provider's claims; its
    success (axes then passes the account's username, ``nc-<code>``) resets that same code."""
    credentials = credentials or {}
    username = credentials.get("username")
    if username and _national_window(request) and username.startswith("nc-"):
        return username.removeprefix("nc-")
    return username or credentials.get("national_code")


# Staff and SMS logins: the pair (user name, IP) is locked after too many failures, so an
# outsider's wrong passwords never lock the account for its owner at another address.
LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# National-window logins: only the pair (national code, IP) is locked: the provider has already
# checked the person (mobile, captcha, SMS), and an office behind one NAT address must not lock
# out its other people because one of them failed.
NATIONAL_WINDOW_LOCKOUT_PARAMETERS = [["username", "ip_address"]]


def axes_lockout_parameters(request, credentials) -> list:
    """django-axes' AXES_LOCKOUT_PARAMETERS, by the kind of login the request is."""
    return NATIONAL_WINDOW_LOCKOUT_PARAMETERS if _national_window(request) else LOCKOUT_PARAMETERS


__all__ = ["ApplicantOTPBackend", "SMSDevice", "axes_lockout_parameters", "axes_username"]
