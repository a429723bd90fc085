"""Issue 17: the national-window login (R4) in Chromium against a real OpenID provider, panva's
``oidc-provider`` (tests/e2e/oidc/provider.js; `make oidc-provider` installs it into
var/oidc-provider/), on 127.0.0.1 with its development interactions (any login and password;
the login is the national code). The national code comes in the provider's own scope.

Each numbered problem of the issue: (1) an ID token signed with an unpublished key, a wrong
issuer or audience; (2) a wrong client secret, the token endpoint answering 5xx, slow or down,
the userinfo endpoint failing: all end on the login page with a Persian message and an audit
entry; (3) one person's failures lock only that person on the IP, and the lock-out page shows
no failure message; (4) logout ends the provider's session too; (5) scopes, claim names and
the token endpoint's auth method come from the settings."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlencode, urlparse
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from ramis.common.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "var" / "oidc-provider" / "node_modules"
SECRET = "portal-secret+with/odd=chars"  # noqa: S105 (the test provider's client secret)
A = "0499370899"  # the introduced applicant (tests/conftest.py applicant_person)
B = "0013542419"  # another introduced applicant (other_applicant_person)
STRANGER = "1234567891"  # a valid national code nobody introduced
ACCOUNTS = {
    A: {"phone_number": "+989121234567", "given_name": "علی", "family_name": "رضایی"},
    B: {"phone_number": "09351112233", "given_name": "مریم", "family_name": "احمدی"},
    STRANGER: {"phone_number": "09120000001"},
}
BUTTON = "ورود از طریق پنجره ملی خدمات دولت هوشمند"
UNAVAILABLE = "پنجره ملی خدمات اکنون پاسخ نمی‌دهد"
REJECTED = "پاسخ پنجره ملی خدمات پذیرفته نشد"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def oidc_provider(live_server):
    """The provider process, with the portal registered as a client."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None or not (MODULES / "oidc-provider").is_dir():
        pytest.fail("the test OpenID provider is not installed: run `make oidc-provider` (`make test` does)")
    client = {
        "client_secret": SECRET, "redirect_uris": [f"{live_server.url}/auth/sso/callback/"],
        "post_logout_redirect_uris": [f"{live_server.url}/"], "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    port = _free_port()
    config = {"modules": str(MODULES), "port": port, "accounts": ACCOUNTS, "clients": [
        {**client, "client_id": "ramis-portal", "token_endpoint_auth_method": "client_secret_basic"},
    ]}
    process = subprocess.Popen([node, str(ROOT / "tests/e2e/oidc/provider.js"), json.dumps(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()  # "ready <issuer>", or "" if it died
        assert line.startswith("ready "), f"the test OpenID provider did not start ({line!r})"
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def set_mode(issuer: str, **knobs) -> None:
    with urlopen(f"{issuer}/__test/mode?{urlencode(knobs)}", timeout=5) as answer:  # noqa: S310 (127.0.0.1)
        assert json.load(answer) == {"ok": True}


@pytest.fixture
def national_window(oidc_provider, settings, page):
    """The portal configured for the provider as an operator would (docs/operator/national-window.md)."""
    issuer = oidc_provider
    settings.DEBUG = True
    settings.OIDC_OP_ISSUER = issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{issuer}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{issuer}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{issuer}/session/end"
    settings.OIDC_RP_CLIENT_ID = "ramis-portal"
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_RP_TOKEN_AUTH_METHOD = "client_secret_post"
    settings.OIDC_RP_SCOPES = "openid national_id phone profile"
    settings.OIDC_NATIONAL_CODE_CLAIM = "national_code"
    settings.OIDC_MOBILE_CLAIM = "phone_number"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "certauth.oidc.NationalWindowBackend"]
    # Nothing but loopback: the provider's development pages link web fonts on the Internet.
    page.context.route(lambda url: urlparse(url).hostname not in {"127.0.0.1", "localhost"},
                       lambda route: route.abort())
    set_mode(issuer)
    yield issuer
    set_mode(issuer)


def provider_login(page, national_code: str, *, consent: bool = True) -> None:
    """From the portal's login page through the provider's development login and consent."""
    page.goto("/auth/login/")
    page.get_by_role("link", name=BUTTON).click()
    page.locator("input[name=login]").fill(national_code)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    if consent:
        expect(page.get_by_text("national_id", exact=True)).to_be_visible()  # the provider's own scope is asked
        page.get_by_role("button", name="Continue").click()


def window_again(page) -> None:
    """The button again, the provider's session still open: straight back to the portal."""
    page.goto("/auth/login/")
    with page.expect_navigation():  # redirects through the provider; the next page is ours
        page.get_by_role("link", name=BUTTON).click()


def assert_refused_on_login_page(page, reason: str, message: str, shot=None) -> None:
    page.wait_for_url("**/auth/login/")
    expect(page.locator(".messages")).to_contain_text(message)
    if shot:
        shot(page, "national-window-3-refused")
    assert AuditEntry.objects.filter(event="applicant.sso_failed").latest("id").extra["reason"] == reason
    page.goto("/panel/")
    assert urlparse(page.url).path == "/auth/login/"  # no session: the panel sends to the login


@pytest.mark.django_db(transaction=True)
def test_login_with_own_scope_then_logout_ends_the_providers_session(page, national_window, applicant_person, shot):
    provider_login(page, A)
    page.wait_for_url("**/panel/")
    assert page.locator("#roles").inner_text().count("مدیرعامل") == 1
    shot(page, "national-window-1-panel")
    login = AuditEntry.objects.filter(event="applicant.logged_in", extra__method="oidc").latest("id")
    assert login.extra["provider_names"] == {"first_name": "علی", "last_name": "رضایی"}

    page.get_by_role("button", name="خروج").click()  # to the provider's end_session_endpoint
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")
    expect(page.locator(".messages")).to_contain_text("از سامانه خارج شدید")
    assert AuditEntry.objects.filter(event="applicant.logged_out", extra__method="oidc").exists()

    page.goto("/auth/login/")
    page.get_by_role("link", name=BUTTON).click()  # the provider asks who it is again
    expect(page.locator("input[name=login]")).to_be_visible()
    shot(page, "national-window-2-provider-asks-again")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("knobs", "reason", "message"), [
    ({"id_token": "unpublished"}, "bad_signature", REJECTED),
    ({"id_token": "wrong_issuer"}, "wrong_issuer", REJECTED),
    ({"id_token": "wrong_audience"}, "wrong_audience", REJECTED),
    ({"token_status": "500"}, "token_server_error", UNAVAILABLE),
    ({"token_status": "503"}, "token_server_error", UNAVAILABLE),
    ({"token_delay_ms": "2500"}, "token_timeout", UNAVAILABLE),
    ({"userinfo_status": "500"}, "userinfo_server_error", UNAVAILABLE),
])
def test_provider_failures_end_on_the_login_page_in_persian(
    page, national_window, applicant_person, settings, knobs, reason, message,
):
    if "token_delay_ms" in knobs:
        settings.OIDC_TIMEOUT = 1  # seconds; the provider answers after 2.5
    set_mode(national_window, **knobs)
    provider_login(page, A)
    assert_refused_on_login_page(page, reason, message)
    set_mode(national_window)
    settings.OIDC_TIMEOUT = 10
    window_again(page)  # the provider itself is fine again: the same person logs in
    page.wait_for_url("**/panel/")


@pytest.mark.django_db(transaction=True)
def test_wrong_secret_and_unreachable_token_endpoint_end_on_the_login_page(
    page, national_window, applicant_person, settings, shot,
):
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"  # the provider answers 401 invalid_client
    provider_login(page, A)
    assert_refused_on_login_page(page, "token_rejected", REJECTED, shot)
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{_free_port()}/token"  # connection refused
    window_again(page)
    assert_refused_on_login_page(page, "token_unreachable", UNAVAILABLE)


@pytest.mark.django_db(transaction=True)
def test_token_endpoint_auth_method_comes_from_the_settings(page, national_window, applicant_person, settings):
    """A provider taking only HTTP Basic: refused while we post the secret, in once the setting
    says client_secret_basic (the secret's "+", "/" and "=" form-encoded, as RFC 6749 wants)."""
    set_mode(national_window, require_token_auth="client_secret_basic")
    provider_login(page, A)
    assert_refused_on_login_page(page, "token_rejected", REJECTED)
    settings.OIDC_RP_TOKEN_AUTH_METHOD = "client_secret_basic"
    window_again(page)
    page.wait_for_url("**/panel/")
    set_mode(national_window, require_token_auth="client_secret_post")
    page.get_by_role("button", name="خروج").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")
    settings.OIDC_RP_TOKEN_AUTH_METHOD = "client_secret_post"
    provider_login(page, A)
    page.wait_for_url("**/panel/")


@pytest.mark.django_db(transaction=True)
def test_cancelled_consent_ends_on_the_login_page(page, national_window, db):
    provider_login(page, A, consent=False)
    page.get_by_role("link", name="[ Cancel ]").click()
    assert_refused_on_login_page(page, "cancelled", "لغو شد")


@pytest.mark.django_db(transaction=True)
def test_one_persons_failures_do_not_lock_another_on_the_same_ip(
    page, browser, live_server, national_window, applicant_person, other_applicant_person, settings, shot,
):
    provider_login(page, STRANGER)  # the provider knows them; nobody introduced them here
    assert_refused_on_login_page(page, "not_introduced", "معرفی تأییدشده")
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        window_again(page)
        assert_refused_on_login_page(page, "not_introduced", "معرفی تأییدشده")
    window_again(page)  # the limit: locked, and only the lock-out page says so
    expect(page.get_by_role("heading", name="ورود موقتاً مسدود شد")).to_be_visible()
    expect(page.locator(".messages")).to_have_count(0)
    shot(page, "national-window-4-locked")
    from axes.models import AccessAttempt

    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        (STRANGER, settings.AXES_FAILURE_LIMIT)]

    context = browser.new_context(locale="fa-IR", base_url=live_server.url)  # B, same office IP
    context.route(lambda url: urlparse(url).hostname not in {"127.0.0.1", "localhost"}, lambda route: route.abort())
    other = context.new_page()
    try:
        provider_login(other, B)
        other.wait_for_url("**/panel/")
        expect(other.get_by_role("heading", name="ورود موقتاً مسدود شد")).to_have_count(0)
    finally:
        context.close()
