"""The Content-Security-Policy in a real Chromium: an applicant's journey (home, login, the code
step, the panel, a request's page whose cancel button asks first, paying another request at the
stand-in bank of another origin, which form-action must let the payer reach) and the e-Namad
staff dashboard's charts log no CSP violation; a probe that breaks the policy on purpose is
reported, so silence means something. The seal logo is still shown on a shop's page of another origin."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

CSP_WORDS = ("Content Security Policy", "Content-Security-Policy")


def watch(page) -> list[str]:
    """Every console message and page error that mentions the policy."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text))
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def violations(seen: list[str]) -> list[str]:
    return [text for text in seen if any(word in text for word in CSP_WORDS)]


def log_in_applicant(page):
    from captcha.models import CaptchaStore

    from ramis.requests.management.commands.seed_demo import APPLICANT

    page.goto("/")
    page.goto("/auth/login/")
    page.get_by_label("کد ملی").fill(APPLICANT["national_code"])
    page.get_by_label("تاریخ تولد").fill("۱۳۶۵/۰۴/۱۲")
    page.get_by_label("شماره شناسنامه").fill(APPLICANT["birth_certificate_number"])
    page.get_by_label("تلفن همراه").fill(APPLICANT["mobile"])
    hashkey = page.locator("input[name=captcha_0]").input_value()
    page.get_by_label("کد امنیتی").fill(CaptchaStore.objects.get(hashkey=hashkey).response)
    page.get_by_role("button", name="ارسال کد یک‌بارمصرف").click()
    page.wait_for_url("**/auth/login/verify/")
    from tests.conftest import last_sms, sms_code

    page.get_by_label("کد یک‌بارمصرف").fill(sms_code(last_sms()))
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/panel/")


@contextmanager
def stand_in_bank(settings):
    """The bank backend at the stand-in Zibal bank (ramis.requests.devbank) on 127.0.0.1."""
    from ramis.requests.devbank import DevBank

    bank = DevBank(merchants=frozenset({"zibal"}))
    server = bank.server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bank.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PAYMENT_BACKEND = "ramis.requests.payments.AzBankGatewaysBackend"
    settings.BANK_BASE_URL = bank.base_url
    settings.AZ_IRANIAN_BANK_GATEWAYS = {
        **settings.AZ_IRANIAN_BANK_GATEWAYS, "DEFAULT": "ZIBAL",
        "GATEWAYS": {"ZIBAL": {"MERCHANT_CODE": "zibal", "SANDBOX": 0, "BASE_URL": bank.base_url}}}
    try:
        yield bank
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_applicant_journey_logs_no_csp_violation(page, settings):
    from ramis.offices.models import Clerk, RegistrationOffice
    from ramis.registry.models import Person
    from ramis.requests.management.commands.seed_demo import APPLICANT
    from ramis.requests.models import CertificateRequest
    from tests.e2e import steps
    from tests.requests.conftest import advance, make_draft

    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seen = watch(page)
    log_in_applicant(page)
    person = Person.objects.get(national_code=APPLICANT["national_code"])
    request = make_draft(person, RegistrationOffice.objects.filter(is_active=True).first(), hardware="own",
                         upload=False)
    response = page.goto(f"/panel/requests/{request.pk}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("link", name="لغو درخواست").click()  # a page asks first (issue 13), no dialogue
    page.wait_for_url(f"**/panel/requests/{request.pk}/cancel/")
    assert "لغو شود" in page.locator("#confirm-button").inner_text()
    page.get_by_role("link", name="انصراف و بازگشت").click()
    page.wait_for_url(f"**/panel/requests/{request.pk}/")
    assert CertificateRequest.objects.get(pk=request.pk).status == "draft"  # went back: nothing sent
    assert violations(seen) == []

    # another request, approved: pay it at the bank (the stand-in Zibal on another origin); the
    # page that posts the payer on lets its form, and only its, go there (form-action)
    with stand_in_bank(settings) as bank:
        clerk = Clerk.objects.select_related("user", "office").get(user__username="clerk")
        approved = advance(make_draft(person, clerk.office, hardware="own"), "awaiting_payment",
                           clerk=clerk.user)
        page.goto(f"/panel/requests/{approved.pk}/")
        with page.expect_response(f"**/panel/requests/{approved.pk}/pay/") as answer:
            steps.pay(page, at_gateway=lambda at_bank: at_bank.wait_for_url(f"{bank.base_url}/start/*"))
        assert f"form-action 'self' {bank.base_url}" in answer.value.headers["content-security-policy"]
    assert page.locator("#status-label").inner_text() == "در انتظار تعیین نوبت"
    assert CertificateRequest.objects.get(pk=approved.pk).status == "awaiting_appointment"
    assert violations(seen) == []

    # the probe: an inline style attribute added now is refused, and Chromium says so
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"color:red\">x</div>')")
    page.wait_for_timeout(300)
    assert violations(seen), seen


@pytest.mark.django_db(transaction=True)
def test_staff_dashboard_charts_log_no_csp_violation(page, settings):
    from tests.conftest import STAFF_PASSWORD, make_staff, totp_now

    user = make_staff("dash", perms=["enamad.review_business", "enamad.approve_business"])
    seen = watch(page)
    page.goto("/auth/staff/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.fill("input[name=otp_token]", totp_now(user))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/enamad/staff/?q=review")  # the expert's own desk tab (issue 13's role homes)
    page.goto("/enamad/staff/dashboard/")
    assert page.locator("svg.chart").count() >= 1
    assert violations(seen) == []


class _Shop(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.django_db(transaction=True)
def test_the_seal_logo_shows_on_a_shop_page_of_another_origin(page, live_server):
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory
    from tests.enamad.conftest import make_account, make_business
    from tests.enamad.seals.test_seal import issue_seal

    ensure_defaults(ChecklistItem, ServiceCategory)  # an earlier transactional test flushed the migration data
    seal = issue_seal(make_business(make_account()))
    logo = f"{live_server.url}/trustseal/logo/?id={seal.number}&Code={seal.code}"
    _Shop.body = (f"<html><body><a target='_blank' href='{live_server.url}/trustseal/?id={seal.number}"
                  f"&Code={seal.code}'><img id='seal' referrerpolicy='origin' src='{logo}'></a></body></html>").encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        seen = watch(page)
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.wait_for_function("document.getElementById('seal').complete")
        assert page.evaluate("document.getElementById('seal').naturalWidth") > 0  # the image was allowed and drawn
        assert violations(seen) == []
    finally:
        server.shutdown()
        server.server_close()
