"""`make prod-check`'s tests: the deployed topology (scripts/prod.py) on a throwaway PostgreSQL
and Redis (scripts/prod_check.py starts all of it, then runs this directory with
``-p no:django --confcutdir tests/prod``: these tests talk to the running servers through nginx
and read the shared database directly, like an operator's console; nothing runs in-process).

They are not part of `make test` (tests/conftest.py leaves this directory out).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import time
from pathlib import Path

import django
import pytest

if not os.environ.get("PROD_CHECK"):
    raise pytest.UsageError("tests/prod runs against a started topology: use `make prod-check`")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
django.setup()

from scripts.prod import Topology  # noqa: E402
from scripts.prod_check import Postgres, Redis  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def topology() -> Topology:
    return Topology()


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    return Postgres.from_env()


@pytest.fixture(scope="session")
def redis() -> Redis:
    return Redis.from_env()


def spki_sha256(cert_path: Path) -> str:
    """The base64 SHA-256 of the certificate's public key: Chromium trusts exactly that key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="session")
def browser(topology):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make prod-check` installs Debian's chromium package")
    # the start-up certificate is trusted by its key (and nothing else is); the portal's public
    # host name resolves to 127.0.0.1 for this browser only
    args = [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki_sha256(topology.tls_cert)}",
            f"--host-resolver-rules=MAP {topology.host} 127.0.0.1"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, topology):
    contexts = []

    def _new():
        context = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran",
                                      viewport={"width": 1280, "height": 900},
                                      base_url=f"https://{topology.host}:{topology.https_port}")
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def db_fresh():
    """Drop this process's database connection (the servers may have restarted)."""
    from django.db import connection

    connection.close()


def sms_code_for(mobile: str, after_id: int = 0, timeout: float = 30.0) -> str:
    """The login code of the newest SMS to ``mobile`` (the outbox keeps it: OUTBOX_KEEP_SECRETS)."""
    from ramis.common.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db_fresh()
        message = OutboxMessage.objects.filter(channel="sms", to=mobile, id__gt=after_id).order_by("-id").first()
        if message:
            return re.search(r"\b[0-9]{6}\b", message.body).group(0)
        time.sleep(0.5)
    raise AssertionError(f"no SMS to {mobile} within {timeout:.0f} s")


def totp_now(username: str) -> str:
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    db_fresh()
    device = TOTPDevice.objects.get(user__username=username)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"
