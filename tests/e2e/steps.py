"""Page steps shared by the browser journeys: tests/e2e/ (Django's live server) and tests/prod/
(the deployed topology behind nginx). Each step takes a Playwright page and does what a person
does; reading a login code or a captcha is left to the caller (``code_for``, ``captcha_for``),
as the two places read them differently (the development outbox page, or the database)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

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


def staff_login(page, username: str, totp: str, password: str = DEMO_PASSWORD, lands_on: str | None = None):
    """Log a staff member in; they land on their role's home (issue 13): a clerk on /office/, an
    e-Namad expert on the review tab. ``lands_on`` checks where; None only that the login passed."""
    page.goto("/auth/staff/login/")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(password)
    page.get_by_label("کد TOTP").fill(totp)
    page.get_by_role("button", name="ورود").click()
    if lands_on is None:
        page.wait_for_url(lambda url: "/login/" not in url)
    else:
        page.wait_for_url(f"**{lands_on}")


def _no_shot(name: str) -> None:
    """``shot(name)``: the e2e journeys save a screenshot there (the user guide shows them)."""


def email_code_from_dev_outbox(page) -> str:
    """The e-mail confirmation code, read from the development outbox page (/dev/outbox/)."""
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox/")
    code = re.search(r"کد تأیید رایانامه: ([0-9]{6})", outbox.locator("#outbox tbody").inner_text()).group(1)
    outbox.close()
    return code


def signature_request_details(page, shot=_no_shot, email_code_for=email_code_from_dev_outbox):
    """From the panel: a new signature-certificate request, its details step filled and the
    e-mail address confirmed with the code sent to it (``email_code_for(page)`` finds it)."""
    page.locator("#roles").get_by_role("link", name="درخواست جدید").click()
    shot("request-02-type")
    page.get_by_role("button", name="درخواست گواهی امضا").click()
    page.wait_for_url("**/step/details/")
    page.locator("#id_email").fill("ali.rezaei@example.com")
    page.get_by_label("نام به لاتین").fill("Ali")
    page.get_by_label("نام خانوادگی به لاتین").fill("Rezaei")
    shot("request-03-details")
    page.get_by_role("button", name="ذخیره و ادامه").click()
    # the address is confirmed with the code e-mailed to it before it may go into the certificate
    page.wait_for_url("**/step/details/#email-confirm")
    expect(page.locator("#email-confirm")).to_contain_text("هنوز تأیید نشده است")
    page.get_by_label("کد ارسال‌شده به رایانامه").fill(email_code_for(page))
    page.get_by_role("button", name="تأیید رایانامه").click()
    page.wait_for_url("**/step/documents/")
    expect(page.locator(".messages")).to_contain_text("رایانامه تأیید شد")


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
    # the click only picks the slot: a page says when and where, and its button books it (issue 13)
    expect(page.locator("#confirm h1")).to_have_text("تأیید نوبت مراجعه")
    page.get_by_role("button", name="تأیید و ثبت نوبت").click()
    page.wait_for_url(PANEL_REQUEST)


def clerk_approves(desk, reference: str, pk: int, shot=_no_shot):
    desk.goto("/office/")
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


# --- e-Namad: the shop owner, the expert and the manager ----------------------------------------------

def enamad_signup(page, *, username: str, password: str, national_code: str, mobile: str, email: str,
                  captcha_for: Callable[[object], str] = captcha_from_db, shot=_no_shot):
    """A natural person signs up at /enamad/ (the form adapts to the persona); at the "check your
    e-mail" page."""
    from playwright.sync_api import expect

    page.goto("/enamad/")
    page.get_by_role("link", name="ایجاد حساب کاربری").first.click()
    page.get_by_label("نوع شخصیت").select_option("legal")
    expect(page.get_by_label("نام شرکت")).to_be_visible()
    page.get_by_label("نوع شخصیت").select_option("natural")
    expect(page.get_by_label("نام شرکت")).to_be_hidden()
    page.locator("#id_first_name").fill("سارا")
    page.get_by_label("نام خانوادگی").fill("کریمی")
    page.get_by_label("کد ملی").fill(national_code)
    page.get_by_label("تلفن همراه").fill(mobile)
    page.get_by_label("رایانامه").fill(email)
    page.get_by_label("نام کاربری").fill(username)
    page.locator("#id_password1").fill(password)
    page.get_by_label("تکرار گذرواژه").fill(password)
    page.get_by_label("کد امنیتی").fill(captcha_for(page))
    shot("enamad-01-signup")
    page.get_by_role("button", name="ثبت‌نام").click()
    page.wait_for_url("**/enamad/signup/done/")
    assert "ثبت‌نام با موفقیت انجام شد" in page.content()


def enamad_activate_and_login(page, link: str, username: str, password: str):
    page.goto(link)
    page.get_by_role("button", name="فعال‌سازی حساب").click()
    page.wait_for_url("**/enamad/login/")
    assert "حساب شما فعال شد" in page.content()
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(password)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/enamad/panel/")


def enamad_profile_and_documents(page, landline: str, card_png, birth_pdf, shot=_no_shot):
    page.get_by_role("link", name="تکمیل اطلاعات").click()
    page.get_by_label("نام پدر").fill("رضا")
    page.get_by_label("تاریخ تولد").fill("۱۳۶۹/۰۱/۰۱")
    page.get_by_label("تلفن ثابت").fill(landline)
    page.get_by_label("نشانی").fill("تهران، خیابان آزادی، پلاک ۱")
    page.get_by_label("کد پستی").fill("1316943115")
    page.get_by_role("button", name="ذخیره").click()
    page.wait_for_url("**/enamad/panel/")
    assert "ثبت اطلاعات با موفقیت انجام شد" in page.content()
    page.get_by_role("link", name="بارگذاری مدارک").click()
    for kind, path in (("national_card", card_png), ("birth_certificate", birth_pdf)):
        row = page.locator(f"#doc-{kind}")
        row.locator("input[type=file]").set_input_files(str(path))
        row.get_by_role("button", name="بارگذاری").click()
        assert "با موفقیت بارگذاری شد" in page.locator(".messages").inner_text()
    shot("enamad-03-documents")


def enamad_add_business(page, domain: str, landline: str):
    page.goto("/enamad/panel/")
    page.get_by_role("link", name="افزودن کسب‌وکار").click()
    page.get_by_label("دامنه").fill(f"https://{domain}/")
    page.get_by_label("نام کسب‌وکار").fill("فروشگاه نمونه")
    page.get_by_label("نشانی (می‌تواند مسکونی باشد)").fill("تهران، خیابان آزادی، پلاک ۱")
    page.get_by_label("کد پستی").fill("۱۳۱۶۹۴۳۱۱۵")
    page.get_by_label("تلفن ثابت با پیش‌شماره شهر").fill(landline)
    page.get_by_label("رایانامه کسب‌وکار").fill(f"info@{domain}")
    page.get_by_role("button", name="ذخیره").click()
    page.wait_for_url("**/technical/")


def enamad_services_and_survey(page):
    page.get_by_role("link", name="مدیریت کسب‌وکار").first.click()
    page.get_by_role("link", name="لیست خدمات و مجوزها").click()
    page.get_by_label("نوع خدمت").select_option(label="فروش کتاب و لوازم‌التحریر")
    page.get_by_label("کالاها و خدماتی که عرضه می‌شود").fill("کتاب و لوازم‌التحریر")
    page.get_by_label("روش‌های ارسال و تحویل").fill("پست پیشتاز")
    page.get_by_label("روش‌های پرداخت").fill("درگاه پرداخت اینترنتی")
    page.get_by_label("شماره و مرجع مجوز").fill("ندارد")
    page.get_by_role("button", name="ذخیره").click()
    assert "خدمت موردنظر با موفقیت ثبت شد" in page.content()
    page.get_by_role("link", name="تکمیل فرم نظرسنجی").click()
    page.get_by_label("از کجا با اینماد آشنا شدید؟").select_option("search")
    page.get_by_label("وب‌سایت با چه ابزاری ساخته شده است؟").select_option("cms")
    page.get_by_label("تعداد تقریبی سفارش در ماه").fill("۱۲۰")
    page.get_by_role("button", name="ذخیره").click()
    assert "نظرسنجی با موفقیت ثبت شد" in page.content()


def enamad_expert_approves_every_item(desk):
    desk.goto("/enamad/staff/")
    desk.get_by_role("link", name="بررسی").last.click()
    rows = desk.locator("tr[data-item]")
    for i in range(rows.count()):
        rows.nth(i).locator("input[value='1']").check()
    desk.get_by_role("button", name="ثبت نتیجه بررسی").click()
    assert desk.locator("#business-status").inner_text() == "بررسی مدارک فیزیکی"
    desk.get_by_role("button", name="ثبت دریافت مدارک").click()
    desk.get_by_role("button", name="تأیید مدارک فیزیکی").click()
    assert desk.locator("#business-status").inner_text() == "در حال بررسی توسط مدیر"


def enamad_manager_approves(boss, shot=_no_shot):
    boss.goto("/enamad/staff/?q=manager")
    boss.get_by_role("link", name="بررسی").last.click()
    shot("enamad-13-manager")
    boss.get_by_role("button", name="تأیید نهایی و صدور نماد").click()
    assert boss.locator("#business-status").inner_text() == "تأیید نهایی"
