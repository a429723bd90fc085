"""Issue 7 journey, in a real Chromium: a buyer opens a shop's seal page, files a complaint with a
receipt; the shop owner sees it in the panel and answers; the owner asks by ticket to become a
legal person, with the articles of association and the gazette notice; an expert approves the
change in the staff desk (the account is a legal person only then), upholds the complaint and
suspends the seal, and reads the dashboard. Screenshots under var/screenshots/enamad-after-*.png.
"""

from __future__ import annotations

import pytest

from enamad.catalogue import ensure_defaults
from enamad.models import Account, Business, BusinessStatus, ChecklistItem, Complaint, ServiceCategory
from tests.conftest import make_staff
from tests.e2e.test_enamad_journey import staff_page
from tests.enamad.conftest import PASSWORD, PDF_BYTES, make_account, make_business, png_bytes


@pytest.mark.django_db(transaction=True)
def test_after_the_seal_journey(page, shot, browser, live_server, settings, tmp_path):
    from captcha.models import CaptchaStore

    from tests.enamad.seals.test_seal import issue_seal

    settings.DEBUG = True
    settings.DEV_OUTBOX = True
    settings.PUBLIC_BASE_URL = live_server.url
    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account("shop.owner")
    seal = issue_seal(make_business(account))
    expert = make_staff("expert7", perms=["enamad.review_business", "enamad.review_documents",
                                          "enamad.answer_ticket", "enamad.approve_change",
                                          "enamad.handle_complaint"])
    receipt, articles, gazette = tmp_path / "receipt.png", tmp_path / "articles.pdf", tmp_path / "gazette.png"
    receipt.write_bytes(png_bytes())
    articles.write_bytes(PDF_BYTES)
    gazette.write_bytes(png_bytes())

    # 1. A buyer files a complaint from the seal page.
    buyer = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran", base_url=live_server.url).new_page()
    buyer.goto(f"/trustseal/?id={seal.number}&Code={seal.code}")
    buyer.get_by_role("link", name="ثبت شکایت از این فروشنده").click()
    buyer.get_by_label("نوع شکایت").select_option("non_delivery")
    buyer.get_by_label("شماره پیگیری پرداخت").fill("۷۷۷۸۸۸۹۹۹")
    buyer.get_by_label("شرح شکایت").fill("سفارش دو هفته پیش پرداخت شد و هنوز نرسیده است.")
    buyer.locator("input[name=attachments]").set_input_files(str(receipt))
    buyer.get_by_label("نام و نام خانوادگی").fill("علی خریدار")
    buyer.locator("#id_contact_mobile").fill("09131234567")
    hashkey = buyer.locator("input[name=captcha_0]").input_value()
    buyer.get_by_label("کد امنیتی").fill(CaptchaStore.objects.get(hashkey=hashkey).response)
    shot(buyer, "enamad-after-01-complaint-form")
    buyer.get_by_role("button", name="ثبت شکایت").click()
    buyer.wait_for_url("**/trustseal/complaint/filed/**")
    code = buyer.locator("#tracking-code").inner_text()
    complaint = Complaint.objects.get(tracking_code=code)
    assert complaint.attachments.count() == 1

    # 2. The owner sees it in the panel and answers.
    page.goto("/enamad/login/")
    page.get_by_label("نام کاربری").fill("shop.owner")
    page.get_by_label("گذرواژه").fill(PASSWORD)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/enamad/panel/")
    assert "۱ شکایت منتظر پاسخ شماست" in page.locator("#complaints-to-answer").inner_text()
    page.get_by_role("link", name="پاسخ دهید").click()
    page.get_by_role("link", name=code).click()
    page.get_by_label("پاسخ شما به خریدار و کارشناس").fill("بسته امروز با پست پیشتاز ارسال شد.")
    page.get_by_role("button", name="ثبت پاسخ").click()
    assert "پاسخ شما ثبت" in page.locator(".messages").inner_text()

    # 3. The owner asks to become a legal person.
    page.goto("/enamad/panel/tickets/new/")
    page.get_by_role("link", name="تغییر نوع شخصیت (حقیقی ↔ حقوقی)").click()
    page.get_by_label("موضوع").fill("تبدیل به شخص حقوقی")
    page.get_by_label("نام شرکت").fill("شرکت کتاب نمونه")
    page.get_by_label("شناسه ملی شرکت").fill("10380284790")
    page.get_by_label("شماره ثبت").fill("12345")
    page.get_by_label("اساسنامه").set_input_files(str(articles))
    page.get_by_label("آگهی روزنامه رسمی").set_input_files(str(gazette))
    page.get_by_label("توضیح درخواست").fill("شرکت ثبت شد؛ نماد به نام شرکت باشد.")
    shot(page, "enamad-after-02-persona-change")
    page.get_by_role("button", name="ارسال تیکت").click()
    assert "در انتظار بررسی" in page.locator("#change-status").inner_text()
    assert Account.objects.get(pk=account.pk).persona == "natural"

    # 4. The expert approves the change, upholds the complaint and suspends the seal.
    desk = staff_page(browser, live_server, expert)
    desk.goto("/enamad/staff/tickets/?q=changes")
    desk.locator("#tickets a").first.click()
    shot(desk, "enamad-after-03-change-request")
    desk.get_by_role("button", name="تأیید و اعمال تغییر").click()
    assert "اعمال شد" in desk.locator(".messages").inner_text()
    assert Account.objects.get(pk=account.pk).persona == "legal"
    desk.goto(f"/enamad/staff/complaints/{complaint.pk}/")
    assert "پست پیشتاز" in desk.content()
    desk.get_by_label("شکایت وارد است").check()
    desk.get_by_label("نظر کارشناس (برای خریدار و فروشنده)").fill("کد رهگیری پستی معتبر نبود.")
    desk.get_by_label("نماد فروشنده تعلیق شود").check()
    desk.get_by_role("button", name="ثبت نتیجه").click()
    assert "وارد دانسته شد" in desk.locator("#complaint-status").inner_text()
    assert Business.objects.get(pk=seal.business_id).status == BusinessStatus.SUSPENDED
    desk.goto("/enamad/staff/dashboard/")
    assert desk.locator("svg.chart").count() >= 4
    shot(desk, "enamad-after-04-dashboard")

    # 5. The buyer follows the complaint.
    buyer.goto(f"/trustseal/complaint/status/?code={code}")
    buyer.locator("#id_mobile").fill("09131234567")
    buyer.get_by_role("button", name="نمایش").click()
    assert "وارد دانسته شد" in buyer.locator("#complaint-status").inner_text()
    shot(buyer, "enamad-after-05-status")
    buyer.context.close()
    desk.context.close()
