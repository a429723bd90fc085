"""Issue 13 item 3: `make run PORT=…` serves where its links point. The real `make run` (migrate,
seed_demo, ca init, runserver) on a free port with its own var/ directory: the demo logins it prints
name that port, and an e-Namad sign-up's activation link (read from the development outbox, as a
newcomer reads it) opens and activates on the same server."""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kh@ne-Ketab-2026!"
# Settings a developer's shell or the suite may carry: `make run` must work from its own defaults.
CLEARED = ("PUBLIC_BASE_URL", "DATABASE_URL", "REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "SOFTHSM_DIR",
           "PRIVATE_MEDIA_ROOT", "RAMIS_ENV", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), CAPTCHA_TEST_MODE="1")
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["make", "run", "HOST=127.0.0.1", f"PORT={port}"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(1)
        yield base, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_make_run_on_another_port_prints_and_sends_links_to_that_port(served):
    base, log = served
    printed = log.read_text()
    for path in ("/auth/login/", "/dev/outbox/", "/auth/staff/login/", "/enamad/login/", "/enamad/dev/operator/"):
        assert f"{base}{path}" in printed, printed
    assert "127.0.0.1:8000" not in printed, printed

    browser = _opener()
    page = browser.open(base + "/enamad/signup/").read().decode()
    captcha = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": _csrf(page), "persona": "natural", "first_name": "سارا", "last_name": "کریمی",
            "national_code": "0499370899", "mobile": "09121112233", "email": "sara@example.com",
            "username": "sara.port", "password1": PASSWORD, "password2": PASSWORD,
            "captcha_0": captcha, "captcha_1": "PASSED"}
    with browser.open(base + "/enamad/signup/", urllib.parse.urlencode(form).encode()) as response:
        assert response.url == base + "/enamad/signup/done/", response.read().decode()

    outbox = html.unescape(browser.open(base + "/dev/outbox/").read().decode())
    links = re.findall(r"https?://[^\s<\"']+/enamad/activate/[^\s<\"']+/", outbox)
    assert links and all(link.startswith(base + "/") for link in links), outbox
    page = browser.open(links[0]).read().decode()
    assert "فعال‌سازی حساب" in page
    with browser.open(links[0], urllib.parse.urlencode({"csrfmiddlewaretoken": _csrf(page)}).encode()) as response:
        assert response.url == base + "/enamad/login/"
    login = browser.open(base + "/enamad/login/").read().decode()
    form = {"csrfmiddlewaretoken": _csrf(login), "username": "sara.port", "password": PASSWORD}
    with browser.open(base + "/enamad/login/", urllib.parse.urlencode(form).encode()) as response:
        assert "/enamad/login/" not in response.url, response.read().decode()
