"""Issue 6 journey, in a real Chromium through the real pages: a shop owner signs up, activates,
completes the profile, uploads documents, verifies mobile and landline (reverse SMS / IVR through
the development operator page), adds a business whose site (a local server) does not carry the
meta tag yet, proves control by the code e-mailed to info@ the domain (a wrong code first),
completes services, survey and contacts, and sends the file; an expert announces a
deficiency; the owner answers and resends; the expert approves; the documents are accepted; the
manager approves; the seal snippet pasted into the local site shows the seal image and clicking
it opens the seal page. A look-alike site with the same snippet gets the "not valid" image and
the warning page.

Chromium resolves every ``*.localhost`` name to the loopback address by itself, and the
verifier asks a local dnslib server, so no real name is ever resolved or fetched.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from enamad.catalogue import ensure_defaults
from enamad.models import Business, BusinessStatus, ChecklistItem, Seal, ServiceCategory
from tests.conftest import STAFF_PASSWORD, make_staff, totp_now
from tests.e2e import steps
from tests.enamad.conftest import PDF_BYTES, Site, Zone, _serve, png_bytes

DOMAIN = "shop.localhost"
FAKE = "fake.localhost"
USERNAME = "sara.karimi"
PASSWORD = "Shop-owner-pass-2026"
MOBILE = "09121112233"
LANDLINE = "02188776655"


def page_html(head: str = "", body: str = "") -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>فروشگاه نمونه</title>{head}</head>"
            f"<body><h1>فروشگاه نمونه</h1>{body}</body></html>").encode()


@pytest.fixture
def sites():
    shop, fake = Site(), Site()
    servers = [_serve(shop), _serve(fake)]
    shop.routes["/"] = (200, page_html(), {})
    fake.routes["/"] = (200, page_html(), {})
    yield shop, fake
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def zone():
    from dnslib.server import DNSLogger, DNSServer

    zone = Zone()
    zone.a[DOMAIN] = "127.0.0.1"
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"))
    server.start_thread()
    zone.port = server.server.server_address[1]
    yield zone
    server.stop()
    server.server.server_close()


def outbox_text(context, index: int = 0) -> str:
    outbox = context.new_page()
    outbox.goto("/dev/outbox/")
    text = outbox.locator("#outbox tbody tr td.msg-body").nth(index).inner_text()
    outbox.close()
    return text


def operator_sends(context, channel: str, sender: str, text: str, shot=None) -> None:
    op = context.new_page()
    op.goto("/enamad/dev/operator/")
    op.get_by_label("کانال").select_option(channel)
    op.get_by_label("شماره فرستنده").fill(sender)
    op.get_by_label("متن پیامک / ارقام واردشده").fill(text)
    if shot:
        shot(op, "enamad-05-operator")
    op.get_by_role("button", name="تحویل پیام").click()
    assert "احراز شد" in op.locator(".messages").inner_text()
    op.close()


def staff_page(browser, live_server, user, lands_on: str = "/enamad/staff/?q=review"):
    context = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran", base_url=live_server.url,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/auth/staff/login/")
    page.get_by_label("نام کاربری").fill(user.username)
    page.get_by_label("گذرواژه").fill(STAFF_PASSWORD)
    page.get_by_label("کد TOTP").fill(totp_now(user))
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url(f"**{lands_on}")  # each role lands on its own desk tab (issue 13)
    return page


@pytest.mark.django_db(transaction=True)
def test_enamad_journey(page, shot, browser, live_server, settings, sites, zone, tmp_path):
    shop, fake = sites
    settings.DEBUG = True
    settings.DEV_OUTBOX = True
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ENAMAD_DNS_RESOLVER = f"127.0.0.1:{zone.port}"
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = True
    settings.ENAMAD_VERIFY_HTTP_PORT = shop.port
    settings.ENAMAD_VERIFY_HTTPS_PORT = 9  # nothing listens: the site has no TLS, one star
    settings.ENAMAD_VERIFY_TIMEOUT_SECONDS = 2
    ensure_defaults(ChecklistItem, ServiceCategory)  # an earlier transactional test flushed the migration data
    expert = make_staff("expert", perms=["enamad.review_business", "enamad.review_documents"])
    manager = make_staff("manager", perms=["enamad.approve_business"])
    card, birth = tmp_path / "card.png", tmp_path / "birth.pdf"
    card.write_bytes(png_bytes())
    birth.write_bytes(PDF_BYTES)
    context = page.context

    # 1. Sign up as a natural person (the form adapts to the persona).
    steps.enamad_signup(page, username=USERNAME, password=PASSWORD, national_code="۰۴۹۹۳۷۰۸۹۹", mobile=MOBILE,
                        email="sara@example.com", shot=lambda name: shot(page, name))

    # 2. Activate by the e-mailed link, then log in with username and password.
    link = re.search(r"http://\S+/enamad/activate/\S+/", outbox_text(context)).group(0)
    steps.enamad_activate_and_login(page, link, USERNAME, PASSWORD)
    shot(page, "enamad-02-panel-new")

    # 3. Complete the profile; 4. upload the two required documents; each upload confirms.
    steps.enamad_profile_and_documents(page, LANDLINE, card, birth, shot=lambda name: shot(page, name))

    # 5. Reverse SMS from the mobile, then the IVR call from the landline.
    page.goto("/enamad/panel/identity/")
    code = page.locator("#mobile-code").inner_text().strip()
    shot(page, "enamad-04-identity-code")
    operator_sends(context, "sms", "+98 912 111 2233", code, shot=shot)
    page.reload()
    assert "صحت تلفن همراه شما تأیید شده است" in page.content()
    operator_sends(context, "ivr", LANDLINE, page.locator("#landline-code").inner_text().strip())
    page.goto("/enamad/panel/")
    expect(page.locator("#mobile-verified")).to_be_visible()
    expect(page.locator("#landline-verified")).to_be_visible()
    shot(page, "enamad-06-identity-verified")

    # 6. Add the business; an IP address is refused with a clear message.
    page.get_by_role("link", name="افزودن کسب‌وکار").click()
    page.get_by_label("دامنه").fill("185.10.20.30")
    page.get_by_label("نام کسب‌وکار").fill("فروشگاه نمونه")
    page.get_by_label("نشانی (می‌تواند مسکونی باشد)").fill("تهران، خیابان آزادی، پلاک ۱")
    page.get_by_label("کد پستی").fill("۱۳۱۶۹۴۳۱۱۵")
    page.get_by_label("تلفن ثابت با پیش‌شماره شهر").fill(LANDLINE)
    page.get_by_label("رایانامه کسب‌وکار").fill("info@shop.localhost")
    page.get_by_role("button", name="ذخیره").click()
    assert "نشانی IP پذیرفته نیست" in page.content()
    page.get_by_label("دامنه").fill(f"http://{DOMAIN}/")
    page.get_by_role("button", name="ذخیره").click()
    page.wait_for_url("**/technical/")
    assert "ثبت دامنه با موفقیت انجام شد" in page.content()
    business = Business.objects.get()
    assert business.domain == DOMAIN

    # 7. Technical verification: the site does not carry the tag; the owner has a code e-mailed to
    # info@ the domain instead (N22) and enters it, a wrong one first (the error under the field).
    page.get_by_role("button", name="بررسی کن").click()
    assert "هنوز انجام نشده" in page.locator(".messages").inner_text()
    meta = page.locator("#meta-tag").inner_text().strip()
    page.locator("#send-email-code").click()
    assert f"info@{DOMAIN}" in page.locator(".messages").inner_text()
    code = re.search(r"کد تأییدیه فنی: ([0-9]{6})", outbox_text(context)).group(1)
    code_field = page.get_by_label("کد ارسال‌شده به رایانامه")
    code_field.fill("111111" if code == "000000" else "000000")
    page.get_by_role("button", name="تأیید کد").click()
    expect(page.locator("#code-error")).to_contain_text("کد درست نیست")
    code_field.fill(code)
    page.get_by_role("button", name="تأیید کد").click()
    expect(page.locator("#technical-ok")).to_contain_text("کد ارسالی به رایانامه info دامنه")
    shop.routes["/"] = (200, page_html(head=meta), {})  # the lasting mark the monitor will look for
    shot(page, "enamad-07-technical-ok")

    # 8. Services and licences, survey.
    steps.enamad_services_and_survey(page)

    # 9. Business contacts: e-mail by link, phone by the IVR, address by the posted code.
    page.get_by_role("link", name="احراز اطلاعات کسب‌وکار").click()
    page.get_by_role("button", name="ارسال پیوند تأیید").click()
    link = re.search(r"http://\S+/enamad/confirm-email/\S+/", outbox_text(context)).group(0)
    confirm = context.new_page()
    confirm.goto(link)  # the link only shows a page; its button confirms
    confirm.get_by_role("button", name="تأیید رایانامه").click()
    assert "رایانامه کسب‌وکار تأیید شد" in confirm.content()
    confirm.close()
    page.get_by_role("button", name="دریافت کد احراز تلفن").click()
    operator_sends(context, "ivr", LANDLINE, page.locator("#business-phone-code").inner_text().strip())
    page.get_by_role("button", name="ارسال نامه پستی حاوی کد").click()
    letters = context.new_page()
    letters.goto("/enamad/dev/operator/")
    letter_code = re.search(r"(\d{8})", letters.locator("#letters tbody tr td.msg-body").first.inner_text()).group(1)
    letters.close()
    page.get_by_label("کد درج‌شده در نامه پستی").fill(letter_code)
    page.get_by_role("button", name="تأیید کد").click()
    expect(page.locator("#contact-address .msg-success")).to_be_visible()
    page.reload()
    shot(page, "enamad-08-contacts")
    business.refresh_from_db()
    assert business.contacts_verified_count == 3

    # 10. Read the checklist, then send to the expert.
    page.goto(f"/enamad/panel/business/{business.pk}/send/")
    assert page.locator("#checklist li").count() == ChecklistItem.objects.filter(active=True).count()
    shot(page, "enamad-09-checklist")
    page.get_by_role("button", name="تأیید و ارسال پرونده جهت بررسی کارشناس").click()
    assert page.locator("#business-status").inner_text() == "در حال بررسی"

    # 11. The expert announces a deficiency on one item.
    desk = staff_page(browser, live_server, expert)
    desk.goto("/enamad/staff/")
    desk.get_by_role("link", name="بررسی").last.click()
    rows = desk.locator("tr[data-item]")
    for i in range(rows.count()):
        rows.nth(i).locator("input[value='1']").check()
    rows.nth(1).locator("input[value='0']").check()
    rows.nth(1).locator("textarea").fill("تلفن ثابت در صفحه «تماس با ما» نیست.")
    shot(desk, "enamad-10-expert-review")
    desk.get_by_role("button", name="ثبت نتیجه بررسی").click()
    assert desk.locator("#business-status").inner_text() == "اعلام نقص"

    # 12. The owner reads the failed item, fixes the site, answers and resends.
    page.goto(f"/enamad/panel/business/{business.pk}/")
    assert page.locator("#business-status").inner_text() == "اعلام نقص"
    page.get_by_role("link", name="وضعیت چک‌لیست کسب‌وکار").click()
    failed = page.locator("#review-items tr.failed")
    assert failed.count() == 1 and "تماس با ما" in failed.inner_text()
    failed.locator("textarea").fill("تلفن به صفحه تماس با ما اضافه شد.")
    shot(page, "enamad-11-deficiency")
    page.get_by_role("button", name="ارسال").click()
    assert page.locator("#business-status").inner_text() == "در حال بررسی"

    # 13. The expert approves every item: physical documents.
    desk.reload()
    assert "تلفن به صفحه تماس با ما اضافه شد." in desk.content()
    rows = desk.locator("tr[data-item]")
    for i in range(rows.count()):
        rows.nth(i).locator("input[value='1']").check()
    desk.get_by_role("button", name="ثبت نتیجه بررسی").click()
    assert desk.locator("#business-status").inner_text() == "بررسی مدارک فیزیکی"

    # 14. The owner downloads the commitment letter.
    page.goto(f"/enamad/panel/business/{business.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="دریافت تعهدنامه").click()
    letter_path = tmp_path / "commitment.pdf"
    download_info.value.save_as(letter_path)
    assert letter_path.read_bytes().startswith(b"%PDF")
    shot(page, "enamad-12-physical-documents")

    # 15. The documents arrive and are accepted; 16. the manager approves.
    desk.get_by_role("button", name="ثبت دریافت مدارک").click()
    desk.get_by_role("button", name="تأیید مدارک فیزیکی").click()
    assert desk.locator("#business-status").inner_text() == "در حال بررسی توسط مدیر"
    desk.context.close()
    boss = staff_page(browser, live_server, manager, lands_on="/enamad/staff/?q=manager")  # not the expert's tab
    steps.enamad_manager_approves(boss, shot=lambda name: shot(boss, name))
    seal = Seal.objects.get(business=business)
    assert Business.objects.get().status == BusinessStatus.APPROVED

    # 17. The owner copies the seal code onto the home page of the shop.
    page.goto(f"/enamad/panel/business/{business.pk}/")
    page.get_by_role("link", name="دریافت کد نماد").click()
    snippet = page.locator("#seal-snippet").input_value()
    assert f"id={seal.number}&Code={seal.code}" in snippet
    shot(page, "enamad-14-seal-code")
    shop.routes["/"] = (200, page_html(head=meta, body=f"<footer>{snippet}</footer>"), {})
    fake.routes["/"] = (200, page_html(body=f"<footer>{snippet}</footer>"), {})

    # 18. The shop shows the seal; clicking it opens the seal page with no warning.
    site = context.new_page()
    with site.expect_response(lambda r: "/trustseal/logo/" in r.url) as logo_info:
        site.goto(f"http://{DOMAIN}:{shop.port}/")
    assert logo_info.value.headers["x-seal-variant"] == "stars-1"
    site.wait_for_function("document.querySelector('footer img').naturalWidth > 0")
    shot(site, "enamad-15-shop-with-seal")
    with context.expect_page() as popup_info:
        site.locator("footer a").click()
    seal_page = popup_info.value
    seal_page.wait_for_load_state()
    assert "/trustseal/" in seal_page.url
    assert seal_page.locator("#seal-warning").count() == 0
    details = seal_page.locator("#seal-details").inner_text()
    assert DOMAIN in details and "فروشگاه نمونه" in details and "معتبر" in details
    shot(seal_page, "enamad-16-seal-page")

    # 19. A look-alike site that copied the snippet gets "not valid" and a warning page.
    copycat = context.new_page()
    with copycat.expect_response(lambda r: "/trustseal/logo/" in r.url) as logo_info:
        copycat.goto(f"http://{FAKE}:{fake.port}/")
    assert logo_info.value.headers["x-seal-variant"] == "invalid"
    shot(copycat, "enamad-17-copycat")
    with context.expect_page() as popup_info:
        copycat.locator("footer a").click()
    warning = popup_info.value
    warning.wait_for_load_state()
    expect(warning.locator("#seal-warning")).to_be_visible()
    expect(warning.locator("#seal-warning")).to_contain_text(FAKE)
    path = shot(warning, "enamad-18-seal-warning")
    assert path.stat().st_size > 10_000

    # The public registry lists the shop.
    page.goto(f"/enamad/registry/?q={DOMAIN}")
    assert DOMAIN in page.locator("#registry").inner_text()
    shot(page, "enamad-19-registry")
