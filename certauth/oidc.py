"""Login through the national government services window (R4) as an OpenID Connect client.

The provider does its own mobile + captcha + SMS check; we accept its ID token, find the person
by the national-code claim (and, when the provider sends one, the mobile claim), and require an
approved introduction exactly as the SMS login does. The session is then marked as verified by
a second factor through an ``SSODevice`` so the panel treats it like an SMS-verified login.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django_otp import login as otp_login
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from ramis.common import audit
from ramis.common.validators import is_valid_national_code, normalize_mobile, normalize_national_code

from .models import SSODevice, User
from .services import applicant_user_for_person

logger = logging.getLogger(__name__)


def oidc_enabled() -> bool:
    return bool(settings.OIDC_OP_AUTHORIZATION_ENDPOINT)


class NationalWindowBackend(OIDCAuthenticationBackend):
    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if settings.OIDC_OP_ISSUER and payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("ID token issuer mismatch")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token audience mismatch")
        return payload

    def verify_claims(self, claims):
        code = normalize_national_code(str(claims.get(settings.OIDC_NATIONAL_CODE_CLAIM, "")))
        return is_valid_national_code(code)

    def filter_users_by_claims(self, claims):
        from ramis.registry.models import Person, Role

        code = normalize_national_code(str(claims.get(settings.OIDC_NATIONAL_CODE_CLAIM, "")))
        people = Person.objects.filter(national_code=code, roles__status=Role.Status.APPROVED).distinct()
        mobile = claims.get(settings.OIDC_MOBILE_CLAIM)
        if mobile:
            people = people.filter(mobile=normalize_mobile(str(mobile)))
        person = people.first()
        if person is None:
            return User.objects.none()
        user = applicant_user_for_person(person=person, request=self.request)
        return User.objects.filter(pk=user.pk)

    def create_user(self, claims):  # never: only introduced persons may log in
        return None


def _require_enabled():
    if not oidc_enabled():
        raise Http404


class SSOStartView(OIDCAuthenticationRequestView):
    def __init__(self, *args, **kwargs):
        _require_enabled()
        super().__init__(*args, **kwargs)


class SSOCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        _require_enabled()
        return super().get(request)

    def login_failure(self):
        messages.error(self.request, "ورود از طریق پنجره ملی خدمات ناموفق بود یا برای شما معرفی تأییدشده‌ای ثبت نشده است.")
        return super().login_failure()

    def login_success(self):
        response = super().login_success()
        device, _ = SSODevice.objects.get_or_create(user=self.user, defaults={"name": "national-window",
                                                                              "confirmed": True})
        otp_login(self.request, device)
        audit.record(actor=self.user, target=self.user, event="applicant.logged_in", extra={"method": "oidc"},
                     request=self.request)
        return response
