"""Issue 4 journey: the demo applicant logs in, fills a signature-certificate request through
every step, uploads documents, chooses an office in person and a new token, submits; the clerk
approves (service call); the applicant pays in the sandbox gateway, books a slot on the Jalali
calendar and sees "awaiting issuance" with the appointment's Jalali date."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from ramis.requests.management.commands.seed_demo import APPLICANT
from tests.requests.conftest import PDF_BYTES


def _login(page):
    from captcha.models import CaptchaStore

    page.goto("/auth/login/")
    page.get_by_label("کد ملی").fill(APPLICANT["national_code"])
    page.get_by_label("تاریخ تولد").fill("۱۳۶۵/۰۴/۱۲")
    page.get_by_label("شماره شناسنامه").fill(APPLICANT["birth_certificate_number"])
    page.get_by_label("تلفن همراه").fill(APPLICANT["mobile"])
    hashkey = page.locator("input[name=captcha_0]").input_value()
    page.get_by_label("کد امنیتی").fill(CaptchaStore.objects.get(hashkey=hashkey).response)
    page.get_by_role("button", name="ارسال کد یک‌بارمصرف").click()
    page.wait_for_url("**/auth/login/verify/")
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox/")
    code = re.search(r"\b[0-9]{6}\b", outbox.locator("#outbox tbody tr td.msg-body").first.inner_text()).group(0)
    outbox.close()
    page.get_by_label("کد یک‌بارمصرف").fill(code)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/panel/")


@pytest.mark.django_db(transaction=True)
def test_signature_request_from_panel_to_awaiting_issuance(page, shot, settings):
    settings.DEBUG = True
    settings.DEV_OUTBOX = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from certauth.models import User
    from ramis.common.jalali import jalali_long
    from ramis.requests import services
    from ramis.requests.models import Appointment, CertificateRequest

    _login(page)
    shot(page, "request-01-panel")
    page.locator("#roles").get_by_role("link", name="درخواست جدید").click()
    shot(page, "request-02-type")
    page.get_by_role("button", name="درخواست گواهی امضا").click()

    page.wait_for_url("**/step/details/")
    page.locator("#id_email").fill("ali.rezaei@example.com")
    page.get_by_label("نام به لاتین").fill("Ali")
    page.get_by_label("نام خانوادگی به لاتین").fill("Rezaei")
    shot(page, "request-03-details")
    page.get_by_role("button", name="ذخیره و ادامه").click()

    # the address is confirmed with the code e-mailed to it before it may go into the certificate
    page.wait_for_url("**/step/details/#email-confirm")
    expect(page.locator("#email-confirm")).to_contain_text("هنوز تأیید نشده است")
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox/")
    code = re.search(r"کد تأیید رایانامه: ([0-9]{6})", outbox.locator("#outbox tbody").inner_text()).group(1)
    outbox.close()
    page.get_by_label("کد ارسال‌شده به رایانامه").fill(code)
    page.get_by_role("button", name="تأیید رایانامه").click()

    page.wait_for_url("**/step/documents/")
    expect(page.locator(".messages")).to_contain_text("رایانامه تأیید شد")
    pdf = {"mimeType": "application/pdf", "buffer": PDF_BYTES}
    page.get_by_label("تصویر کارت ملی (پشت و رو)").set_input_files([{"name": "card.pdf", **pdf}])
    page.get_by_label("صفحه اول شناسنامه یا گذرنامه").set_input_files([{"name": "birth.pdf", **pdf}])
    page.get_by_label("معرفی‌نامه شرکت با امضای صاحبان امضای مجاز").set_input_files([{"name": "letter.pdf", **pdf}])
    page.get_by_role("button", name="بارگذاری", exact=True).click()
    page.wait_for_url("**/step/documents/")
    assert page.locator(".docs .ok").count() == 3
    shot(page, "request-04-documents")
    page.get_by_role("button", name="بارگذاری و ادامه").click()

    page.wait_for_url("**/step/office/")
    page.locator("select[name=office]").select_option(label="دفتر ثبت‌نام مرکزی تهران (تهران)")
    page.get_by_label("حضوری (مراجعه به دفتر)").check()
    shot(page, "request-05-office")
    page.get_by_role("button", name="ذخیره و ادامه").click()

    page.wait_for_url("**/step/token/")
    page.get_by_label("توکن جدید می‌خرم").check()
    page.locator("select[name=token_model]").select_option(index=1)
    shot(page, "request-06-token")
    page.get_by_role("button", name="ذخیره و ادامه").click()

    page.wait_for_url("**/step/review/")
    assert page.locator("#missing").count() == 0
    shot(page, "request-07-review")
    page.get_by_role("button", name="ثبت نهایی").click()
    page.wait_for_url(re.compile(r".*/panel/requests/\d+/$"))
    assert page.locator("#status-label").inner_text() == "ارسال‌شده به دفتر ثبت‌نام"
    shot(page, "request-08-submitted")

    req = CertificateRequest.objects.get()
    services.request_approve(request_id=req.pk, actor=User.objects.get(username="clerk"))  # the office approves

    page.reload()
    assert page.locator("#status-label").inner_text() == "در انتظار پرداخت"
    shot(page, "request-09-awaiting-payment")
    page.get_by_role("button", name=re.compile("^پرداخت")).click()
    page.wait_for_url("**/pay/sandbox/**")
    assert "۶٬۵۰۰٬۰۰۰" in page.locator("#amount").inner_text()  # 2,000,000 certificate + 4,500,000 token
    shot(page, "request-10-sandbox-gateway")
    page.get_by_role("button", name="پرداخت", exact=True).click()
    page.wait_for_url(re.compile(r".*/panel/requests/\d+/$"))
    assert page.locator("#status-label").inner_text() == "در انتظار تعیین نوبت"
    expect(page.get_by_role("link", name="رسید پرداخت (PDF)")).to_be_visible()
    shot(page, "request-11-paid")

    page.get_by_role("link", name="انتخاب نوبت").click()
    page.wait_for_url("**/appointment/")
    shot(page, "request-12-calendar")
    page.locator("#calendar button.slot:not([disabled])").first.click()
    page.wait_for_url(re.compile(r".*/panel/requests/\d+/$"))
    appointment = Appointment.objects.get(request=req, is_active=True)
    assert page.locator("#status-label").inner_text() == "در انتظار صدور"
    assert jalali_long(appointment.starts_at) in page.locator("#appointment").inner_text()
    shot(page, "request-13-awaiting-issuance")
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
