"""Issue 13, item 10 as a person sees it on a 390 px phone: the applicant opens «پیام‌های من» from
the panel and reads the SMS and e-mails they were sent as cards (channel, Jalali time, state in
words), their login code masked; the shop owner does the same from the e-Namad panel, the
activation link masked. Nothing runs past the screen. Screenshots: var/screenshots/messages-*.png."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from ramis.common import notify
from ramis.common.models import OutboxMessage
from tests.conftest import login_applicant
from tests.enamad.conftest import PASSWORD, make_account

PHONE = {"width": 390, "height": 844}
LONG_LINK = "http://127.0.0.1:8000/panel/requests/123456/step/documents/?from=sms-notification-about-the-request"


def _fits(page) -> bool:
    if page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"):
        return True
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => {
        const r = e.getBoundingClientRect(); return r.width && (r.left < -1 || r.right > innerWidth + 1); })
        .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().width)""")
    pytest.fail(f"wider than {page.viewport_size['width']} px: {wide}")


def _inside_screen(locator) -> bool:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    return box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5


@pytest.mark.django_db(transaction=True)
def test_applicant_and_owner_read_their_messages_on_a_phone(browser, shot, live_server, settings, applicant_person):
    settings.OUTBOX_KEEP_SECRETS = True  # the outbox keeps the code: the page alone must mask it
    applicant_person.email = "ali.rezaei.ceo@sherkat-e-nemune-pars.example.ir"
    applicant_person.save(update_fields=["email"])
    notify.send_sms(to=applicant_person.mobile, template="login_code", secrets=("code",),
                    context={"code": "493817", "minutes": 2})
    OutboxMessage.objects.create(channel="email", to=applicant_person.email, status="queued",
                                 subject="رمیس: درخواست RQ-1405-000042 تأیید شد",
                                 body=f"درخواست شما تأیید شد؛ هزینه را بپردازید:\n{LONG_LINK}")
    OutboxMessage.objects.create(channel="sms", to=applicant_person.mobile, status="failed",
                                 last_error="gateway answered HTTP 500", body="رمیس: نوبت شما ثبت شد.")
    OutboxMessage.objects.create(channel="sms", to="09350000000", body="رمیس: پیام شخص دیگر")

    context = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran", base_url=live_server.url,
                                  viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    context.add_cookies([{"name": "sessionid", "url": live_server.url,
                          "value": login_applicant(Client(), applicant_person).cookies["sessionid"].value}])
    page.goto("/panel/")
    page.locator("#messages-link").click()
    page.wait_for_url("**/panel/messages/")
    expect(page.locator("h1")).to_have_text("پیام‌های من")
    cards = page.locator(".message-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("ارسال نشد؛ دوباره تلاش می‌کنیم")
    expect(cards.nth(1)).to_contain_text("رایانامه")
    expect(cards.nth(1)).to_contain_text("در انتظار ارسال")
    expect(cards.nth(2)).to_contain_text("کد ورود شما")
    expect(cards.nth(2)).to_contain_text("ارسال شد")
    text = page.locator("main, body").first.inner_text()
    assert "493817" not in text and "۴۹۳۸۱۷" not in text and "پیام شخص دیگر" not in text
    assert _fits(page)
    for i in range(3):
        assert _inside_screen(cards.nth(i))
        assert _inside_screen(cards.nth(i).locator(".message-state"))
    shot(page, "messages-applicant-390")

    account = make_account("messages.owner", mobile="09127654321")
    notify.send_email(to=account.user.email, template="enamad_activation",
                      context={"account": account, "days": 3,
                               "url": "http://127.0.0.1:8000/enamad/activate/eyJ1IjoxMjN9:1secretToken/"})
    OutboxMessage.objects.create(channel="sms", to=account.mobile, status="sent",
                                 body="اینماد: وضعیت پرونده shop.test «در حال بررسی» شد.")
    owner = context.new_page()
    context.clear_cookies()
    owner.goto("/enamad/login/")
    owner.get_by_label("نام کاربری").fill("messages.owner")
    owner.get_by_label("گذرواژه").fill(PASSWORD)
    owner.get_by_role("button", name="ورود").click()
    owner.wait_for_url("**/enamad/panel/")
    owner.locator("#messages-link").click()
    owner.wait_for_url("**/enamad/panel/messages/")
    cards = owner.locator(".message-card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("در حال بررسی")
    expect(cards.nth(1)).to_contain_text("پیوند محرمانه")
    assert "1secretToken" not in owner.locator("body").inner_text()
    assert _fits(owner)
    assert _inside_screen(cards.nth(1))
    shot(owner, "messages-owner-390")
    context.close()
