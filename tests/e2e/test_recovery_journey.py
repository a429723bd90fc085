"""Issue 13, item 8 in Chromium on a 390 px phone: a shop owner who forgot the password follows
«فراموشی رمز عبور» from the e-Namad login page, gets the link by e-mail (read from the
development outbox, as a newcomer would), sets a new password, logs in with it; the used link
is refused. Screenshots: var/screenshots/recovery-*-390.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.enamad.conftest import make_account

PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "Fresh-shop-pass-2026"


def _fits(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "wider than the phone"


def _reset_link(context) -> str:
    outbox = context.new_page()
    outbox.goto("/dev/outbox/")
    text = outbox.locator("#outbox tbody").inner_text()
    outbox.close()
    return re.search(r"http://\S+/enamad/password-reset/\S+/\S+/", text).group(0)


@pytest.mark.django_db(transaction=True)
def test_password_reset_journey_on_a_phone(page, shot, live_server, settings):
    settings.DEBUG = True
    settings.DEV_OUTBOX = True
    settings.OUTBOX_KEEP_SECRETS = True  # as in development: the outbox page shows the mailed link
    settings.PUBLIC_BASE_URL = live_server.url
    make_account("shopowner")
    page.set_viewport_size(PHONE)

    page.goto("/enamad/login/")
    page.get_by_role("link", name="فراموشی رمز عبور").click()
    page.wait_for_url("**/enamad/password-reset/")
    page.get_by_label("رایانامه حساب").fill("shopowner@example.com")
    _fits(page)
    shot(page, "recovery-1-request-390")
    page.get_by_role("button", name="فرستادن پیوند بازیابی").click()
    page.wait_for_url("**/enamad/password-reset/sent/")
    expect(page.locator("#password-reset-sent h1")).to_have_text("رایانامه خود را ببینید")
    _fits(page)
    shot(page, "recovery-2-sent-390")

    link = _reset_link(page.context)
    assert link.startswith(live_server.url)
    page.goto(link)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)  # its label «گذرواژه تازه» is in the next one's too
    page.get_by_label("تکرار گذرواژه تازه").fill(NEW_PASSWORD)
    _fits(page)
    shot(page, "recovery-3-new-password-390")
    page.get_by_role("button", name="ثبت گذرواژه تازه").click()
    page.wait_for_url("**/enamad/password-reset/done/")
    expect(page.locator("#password-reset-complete h1")).to_have_text("گذرواژه شما تغییر کرد")
    shot(page, "recovery-4-done-390")

    page.get_by_role("link", name="ورود به سامانه").last.click()
    page.wait_for_url("**/enamad/login/")
    page.get_by_label("نام کاربری").fill("shopowner")
    page.get_by_label("گذرواژه").fill(NEW_PASSWORD)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/enamad/panel/")

    # The link was used: it is dead now, and the page says so with a way to ask again.
    page.context.clear_cookies()
    page.goto(link)
    expect(page.locator("#password-reset-confirm h1")).to_have_text("پیوند بازیابی معتبر نیست")
    expect(page.get_by_role("link", name="درخواست پیوند تازه")).to_be_visible()
    _fits(page)
    shot(page, "recovery-5-used-link-390")


@pytest.mark.django_db(transaction=True)
def test_applicant_support_from_the_ramis_panel_on_a_phone(page, shot, live_server, applicant_person):
    """A RAMIS applicant opens e-Namad's support from /panel/ and reads the staff answer there.
    Screenshots: var/screenshots/applicant-support-*-390.png."""
    from django.test import Client

    from enamad.support import services as support_services
    from tests.conftest import login_applicant, make_staff

    client = login_applicant(Client(), applicant_person)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    page.set_viewport_size(PHONE)
    page.goto("/panel/")
    page.locator("#support").get_by_role("link", name="تیکت جدید").click()
    page.wait_for_url("**/panel/support/new/")
    page.get_by_label("موضوع").fill("پرداخت انجام شد ولی وضعیت تغییر نکرد")
    page.get_by_label("متن پیام").fill("مبلغ از حساب کم شد ولی درخواست هنوز در انتظار پرداخت است.")
    _fits(page)
    shot(page, "applicant-support-1-new-390")
    page.get_by_role("button", name="ارسال تیکت").click()
    page.wait_for_url("**/panel/support/*/")
    expect(page.locator("#ticket-status")).to_have_text("باز (در انتظار پاسخ پشتیبانی)")

    from enamad.models import Ticket

    ticket = Ticket.objects.get()
    expert = make_staff("support1", perms=["enamad.answer_ticket"])
    support_services.ticket_answer(ticket_id=ticket.pk, actor=expert, body="پرداخت تأیید شد؛ صفحه را تازه کنید.")
    page.reload()
    expect(page.locator("#ticket-status")).to_have_text("پاسخ داده شد")
    expect(page.locator("#thread")).to_contain_text("پرداخت تأیید شد")
    _fits(page)
    shot(page, "applicant-support-2-answered-390")
