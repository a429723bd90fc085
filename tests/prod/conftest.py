"""`make prod-check`'s tests: the deployed topology (scripts/prod.py) on a throwaway PostgreSQL
and Redis (scripts/prod_check.py starts all of it, then runs this directory with
``-p no:django --confcutdir tests/prod``: these tests talk to the running servers through nginx
and read the shared database directly, like an operator's console; nothing runs in-process).

They are not part of `make test` (tests/conftest.py leaves this directory out).
"""

from __future__ import annotations

import base64
import hashlib
import json
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


class StandInGateway:
    """Kavenegar's send API on loopback (SMS_BASE_URL of the topology, PROD_CHECK_SMS_PORT) for the
    whole run: ``stop()`` makes it refuse connections, ``hang`` keeps a connection open without an
    answer (the worker's read timeout gives up), otherwise each message is delivered and recorded
    by its outbox id (Kavenegar's ``localid``)."""

    def __init__(self, port: int) -> None:
        import threading

        self.port = port
        self.requests: list[dict] = []
        self.delivered: list[dict] = []
        self.hang = False
        self._release = threading.Event()
        self._server = None

    def _handler(self):
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs

        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                gateway.requests.append({**form, "hung": gateway.hang})
                if gateway.hang:
                    gateway._release.wait(15)  # the worker's read timeout (3 s) gives up first
                    return
                gateway.delivered.append(form)
                body = json.dumps({"return": {"status": 200},
                                   "entries": [{"messageid": 7000 + len(gateway.delivered)}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered_for(self, outbox_id: int) -> int:
        return sum(1 for form in self.delivered if form.get("localid") == str(outbox_id))


@pytest.fixture(scope="session", autouse=True)
def sms_gateway():
    gateway = StandInGateway(int(os.environ.get("PROD_CHECK_SMS_PORT", "18522")))
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
def drill_report(request):
    """``drill_report(saw=..., recovered_seconds=...)``: one line of the drill's result, printed
    here and by scripts/prod_check.py at the end of the run."""

    def _report(saw: str, recovered_seconds: float | None = None) -> None:
        row = {"drill": request.node.name.removeprefix("test_drill_"), "saw": saw,
               "recovered_seconds": recovered_seconds,
               "load": " ".join(f"{x:.1f}" for x in os.getloadavg())}
        took = "-" if recovered_seconds is None else f"{recovered_seconds:.1f} s"
        print(f"drill {row['drill']}: {saw}; recovered in {took}; load {row['load']}")
        path = os.environ.get("PROD_CHECK_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")

    return _report
