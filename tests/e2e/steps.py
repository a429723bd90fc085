"""Page steps shared by the browser journeys: tests/e2e/ (Django's live server) and tests/prod/
(the deployed topology behind nginx). Each step takes a Playwright page and does what a person
does; reading a login code or a captcha is left to the caller (``code_for``, ``captcha_for``),
as the two places read them differently (the development outbox page, or the database)."""

from __future__ import annotations

import re
from collections.abc import Callable

from ramis.requests.management.commands.seed_demo import APPLICANT, DEMO_PASSWORD

PANEL_REQUEST = re.compile(r".*/panel/requests/\d+/$")


def captcha_from_db(page) -> str:
    """The answer of the captcha on ``page``, as a person reads it from the image."""
    from captcha.models import CaptchaStore

    hashkey = page.locator("input[name=captcha_0]").input_value()
    return CaptchaStore.objects.get(hashkey=hashkey).response


def applicant_login(page, code_for: Callable[[object], str], captcha_for: Callable[[object], str] = captcha_from_db):
    """The demo applicant logs in with the identity form and the SMS code (``code_for(page)``)."""
    page.goto("/auth/login/")
    page.get_by_label("کد ملی").fill(APPLICANT["national_code"])
    page.get_by_label("تاریخ تولد").fill("۱۳۶۵/۰۴/۱۲")
    page.get_by_label("شماره شناسنامه").fill(APPLICANT["birth_certificate_number"])
    page.get_by_label("تلفن همراه").fill(APPLICANT["mobile"])
    page.get_by_label("کد امنیتی").fill(captcha_for(page))
    page.get_by_role("button", name="ارسال کد یک‌بارمصرف").click()
    page.wait_for_url("**/auth/login/verify/")
    page.get_by_label("کد یک‌بارمصرف").fill(code_for(page))
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/panel/")


def staff_login(page, username: str, totp: str, password: str = DEMO_PASSWORD):
    page.goto("/auth/staff/login/")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(password)
    page.get_by_label("کد TOTP").fill(totp)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/auth/staff/")


def _no_shot(name: str) -> None:
    """``shot(name)``: the e2e journeys save a screenshot there (the user guide shows them)."""


def signature_request_details(page, shot=_no_shot):
    """From the panel: a new signature-certificate request, its details step filled."""
    page.locator("#roles").get_by_role("link", name="درخواست جدید").click()
    shot("request-02-type")
    page.get_by_role("button", name="درخواست گواهی امضا").click()
    page.wait_for_url("**/step/details/")
    page.get_by_label("رایانامه").fill("ali.rezaei@example.com")
    page.get_by_label("نام به لاتین").fill("Ali")
    page.get_by_label("نام خانوادگی به لاتین").fill("Rezaei")
    shot("request-03-details")
    page.get_by_role("button", name="ذخیره و ادامه").click()
    page.wait_for_url("**/step/documents/")


def upload_documents(page, pdf: bytes):
    """The documents step: the three required documents, uploaded."""
    files = {"mimeType": "application/pdf", "buffer": pdf}
    page.get_by_label("تصویر کارت ملی (پشت و رو)").set_input_files([{"name": "card.pdf", **files}])
    page.get_by_label("صفحه اول شناسنامه یا گذرنامه").set_input_files([{"name": "birth.pdf", **files}])
    page.get_by_label("معرفی‌نامه شرکت با امضای صاحبان امضای مجاز").set_input_files(
        [{"name": "letter.pdf", **files}])
    page.get_by_role("button", name="بارگذاری", exact=True).click()
    page.wait_for_url("**/step/documents/")


def office_in_person_and_new_token(page, shot=_no_shot):
    """From the documents step on: the Tehran office in person, a new token; at the review step."""
    page.get_by_role("button", name="بارگذاری و ادامه").click()
    page.wait_for_url("**/step/office/")
    page.locator("select[name=office]").select_option(label="دفتر ثبت‌نام مرکزی تهران (تهران)")
    page.get_by_label("حضوری (مراجعه به دفتر)").check()
    shot("request-05-office")
    page.get_by_role("button", name="ذخیره و ادامه").click()
    page.wait_for_url("**/step/token/")
    page.get_by_label("توکن جدید می‌خرم").check()
    page.locator("select[name=token_model]").select_option(index=1)
    shot("request-06-token")
    page.get_by_role("button", name="ذخیره و ادامه").click()
    page.wait_for_url("**/step/review/")


def submit(page):
    page.get_by_role("button", name="ثبت نهایی").click()
    page.wait_for_url(PANEL_REQUEST)


def pay(page, at_gateway=_no_shot):
    """On the request's page: pay at the gateway (the sandbox, or the stand-in bank), back to the
    page; ``at_gateway(page)`` looks at the gateway's page first."""
    page.get_by_role("button", name=re.compile("^پرداخت")).click()
    page.wait_for_url(lambda url: "/panel/requests/" not in url)
    at_gateway(page)
    page.get_by_role("button", name="پرداخت", exact=True).click()
    page.wait_for_url(PANEL_REQUEST)


def book_first_slot(page, shot=_no_shot):
    page.get_by_role("link", name="انتخاب نوبت").click()
    page.wait_for_url("**/appointment/")
    shot("request-12-calendar")
    page.locator("#calendar button.slot:not([disabled])").first.click()
    page.wait_for_url(PANEL_REQUEST)


def clerk_approves(desk, reference: str, pk: int, shot=_no_shot):
    desk.locator("#desk-link").click()
    desk.wait_for_url("**/office/")
    assert reference in desk.locator("#queue").inner_text()
    shot("office-02-queue")
    desk.get_by_role("link", name=reference).click()
    desk.wait_for_url(f"**/office/requests/{pk}/")
    desk.wait_for_function("document.querySelectorAll('#documents img.preview[data-loaded]').length === 3")
    shot("office-03-review")
    desk.locator("#approve").click()
    desk.wait_for_url("**/office/?tab=submitted")


def identity_check(desk, reference: str, shot=_no_shot):
    desk.goto("/office/?tab=awaiting_issuance")
    shot("office-05-awaiting-issuance")
    desk.get_by_role("link", name=reference).click()
    desk.get_by_role("link", name="احراز هویت حضوری").click()
    desk.wait_for_url("**/identity/")
    desk.get_by_label("اصل کارت ملی هوشمند دیده شد").check()
    desk.get_by_label("اصل شناسنامه").check()
    desk.get_by_label("چهره فرد حاضر با عکس مدارک مطابقت دارد").check()
    desk.get_by_label("خود دارنده گواهی").check()
    shot("office-06-identity-check")
    desk.get_by_role("button", name="ثبت احراز هویت").click()
    desk.wait_for_url("**/issue/")


def issue_on_new_token(desk, pk: int, pin: str, shot=_no_shot):
    """At the issue page: a new token initialised with the applicant's PIN; the CA signs."""
    desk.get_by_label("توکن نو (ePass 2003): راه‌اندازی با رمز تازهٔ متقاضی").check()
    desk.locator("#id_pin").fill(pin)
    desk.locator("#id_pin_again").fill(pin)
    shot("office-07-issue")
    desk.locator("#issue-button").click()
    desk.wait_for_url(f"**/office/requests/{pk}/")


def scan_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned document (the desk renders its previews)."""
    from django.conf import settings
    from weasyprint import HTML

    fonts = (settings.BASE_DIR / "static" / "fonts").as_uri()
    html = (f'<html dir="rtl"><style>@font-face {{ font-family: F; src: url("{fonts}/NotoSansArabic-Regular.ttf"); }}'
            f'body {{ font-family: F; font-size: 28pt; }} div {{ border: 3px solid #1d4f91; padding: 2cm; }}</style>'
            f"<body><div>{title}<br>نمونه اسکن‌شده برای آزمون</div></body></html>")
    return HTML(string=html).write_pdf()
