"""Issue 2 journey: the demo applicant logs in through the real pages, reading the code from
the development outbox, and sees the panel."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from ramis.requests.management.commands.seed_demo import APPLICANT


@pytest.mark.django_db(transaction=True)
def test_applicant_logs_in_with_sms_code(page, shot, settings):
    settings.DEBUG = True
    settings.DEV_OUTBOX = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    page.goto("/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_role("link", name="ورود متقاضیان").first.click()
    page.get_by_label("کد ملی").fill("۰۴۹۹۳۷۰۸۹۹")  # Persian digits, as a person types them
    page.get_by_label("تاریخ تولد").fill("۱۳۶۵/۰۴/۱۲")
    page.get_by_label("شماره شناسنامه").fill(APPLICANT["birth_certificate_number"])
    page.get_by_label("تلفن همراه").fill(APPLICANT["mobile"])

    from captcha.models import CaptchaStore

    hashkey = page.locator("input[name=captcha_0]").input_value()
    page.get_by_label("کد امنیتی").fill(CaptchaStore.objects.get(hashkey=hashkey).response)
    shot(page, "login-1-identity")
    page.get_by_role("button", name="ارسال کد یک‌بارمصرف").click()
    page.wait_for_url("**/auth/login/verify/")
    assert "پیامک شد" in page.content()

    outbox = page.context.new_page()
    outbox.goto("/dev/outbox/")
    body = outbox.locator("#outbox tbody tr td.msg-body").first.inner_text()
    code = re.search(r"\b[0-9]{6}\b", body).group(0)
    shot(outbox, "login-2-outbox")
    outbox.close()

    page.get_by_label("کد یک‌بارمصرف").fill(code)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/panel/")
    expect(page.get_by_role("heading", name=re.compile("پنل"))).to_be_visible()
    assert page.locator("#roles").inner_text().count("مدیرعامل") == 1
    path = shot(page, "login-3-panel")
    assert path.stat().st_size > 10_000
