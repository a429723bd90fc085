"""R4: login through the national services window, an OpenID Connect provider. The provider
here is a real OIDC token/userinfo/JWKS server on 127.0.0.1 that signs RS256 ID tokens."""

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
        self.codes: dict[str, dict] = {}
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
                grant = provider.codes.pop(form["code"][0], None)  # a code works once
                if grant is None or form["client_id"][0] != CLIENT_ID:
                    return self._json({"error": "invalid_grant"}, 400)
                now = int(time.time())
                id_token = jwt.encode(
                    {"iss": grant["iss"], "aud": grant["aud"], "sub": grant["claims"]["national_code"],
                     "iat": now, "exp": now + 300, "nonce": grant["nonce"]},
                    provider.key, algorithm="RS256", headers={"kid": "k1"},
                )
                token = f"at-{form['code'][0]}"
                provider.codes[token] = grant
                return self._json({"id_token": id_token, "access_token": token, "token_type": "Bearer"})

            def do_GET(self):  # noqa: N802
                if self.path == "/jwks":
                    jwk = RSAAlgorithm.to_jwk(provider.key.public_key(), as_dict=True)
                    return self._json({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                if self.path == "/userinfo":
                    grant = provider.codes.get(self.headers["Authorization"].removeprefix("Bearer "))
                    return self._json(grant["claims"]) if grant else self._json({}, 401)
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
