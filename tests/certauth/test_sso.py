"""R4: login through the national services window, an OpenID Connect provider. The provider
here is a small OIDC token/userinfo/JWKS server on 127.0.0.1 that signs RS256 ID tokens, with
knobs for each way a provider fails (tests/e2e/test_national_window_journey.py runs the same
cases in Chromium against panva's oidc-provider)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ramis.common.models import AuditEntry

CLIENT_ID = "ramis-portal"


class Provider:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_key = self.key  # set to another key: ID tokens signed with a key not in the JWKS
        self.codes: dict[str, dict] = {}
        self.token_status: int | None = None  # the token endpoint answers this error status
        self.userinfo_status: int | None = None
        self.token_delay = 0.0
        self.token_auth: str | None = None  # the Authorization header of the last token request
        self.server = HTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = self.url
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def issue_code(self, *, nonce: str, claims: dict, issuer: str | None = None, audience: str = CLIENT_ID) -> str:
        code = f"code-{len(self.codes)}"
        self.codes[code] = {"nonce": nonce, "claims": claims, "iss": issuer or self.issuer, "aud": audience}
        return code

    def _handler(provider):  # noqa: N805
        class Handler(BaseHTTPRequestHandler):
            def _json(self, data, status=200):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                provider.token_auth = self.headers.get("Authorization")
                time.sleep(provider.token_delay)
                if provider.token_status:
                    return self._json({"error": "server_error"}, provider.token_status)
                grant = provider.codes.pop(form["code"][0], None)  # a code works once
                if grant is None or form["client_id"][0] != CLIENT_ID:
                    return self._json({"error": "invalid_grant"}, 400)
                now = int(time.time())
                id_token = jwt.encode(
                    {"iss": grant["iss"], "aud": grant["aud"], "sub": grant["claims"]["national_code"],
                     "iat": now, "exp": now + 300, "nonce": grant["nonce"]},
                    provider.signing_key, algorithm="RS256", headers={"kid": "k1"},
                )
                token = f"at-{form['code'][0]}"
                provider.codes[token] = grant
                return self._json({"id_token": id_token, "access_token": token, "token_type": "Bearer"})

            def do_GET(self):  # noqa: N802
                if self.path == "/jwks":
                    jwk = RSAAlgorithm.to_jwk(provider.key.public_key(), as_dict=True)
                    return self._json({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                if self.path == "/userinfo":
                    if provider.userinfo_status:
                        return self._json({"error": "server_error"}, provider.userinfo_status)
                    grant = provider.codes.get(self.headers["Authorization"].removeprefix("Bearer "))
                    if grant is None:
                        return self._json({}, 401)
                    return self._json({"sub": grant["claims"]["national_code"], **grant["claims"]})
                return self._json({}, 404)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def provider(settings):
    p = Provider()
    settings.OIDC_OP_ISSUER = p.issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{p.url}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{p.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{p.url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{p.url}/jwks"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "certauth.oidc.NationalWindowBackend"]
    yield p
    p.server.shutdown()


def begin(client):
    response = client.get("/auth/sso/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID] and "code_challenge" in query  # PKCE
    return query["state"][0], query["nonce"][0]


def test_sso_login_opens_the_panel(client, provider, applicant_person):
    assert "پنجره ملی خدمات" in client.get("/auth/login/").content.decode()
    state, nonce = begin(client)
    code = provider.issue_code(nonce=nonce, claims={"national_code": "0499370899", "phone_number": "+989121234567"})
    response = client.get("/auth/sso/callback/", {"code": code, "state": state})
    assert response.status_code == 302 and response["Location"] == "/panel/"
    assert client.get("/panel/").status_code == 200
    assert AuditEntry.objects.filter(event="applicant.logged_in", extra__method="oidc").exists()


def test_sso_refuses_person_without_approved_introduction(client, provider, db):
    state, nonce = begin(client)
    code = provider.issue_code(nonce=nonce, claims={"national_code": "0499370899"})
    response = client.get("/auth/sso/callback/", {"code": code, "state": state})
    assert response["Location"] == "/auth/login/"
    assert client.get("/panel/").status_code == 302


def test_sso_refuses_mismatched_mobile(client, provider, applicant_person):
    state, nonce = begin(client)
    code = provider.issue_code(nonce=nonce, claims={"national_code": "0499370899", "phone_number": "09350000000"})
    client.get("/auth/sso/callback/", {"code": code, "state": state})
    assert client.get("/panel/").status_code == 302


def test_sso_refuses_wrong_nonce_or_audience(client, provider, applicant_person):
    state, _ = begin(client)
    code = provider.issue_code(nonce="forged", claims={"national_code": "0499370899"})
    client.get("/auth/sso/callback/", {"code": code, "state": state})
    assert client.get("/panel/").status_code == 302
    state, nonce = begin(client)
    code = provider.issue_code(nonce=nonce, claims={"national_code": "0499370899"}, audience="another-app")
    client.get("/auth/sso/callback/", {"code": code, "state": state})
    assert client.get("/panel/").status_code == 302


def test_sso_off_when_not_configured(client, db):
    assert client.get("/auth/sso/").status_code == 404
    assert "پنجره ملی خدمات" not in client.get("/auth/login/").content.decode()


A_CLAIMS = {"national_code": "0499370899", "phone_number": "+989121234567"}


def callback(client, provider, *, claims=A_CLAIMS, **code_kwargs):
    state, nonce = begin(client)
    code = provider.issue_code(nonce=nonce, claims=claims, **code_kwargs)
    return client.get("/auth/sso/callback/", {"code": code, "state": state})


def assert_refused(client, response, reason: str, message: str):
    """The callback ended on the login page with the Persian message, audited, with no session."""
    assert response.status_code == 302 and response["Location"] == "/auth/login/"
    page = client.get("/auth/login/").content.decode()
    assert message in page
    entry = AuditEntry.objects.filter(event="applicant.sso_failed").latest("id")
    assert entry.extra["reason"] == reason and entry.target_type == "certauth.national_window"
    assert client.get("/panel/").status_code == 302


UNAVAILABLE = "پنجره ملی خدمات اکنون پاسخ نمی‌دهد"
REJECTED = "پاسخ پنجره ملی خدمات پذیرفته نشد"


def test_id_token_signed_with_an_unpublished_key_is_refused_in_persian(client, provider, applicant_person):
    provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_refused(client, callback(client, provider), "bad_signature", REJECTED)


def test_wrong_issuer_and_audience_are_refused_in_persian(client, provider, applicant_person):
    assert_refused(client, callback(client, provider, issuer="http://127.0.0.1:9/other"), "wrong_issuer", REJECTED)
    assert_refused(client, callback(client, provider, audience="another-app"), "wrong_audience", REJECTED)


def test_wrong_nonce_is_refused_in_persian(client, provider, applicant_person):
    state, _ = begin(client)
    code = provider.issue_code(nonce="forged", claims=A_CLAIMS)
    assert_refused(client, client.get("/auth/sso/callback/", {"code": code, "state": state}), "bad_nonce", REJECTED)


@pytest.mark.parametrize(("status", "reason", "message"), [
    (500, "token_server_error", UNAVAILABLE), (503, "token_server_error", UNAVAILABLE),
    (401, "token_rejected", REJECTED),
])
def test_token_endpoint_errors_are_refused_in_persian(client, provider, applicant_person, status, reason, message):
    provider.token_status = status
    assert_refused(client, callback(client, provider), reason, message)


def test_token_endpoint_down_or_slow_is_refused_in_persian(client, provider, applicant_person, settings):
    import socket

    with socket.socket() as closed:  # a port nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{closed.getsockname()[1]}/token"
    assert_refused(client, callback(client, provider), "token_unreachable", UNAVAILABLE)
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.url}/token"
    settings.OIDC_TIMEOUT = 1
    provider.token_delay = 2
    assert_refused(client, callback(client, provider), "token_timeout", UNAVAILABLE)


def test_userinfo_error_is_refused_in_persian(client, provider, applicant_person):
    provider.userinfo_status = 502
    assert_refused(client, callback(client, provider), "userinfo_server_error", UNAVAILABLE)


def test_replayed_or_cancelled_callback_is_refused_in_persian(client, provider, applicant_person):
    state, nonce = begin(client)
    code = provider.issue_code(nonce=nonce, claims=A_CLAIMS)
    assert client.get("/auth/sso/callback/", {"code": code, "state": state})["Location"] == "/panel/"
    client.post("/auth/logout/")
    replay = client.get("/auth/sso/callback/", {"code": code, "state": state})
    assert_refused(client, replay, "bad_state", "پیش‌تر به کار رفته است")
    state, _ = begin(client)
    cancelled = client.get("/auth/sso/callback/", {"error": "access_denied", "state": state})
    assert_refused(client, cancelled, "cancelled", "لغو شد")


def test_client_secret_basic_is_chosen_from_the_settings(client, provider, applicant_person, settings):
    import base64

    settings.OIDC_RP_CLIENT_SECRET = "s3cret+with:odd%chars"
    settings.OIDC_RP_TOKEN_AUTH_METHOD = "client_secret_basic"
    assert callback(client, provider)["Location"] == "/panel/"
    user, secret = base64.b64decode(provider.token_auth.removeprefix("Basic ")).decode().split(":")
    assert (user, secret) == (CLIENT_ID, "s3cret%2Bwith%3Aodd%25chars")  # RFC 6749 §2.3.1
    client.post("/auth/logout/")
    settings.OIDC_RP_TOKEN_AUTH_METHOD = "client_secret_post"
    assert callback(client, provider)["Location"] == "/panel/"
    assert provider.token_auth is None


def test_failures_of_one_person_do_not_lock_another_on_the_same_ip(
    client, provider, applicant_person, other_applicant_person, settings,
):
    """Five refusals of person A (no approved introduction with this mobile) from one IP lock
    A on that IP, shown without the refusal message above it; person B still logs in there."""
    wrong_mobile = {**A_CLAIMS, "phone_number": "09350000000"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert_refused(client, callback(client, provider, claims=wrong_mobile), "not_introduced", "معرفی تأییدشده")
    locked = callback(client, provider, claims=wrong_mobile)
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "ورود موقتاً مسدود شد" in body and "معرفی تأییدشده" not in body
    again = callback(client, provider)  # A with the right mobile: still locked on this IP
    assert again.status_code == 429 and client.get("/panel/").status_code == 302
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"0499370899"}  # never None
    b_claims = {"national_code": "0013542419", "phone_number": "09351112233"}
    assert callback(client, provider, claims=b_claims)["Location"] == "/panel/"


def test_success_resets_the_persons_failures(client, provider, applicant_person, settings):
    from axes.models import AccessAttempt

    callback(client, provider, claims={**A_CLAIMS, "phone_number": "09350000000"})
    assert AccessAttempt.objects.filter(username="0499370899").exists()
    assert callback(client, provider)["Location"] == "/panel/"
    assert not AccessAttempt.objects.filter(username="0499370899").exists()


def test_logout_ends_the_providers_session(client, provider, applicant_person, settings):
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{provider.url}/session/end"
    assert callback(client, provider)["Location"] == "/panel/"
    id_token = client.session["oidc_id_token"]
    response = client.post("/auth/logout/")
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.url}/session/end"
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token] and query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://testserver/"]
    assert client.get("/panel/").status_code == 302
    assert AuditEntry.objects.filter(event="applicant.logged_out", extra__method="oidc").exists()


def test_logout_without_provider_endpoint_or_sso_stays_local(client, provider, applicant_person, settings):
    assert callback(client, provider)["Location"] == "/panel/"
    assert client.post("/auth/logout/")["Location"] == "/"  # no OIDC_OP_LOGOUT_ENDPOINT


def test_bad_request_page_is_persian(client, db, settings):
    settings.DEBUG = False
    response = client.get("/", HTTP_HOST="not-allowed.example")
    assert response.status_code == 400
    assert "درخواست نامعتبر" in response.content.decode() and 'dir="rtl"' in response.content.decode()


@pytest.mark.parametrize("answer", [b"not json", b"[1, 2]", b'{"access_token": "x"}'])
def test_token_endpoint_nonsense_is_refused_in_persian(client, provider, applicant_person, settings, answer):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Nonsense(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Nonsense)
    threading.Thread(target=server.handle_request, daemon=True).start()
    settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{server.server_port}/token"
    try:
        assert_refused(client, callback(client, provider), "token_invalid", REJECTED)
    finally:
        server.server_close()
