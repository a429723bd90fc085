"""Login through the national government services window (R4) as an OpenID Connect client.

The provider does its own mobile + captcha + SMS check; we accept its ID token, find the person
by the national-code claim (and, when the provider sends one, the mobile claim), and require an
approved introduction exactly as the SMS login does. The session is then marked as verified by
a second factor through an ``SSODevice`` so the panel treats it like an SMS-verified login.

Every way the callback can fail (the provider refusing or cancelling, a bad state, the token
endpoint down, slow or refusing us, an ID token with an unknown key, a wrong issuer or audience,
a userinfo error, a person without an approved introduction) ends on the login page with a
Persian message and an ``applicant.sso_failed`` audit entry naming the reason: never a 400/500.
Failures of a known person count in django-axes against (national code, IP) together, so one
person's failures never lock another person out of the same office network.
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from urllib.parse import quote_plus, urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.views.generic import View
from django_otp import login as otp_login
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify
from mozilla_django_oidc.views import OIDCAuthenticationRequestView
from requests.auth import HTTPBasicAuth

from ramis.common import audit
from ramis.common.context import audit_context
from ramis.common.validators import is_valid_national_code, normalize_mobile, normalize_national_code

from .models import SSODevice, User
from .services import applicant_user_for_person

logger = logging.getLogger(__name__)

UNAVAILABLE = "پنجره ملی خدمات اکنون پاسخ نمی‌دهد. چند دقیقه دیگر دوباره تلاش کنید یا با کد پیامکی وارد شوید."
REJECTED = ("پاسخ پنجره ملی خدمات پذیرفته نشد و ورود انجام نشد. دوباره تلاش کنید؛ اگر تکرار شد "
            "با کد پیامکی وارد شوید و به پشتیبانی خبر دهید.")
#: The Persian message shown on the login page for each reason code of ``applicant.sso_failed``.
MESSAGES = {
    "cancelled": "ورود در پنجره ملی خدمات لغو شد یا انجام نشد.",
    "bad_state": "این پاسخ پنجره ملی خدمات معتبر نیست یا پیش‌تر به کار رفته است. دوباره وارد شوید.",
    # token_*, jwks_*, userinfo_*: the provider's endpoint did not answer, or answered an error
    **{f"{stage}_{what}": UNAVAILABLE for stage in ("token", "jwks", "userinfo")
       for what in ("unreachable", "timeout", "server_error")},
    **{f"{stage}_rejected": REJECTED for stage in ("token", "jwks", "userinfo")},
    "token_invalid": REJECTED,
    "bad_signature": REJECTED,
    "wrong_issuer": REJECTED,
    "wrong_audience": REJECTED,
    "bad_nonce": REJECTED,
    "expired": REJECTED,
    "userinfo_invalid": REJECTED,
    "userinfo_mismatch": REJECTED,
    "no_national_code": "پنجره ملی خدمات کد ملی شما را نفرستاد؛ ورود انجام نشد. با کد پیامکی وارد شوید.",
    "not_introduced": "ورود از طریق پنجره ملی خدمات ناموفق بود یا برای شما معرفی تأییدشده‌ای ثبت نشده است.",
}


class _ProviderTarget:
    """What the audit entries of failures name as their target: the provider (no row stands for it)."""

    _meta = SimpleNamespace(label_lower="certauth.national_window")
    pk = "national-window"

    def __str__(self) -> str:
        return "پنجره ملی خدمات"


class SSOFailure(Exception):
    """The callback cannot log anyone in; ``reason`` is the audit's reason code."""

    def __init__(self, reason: str, detail: str = "", national_code: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:300]
        self.national_code = national_code


def oidc_enabled() -> bool:
    return bool(settings.OIDC_OP_AUTHORIZATION_ENDPOINT)


def claim_national_code(claims: dict) -> str:
    return normalize_national_code(str(claims.get(settings.OIDC_NATIONAL_CODE_CLAIM) or ""))


def _http_failure(stage: str, exc: requests.RequestException) -> SSOFailure:
    if isinstance(exc, requests.Timeout):
        return SSOFailure(f"{stage}_timeout", str(exc))
    if isinstance(exc, requests.ConnectionError):
        return SSOFailure(f"{stage}_unreachable", str(exc))
    status = getattr(exc.response, "status_code", None) or 0
    return SSOFailure(f"{stage}_server_error" if status >= 500 else f"{stage}_rejected", str(exc))


class NationalWindowBackend(OIDCAuthenticationBackend):
    """Talks to the provider (``exchange``) and, through ``authenticate``, turns verified claims
    into the introduced person's account. ``authenticate`` gets only claims already verified by
    ``exchange``: it is reached through ``django.contrib.auth.authenticate`` so that django-axes
    sees the national code."""

    def get_token(self, payload):
        if settings.OIDC_RP_TOKEN_AUTH_METHOD != "client_secret_basic":  # noqa: S105 (a method name)
            return super().get_token(payload)
        # RFC 6749 §2.3.1: the id and secret are form-encoded before they go into Basic auth
        # (requests' HTTPBasicAuth alone would send a secret with "+", "%" or ":" wrongly).
        payload = dict(payload)
        secret = payload.pop("client_secret", "")
        response = requests.post(
            self.OIDC_OP_TOKEN_ENDPOINT, data=payload,
            auth=HTTPBasicAuth(quote_plus(payload.get("client_id", "")), quote_plus(secret)),
            verify=self.get_settings("OIDC_VERIFY_SSL", True), timeout=self.get_settings("OIDC_TIMEOUT", None),
            proxies=self.get_settings("OIDC_PROXY", None),
        )
        self.raise_token_response_error(response)
        return response.json()

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if settings.OIDC_OP_ISSUER and payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SSOFailure("wrong_issuer", f"iss={payload.get('iss')!r}")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SSOFailure("wrong_audience", f"aud={audience!r}")
        return payload

    def exchange(self, request, *, code: str, nonce: str | None, code_verifier: str | None) -> dict:
        """The code for tokens, the ID token checked, the userinfo claims fetched: the claims,
        or ``SSOFailure`` with the reason."""
        self.request = request
        token_payload = {
            "client_id": self.OIDC_RP_CLIENT_ID, "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": absolutify(request, reverse(settings.OIDC_AUTHENTICATION_CALLBACK_URL)),
        }
        if code_verifier is not None:
            token_payload["code_verifier"] = code_verifier
        try:
            token_info = self.get_token(token_payload)
        except ValueError as exc:  # not JSON (requests' JSONDecodeError is a RequestException too)
            raise SSOFailure("token_invalid", str(exc)) from exc
        except requests.RequestException as exc:
            raise _http_failure("token", exc) from exc
        if not isinstance(token_info, dict):
            raise SSOFailure("token_invalid", "the token response is not a JSON object")
        id_token, access_token = token_info.get("id_token"), token_info.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SSOFailure("token_invalid", "no id_token or access_token in the token response")
        payload = self._checked_id_token(id_token, nonce)
        try:
            userinfo = self.get_userinfo(access_token, id_token, payload)
        except (ValueError, SuspiciousOperation, jwt.PyJWTError) as exc:  # ValueError first, as above
            raise SSOFailure("userinfo_invalid", str(exc)) from exc
        except requests.RequestException as exc:
            raise _http_failure("userinfo", exc) from exc
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            raise SSOFailure("userinfo_mismatch", "the userinfo's sub is not the ID token's")
        self.store_tokens(access_token, id_token)
        return {**payload, **userinfo}  # the userinfo's claims win; the ID token's fill the gaps

    def _checked_id_token(self, id_token: str, nonce: str | None) -> dict:
        try:
            payload = self.verify_token(id_token, nonce=nonce)
        except SSOFailure:
            raise
        except requests.RequestException as exc:
            raise _http_failure("jwks", exc) from exc
        except jwt.ExpiredSignatureError as exc:
            raise SSOFailure("expired", str(exc)) from exc
        except (SuspiciousOperation, jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            message = str(exc)
            raise SSOFailure("bad_nonce" if "Nonce" in message else "bad_signature", message) from exc
        if "exp" not in payload or payload["exp"] < time.time():
            raise SSOFailure("expired", "the ID token has no exp or it has passed")
        return payload

    def authenticate(self, request, national_window_claims=None, **kwargs):
        if request is None or national_window_claims is None:
            return None
        self.request = request
        return self.user_for_claims(national_window_claims)

    def user_for_claims(self, claims: dict) -> User | None:
        from ramis.registry.models import Person, Role

        code = claim_national_code(claims)
        if not is_valid_national_code(code):
            return None
        people = Person.objects.filter(national_code=code, roles__status=Role.Status.APPROVED).distinct()
        mobile = claims.get(settings.OIDC_MOBILE_CLAIM)
        if mobile:
            people = people.filter(mobile=normalize_mobile(str(mobile)))
        person = people.first()
        if person is None:
            return None
        user = applicant_user_for_person(person=person, ctx=audit_context(self.request))
        return user if user.is_active else None

    def create_user(self, claims):  # never: only introduced persons may log in
        return None


def provider_logout_url(request, id_token: str) -> str | None:
    """RP-initiated logout: where to send the browser so the provider's session ends too."""
    endpoint = settings.OIDC_OP_LOGOUT_ENDPOINT
    if not endpoint or not id_token:
        return None
    query = urlencode({
        "id_token_hint": id_token, "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
    })
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _require_enabled():
    if not oidc_enabled():
        raise Http404


class SSOStartView(OIDCAuthenticationRequestView):
    def __init__(self, *args, **kwargs):
        _require_enabled()
        super().__init__(*args, **kwargs)


class SSOCallbackView(View):
    """The provider's redirect back: state, code for tokens, claims, the person, the session."""

    http_method_names = ["get"]

    def get(self, request):
        _require_enabled()
        request.national_window_login = True  # certauth.backends: axes keys this login by (code, IP)
        try:
            nonce, code_verifier = self._take_state(request)
            claims = NationalWindowBackend().exchange(request, code=request.GET["code"], nonce=nonce,
                                                      code_verifier=code_verifier)
        except SSOFailure as failure:
            return self._failure(request, failure)
        code = claim_national_code(claims)
        if not is_valid_national_code(code):
            return self._failure(request, SSOFailure("no_national_code", f"claim {settings.OIDC_NATIONAL_CODE_CLAIM}"))
        user = auth.authenticate(request, national_code=code, national_window_claims=claims)
        if getattr(request, "axes_locked_out", False):
            self._audit(request, SSOFailure("locked_out", national_code=code))
            return render(request, "certauth/locked.html", status=429)  # no failure message above it
        if user is None:
            return self._failure(request, SSOFailure("not_introduced", national_code=code))
        return self._success(request, user, claims)

    def _take_state(self, request) -> tuple[str | None, str | None]:
        states = request.session.get("oidc_states")
        state = request.GET.get("state")
        entry = states.get(state) if isinstance(states, dict) and state else None
        if entry is not None:  # a state works once, whatever the outcome
            del states[state]
            request.session.modified = True
        if request.GET.get("error"):
            raise SSOFailure("cancelled", f"{request.GET.get('error')}: {request.GET.get('error_description', '')}")
        if entry is None or not request.GET.get("code"):
            raise SSOFailure("bad_state", "unknown, used or missing state, or no code")
        return entry.get("nonce"), entry.get("code_verifier")

    def _audit(self, request, failure: SSOFailure) -> None:
        extra = {"reason": failure.reason}
        if failure.national_code:
            extra["national_code"] = failure.national_code
        audit.record(actor=None, target=_ProviderTarget(), event="applicant.sso_failed", reason=failure.detail,
                     extra=extra, ctx=audit_context(request))

    def _failure(self, request, failure: SSOFailure):
        logger.warning("national-window login failed: %s", failure)
        self._audit(request, failure)
        if request.user.is_authenticated:
            auth.logout(request)
        messages.error(request, MESSAGES[failure.reason])
        return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))

    def _success(self, request, user, claims: dict):
        auth.login(request, user, backend="certauth.oidc.NationalWindowBackend")
        device, _ = SSODevice.objects.get_or_create(user=user, defaults={"name": "national-window",
                                                                         "confirmed": True})
        otp_login(request, device)
        names = {key: str(claims.get(getattr(settings, setting)) or "")
                 for key, setting in (("first_name", "OIDC_FIRST_NAME_CLAIM"), ("last_name", "OIDC_LAST_NAME_CLAIM"))}
        audit.record(actor=user, target=user, event="applicant.logged_in",
                     extra={"method": "oidc", "provider_names": names}, ctx=audit_context(request))
        next_url = request.session.pop("oidc_login_next", None)
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
