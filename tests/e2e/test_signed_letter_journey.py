"""Chromium: the shop owner signs the commitment letter on their own machine (issue 14).

The page finds the real token agent (`python -m tokens.agent serve`) on loopback and shows the
command; the owner downloads the letter, signs it with `python -m tokens.agent sign-pdf` (a key on
SoftHSM certified by our CA, our TSA), uploads it, and the documents officer sees the report. With
no agent the page explains how to sign with any PAdES program."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings

from enamad.models import Business, BusinessStatus
from ramis.ca.models import CertificateAuthority
from tests.conftest import STAFF_PASSWORD, make_staff, totp_now
from tests.e2e import steps
from tests.enamad.businesses.test_signed_letter import PIN, holder
from tests.enamad.conftest import PASSWORD, make_account, make_business
from tests.pki.test_tsa_pades import live_pki  # noqa: F401 - our CA, TSA and OCSP on the live server
from tokens import wire
from tokens.conf import token_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_pki")
def test_owner_signs_the_letter_with_the_agent(page, shot, live_server, settings, tmp_path):
    settings.PUBLIC_BASE_URL = live_server.url.replace("//localhost:", "//127.0.0.1:")
    settings.ENAMAD_LETTER_AGENT_PORT = _free_port()
    account = make_account("letter.owner")
    business = make_business(account)
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.PHYSICAL_DOCUMENTS)
    h = holder()

    page.goto("/enamad/login/")
    page.get_by_label("نام کاربری").fill("letter.owner")
    page.get_by_label("گذرواژه").fill(PASSWORD)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/enamad/panel/")

    # No agent on this machine: the page says how to sign with any PAdES program.
    page.goto(f"/enamad/panel/business/{business.pk}/")
    page.get_by_role("link", name="تعهدنامه را الکترونیکی امضا و بارگذاری کنید").click()
    page.wait_for_selector("#how-to-sign[data-agent=missing]")
    assert page.locator("#agent-found").is_hidden() and page.locator("#agent-missing").is_visible()
    assert "Adobe Acrobat Reader" in page.locator("#how-to-sign").inner_text()

    # The agent runs on loopback: the page finds it.
    secret_file = tmp_path / "secret"
    wire.write_secret(secret_file, secrets.token_hex(32))
    agent = subprocess.Popen(
        [sys.executable, "-m", "tokens.agent", "serve", "--listen", f"127.0.0.1:{settings.ENAMAD_LETTER_AGENT_PORT}",
         "--module", token_config().module, "--softhsm-dir", str(django_settings.SOFTHSM_DIR),
         "--secret-file", str(secret_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening" in agent.stdout.readline()
        page.reload()
        page.wait_for_selector("#how-to-sign[data-agent=found]")
        assert page.locator("#agent-found").is_visible()
        shot(page, "enamad-15-sign-letter")
    finally:
        agent.terminate()
        agent.wait(timeout=10)

    # The owner downloads the letter and signs it on the token with the agent's sign-pdf.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="دریافت تعهدنامه (PDF)").click()
    letter, signed = tmp_path / "letter.pdf", tmp_path / "signed.pdf"
    download_info.value.save_as(letter)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(b"".join(
        x509.load_der_x509_certificate(bytes(ca.certificate_der)).public_bytes(serialization.Encoding.PEM)
        for ca in CertificateAuthority.objects.all()))
    tsa = page.locator("#agent-command").inner_text().split("--tsa ")[1].split()[0]
    done = subprocess.run(
        [sys.executable, "-m", "tokens.agent", "sign-pdf", "--module", token_config().module,
         "--softhsm-dir", str(django_settings.SOFTHSM_DIR), "--token", h.label, "--chain", str(chain),
         "--tsa", tsa, "--in", str(letter), "--out", str(signed)],
        input=f"{PIN}\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    # An unsigned file is refused with the reason next to the field; the signed one is accepted.
    page.locator("input[name=file]").set_input_files(str(letter))
    page.get_by_role("button", name="بارگذاری و بررسی امضا").click()
    assert "فایل امضای الکترونیکی ندارد." in page.locator("#signed-letter-upload .error").inner_text()
    page.locator("input[name=file]").set_input_files(str(signed))
    page.get_by_role("button", name="بارگذاری و بررسی امضا").click()
    page.wait_for_url(f"**/enamad/panel/business/{business.pk}/")
    assert "تعهدنامه امضاشده پذیرفته شد" in page.locator(".messages").inner_text()

    # The documents officer sees the validation report and still decides.
    officer = make_staff("letter.officer", perms=["enamad.review_documents"])
    desk = page.context.browser.new_context(locale="fa-IR", base_url=live_server.url).new_page()
    steps.staff_login(desk, officer.username, totp_now(officer), password=STAFF_PASSWORD)
    desk.goto(f"/enamad/staff/business/{business.pk}/")
    report = desk.locator("[id^=signed-letter-]").inner_text()
    assert "PNOIR-0499370899" in report and "سند امضاشده همان تعهدنامه" in report
    desk.get_by_role("button", name="تأیید مدارک فیزیکی").click()
    assert desk.locator("#business-status").inner_text() == "در حال بررسی توسط مدیر"
