"""Issue 13 items 4, 6 and 7 as a person sees them in Chromium, on a 390 px phone and at desktop
width: tables become cards with their actions on screen (the holder's certificates, the clerk's
queue, the shop owner's businesses), the menu folds behind «منو» (also without JS), the seal
page's facts stay inside the card, each product carries its own menu with one logout, and a click
that commits (renewal, cancelling, with JS off too) first shows a page that says what will happen.
Screenshots under var/screenshots/phone-*.png."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from ramis.requests.models import CertificateRequest
from tests.conftest import login_applicant, login_staff
from tests.enamad.conftest import PASSWORD, make_account, make_business
from tests.requests.conftest import advance, catalogue, make_draft  # noqa: F401

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _fits(page) -> bool:
    """No horizontal overflow: the page is no wider than the phone (else the culprits are shown)."""
    if page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"):
        return True
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => {
        const r = e.getBoundingClientRect(); return r.width && (r.left < -1 || r.right > innerWidth + 1); })
        .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().width)""")
    pytest.fail(f"wider than {page.viewport_size['width']} px: {wide}")


def _on_screen(locator, width: int = PHONE["width"]) -> bool:
    """Shown and wholly inside the viewport's width (not off to the side of a scrolling table)."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def _inside(inner, outer) -> bool:
    a, b = inner.bounding_box(), outer.bounding_box()
    return a["x"] >= b["x"] - 0.5 and a["x"] + a["width"] <= b["x"] + b["width"] + 0.5


def _as(context, live_server, client):
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def _new_page(browser, live_server, **options):
    context = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran", base_url=live_server.url,
                                  viewport=PHONE, **options)
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.django_db(transaction=True)
def test_holder_on_a_phone_sees_the_certificate_card_and_confirms_the_renewal(
        page, shot, live_server, applicant_person, office, clerk, catalogue):  # noqa: F811
    certificate = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)
    advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    _as(page.context, live_server, login_applicant(Client(), applicant_person))

    # the portal's home is the one way between the two products
    page.goto("/")
    expect(page.locator("#to-enamad")).to_be_visible()
    expect(page.locator("#site-nav a[href^='/enamad/']")).to_have_count(0)
    shot(page, "phone-home-desktop")
    page.goto("/panel/")
    shot(page, "phone-panel-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    # the menu is folded: the page's title comes right under the header, not ~270 px down
    expect(page.locator("#site-nav")).to_be_hidden()
    assert page.locator("h1").bounding_box()["y"] < 130
    assert _fits(page)
    row = page.locator("#certificates tbody tr").first
    assert _on_screen(row.locator(".status"))
    assert _on_screen(row.locator("td[data-label='اعتبار']"))
    assert _on_screen(row.get_by_role("link", name="تمدید", exact=True))
    assert _on_screen(row.get_by_role("link", name="ابطال", exact=True))
    assert _on_screen(page.locator("#requests tbody tr").first.locator(".status"))
    shot(page, "phone-panel-390")
    page.goto("/")
    assert _fits(page) and _on_screen(page.locator("#to-enamad"))
    shot(page, "phone-home-390")
    page.goto("/panel/")
    page.get_by_text("منو", exact=True).click()
    expect(page.locator("#site-nav")).to_be_visible()
    expect(page.locator("#site-nav").get_by_role("button", name="خروج")).to_have_count(1)
    shot(page, "phone-menu-open-390")
    page.get_by_text("منو", exact=True).click()

    # renewing asks first: opening the page starts nothing
    row.get_by_role("link", name="تمدید", exact=True).click()
    page.wait_for_url(f"**/panel/certificates/{certificate.pk}/renew/")
    expect(page.locator("#confirm h1")).to_have_text("تمدید گواهی")
    assert _fits(page) and _on_screen(page.locator("#confirm-button"))
    shot(page, "phone-confirm-renew-390")
    assert not CertificateRequest.objects.filter(kind="renew").exists()
    page.locator("#confirm-button").click()
    page.wait_for_url("**/step/details/")
    assert CertificateRequest.objects.filter(kind="renew", renews=certificate).count() == 1


@pytest.mark.django_db(transaction=True)
def test_without_js_the_menu_opens_and_cancelling_asks_first(browser, shot, live_server, applicant_person, office,
                                                             clerk, catalogue):  # noqa: F811
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)
    page = _new_page(browser, live_server, java_script_enabled=False)
    _as(page.context, live_server, login_applicant(Client(), applicant_person))
    page.goto("/panel/")
    expect(page.locator("#site-nav")).to_be_hidden()
    page.get_by_text("منو", exact=True).click()  # a checkbox's label: no script needed
    expect(page.locator("#site-nav").get_by_role("link", name="پنل من")).to_be_visible()
    assert _fits(page)

    page.goto(f"/panel/requests/{req.pk}/")
    page.locator("#cancel-link").click()
    page.wait_for_url(f"**/panel/requests/{req.pk}/cancel/")
    expect(page.locator("#confirm-facts")).to_contain_text("بازگردانده می‌شود")
    assert _fits(page)
    shot(page, "phone-confirm-cancel-390")
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_appointment"
    page.get_by_role("button", name="بله، درخواست لغو شود").click()
    page.wait_for_url(f"**/panel/requests/{req.pk}/")
    expect(page.locator(".messages")).to_contain_text("درخواست لغو شد")
    assert CertificateRequest.objects.get(pk=req.pk).status == "cancelled"
    page.context.close()


@pytest.mark.django_db(transaction=True)
def test_clerk_queue_on_a_phone(browser, shot, live_server, applicant_person, office, clerk,
                                catalogue):  # noqa: F811
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    page = _new_page(browser, live_server)
    _as(page.context, live_server, login_staff(Client(), clerk))
    page.goto("/office/")
    assert _fits(page)
    row = page.locator("#queue tbody tr").first
    assert _on_screen(row.get_by_role("link", name=req.reference))
    assert _on_screen(row.locator(".status"))
    shot(page, "phone-desk-queue-390")
    page.context.close()


@pytest.mark.django_db(transaction=True)
def test_shop_owner_on_a_phone_and_the_seal_page(page, shot, browser, live_server, enamad_expert):
    from tests.enamad.seals.test_seal import issue_seal

    account = make_account("phone.owner")
    seal = issue_seal(make_business(account, domain="a-rather-long-shop-domain-name.example.ir",
                                    email="customer-service.department@a-rather-long-shop-domain-name.example.ir"))
    page.goto("/enamad/login/")
    page.get_by_label("نام کاربری").fill("phone.owner")
    page.get_by_label("گذرواژه").fill(PASSWORD)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url("**/enamad/panel/")
    # e-Namad's own menu, one logout, no RAMIS applicant login
    nav = page.locator("#site-nav")
    expect(nav.get_by_role("button", name="خروج از سامانه")).to_have_count(1)
    expect(page.get_by_role("button", name="خروج", exact=True)).to_have_count(0)
    expect(page.get_by_text("ورود متقاضیان")).to_have_count(0)
    shot(page, "phone-enamad-panel-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    assert _fits(page)
    assert _on_screen(page.locator("#businesses").get_by_role("link", name="مدیریت کسب‌وکار"))
    shot(page, "phone-enamad-panel-390")

    page.goto(f"/trustseal/?id={seal.number}&Code={seal.code}")
    assert _fits(page)
    card = page.locator("#seal-details")
    for dd in card.locator("dd").all():
        assert _inside(dd, card), dd.inner_text()
    shot(page, "phone-seal-page-390")

    # the e-Namad desk's queue, on the expert's phone: the file's link on screen, e-Namad's menu
    desk = _new_page(browser, live_server)
    _as(desk.context, live_server, login_staff(Client(), enamad_expert))
    desk.goto("/enamad/staff/?q=sealed")
    assert _fits(desk)
    row = desk.locator("#queue tbody tr").first
    expect(row).to_contain_text("a-rather-long-shop-domain-name.example.ir")
    assert _on_screen(row.get_by_role("link", name="بررسی"))
    expect(desk.locator("#site-nav button")).to_have_text(["خروج"])  # one logout (the menu is folded)
    expect(desk.get_by_text("ورود متقاضیان")).to_have_count(0)
    shot(desk, "phone-enamad-desk-390")
    desk.context.close()
