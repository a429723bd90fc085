"""The e-Namad journey through the deployed topology, in Chromium over HTTPS: a shop owner signs
up (the activation e-mail goes through the outbox and the default worker), completes the file;
the phones are verified by the SMS gateway's and the IVR's signed callbacks (as the operators
send them: HMAC with ENAMAD_INBOUND_SECRET); domain control by the code e-mailed to info@ the
domain; the address by the posted letter's code; the expert and the manager approve; the seal
page and logo, asked for from the shop's pages (its Referer), say the seal is valid."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import ssl
import time
import urllib.parse
import urllib.request

from tests.e2e import steps
from tests.prod.conftest import db_fresh, totp_now

DOMAIN = "ketab-prodcheck.ir"
USERNAME = "sara.karimi"
PASSWORD = "Shop-owner-pass-2026"
MOBILE = "09121112233"
LANDLINE = "02188776655"
ENAMAD_STAFF_PASSWORD = "Enamad-demo-2026"  # enamad/management/commands/seed_enamad_demo.py


def outbox_body(to: str, pattern: str, after_id: int, timeout: float = 30.0) -> re.Match:
    from ramis.common.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db_fresh()
        for message in OutboxMessage.objects.filter(to=to, id__gt=after_id).order_by("-id"):
            found = re.search(pattern, message.body)
            if found:
                return found
        time.sleep(0.5)
    raise AssertionError(f"no message to {to} matching {pattern!r} within {timeout:.0f} s")


def operator_callback(topology, hook: str, fields: dict[str, str]) -> dict:
    """POST the gateway's signed callback to /enamad/hooks/<hook>/ through nginx."""
    import json

    body = urllib.parse.urlencode(fields).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(os.environ["ENAMAD_INBOUND_SECRET"].encode(), stamp.encode() + b"." + body,
                         hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{topology.https_url}/enamad/hooks/{hook}/", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Enamad-Timestamp": stamp,
                 "X-Enamad-Signature": signature})
    context = ssl.create_default_context(cafile=str(topology.tls_cert))
    with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def staff(new_context, username: str):
    desk = new_context().new_page()
    steps.staff_login(desk, username, totp_now(username), password=ENAMAD_STAFF_PASSWORD)
    return desk


def test_enamad_journey_to_a_verifiable_seal(topology, new_context, tmp_path):
    from enamad.models import Business, PostalLetter, Seal
    from ramis.common.models import OutboxMessage
    from tests.requests.conftest import PDF_BYTES, png_bytes

    db_fresh()
    start = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    card, birth = tmp_path / "card.png", tmp_path / "birth.pdf"
    card.write_bytes(png_bytes())
    birth.write_bytes(PDF_BYTES)
    page = new_context().new_page()

    steps.enamad_signup(page, username=USERNAME, password=PASSWORD, national_code="۰۰۱۳۵۴۲۴۱۹", mobile=MOBILE,
                        email="sara@example.com")
    link = outbox_body("sara@example.com", r"https?://\S+/enamad/activate/\S+/", start).group(0)
    steps.enamad_activate_and_login(page, link, USERNAME, PASSWORD)
    steps.enamad_profile_and_documents(page, LANDLINE, card, birth)

    # the phones: the owner texts the code from the mobile, keys the other into the IVR
    page.goto("/enamad/panel/identity/")
    assert operator_callback(topology, "sms", {"from": "+98 912 111 2233",
                                               "message": page.locator("#mobile-code").inner_text().strip()}
                             )["matched"]
    page.reload()
    assert "صحت تلفن همراه شما تأیید شده است" in page.content()
    assert operator_callback(topology, "ivr", {"caller": LANDLINE,
                                               "digits": page.locator("#landline-code").inner_text().strip()}
                             )["matched"]
    page.goto("/enamad/panel/")
    assert page.locator("#mobile-verified").is_visible() and page.locator("#landline-verified").is_visible()

    steps.enamad_add_business(page, DOMAIN, LANDLINE)
    db_fresh()
    business = Business.objects.get(domain=DOMAIN)
    # domain control by the code e-mailed to info@ the domain (delivered by the default worker)
    page.locator("#send-email-code").click()
    code = outbox_body(f"info@{DOMAIN}", r"کد تأییدیه فنی: ([0-9]{6})", start).group(1)
    page.get_by_label("کد ارسال‌شده به رایانامه").fill(code)
    page.get_by_role("button", name="تأیید کد").click()
    assert "کد ارسالی به رایانامه info دامنه" in page.locator("#technical-ok").inner_text()

    steps.enamad_services_and_survey(page)
    page.get_by_role("link", name="احراز اطلاعات کسب‌وکار").click()
    page.get_by_role("button", name="ارسال پیوند تأیید").click()
    confirm = page.context.new_page()
    confirm.goto(outbox_body(f"info@{DOMAIN}", r"https?://\S+/enamad/confirm-email/\S+/", start).group(0))
    confirm.get_by_role("button", name="تأیید رایانامه").click()
    assert "رایانامه کسب‌وکار تأیید شد" in confirm.content()
    confirm.close()
    page.get_by_role("button", name="دریافت کد احراز تلفن").click()
    assert operator_callback(topology, "ivr", {"caller": LANDLINE, "digits": page.locator(
        "#business-phone-code").inner_text().strip()})["matched"]
    page.get_by_role("button", name="ارسال نامه پستی حاوی کد").click()
    db_fresh()
    letter = PostalLetter.objects.filter(business=business).order_by("-id").first()
    page.get_by_label("کد درج‌شده در نامه پستی").fill(re.search(r"(\d{8})", letter.body).group(1))
    page.get_by_role("button", name="تأیید کد").click()
    page.locator("#contact-address .msg-success").wait_for()
    db_fresh()
    assert Business.objects.get(pk=business.pk).contacts_verified_count == 3

    page.goto(f"/enamad/panel/business/{business.pk}/send/")
    page.get_by_role("button", name="تأیید و ارسال پرونده جهت بررسی کارشناس").click()
    assert page.locator("#business-status").inner_text() == "در حال بررسی"
    steps.enamad_expert_approves_every_item(staff(new_context, "enamad_expert"))
    steps.enamad_manager_approves(staff(new_context, "enamad_manager"))

    db_fresh()
    seal = Seal.objects.get(business=business)
    page.goto(f"/enamad/panel/business/{business.pk}/")
    page.get_by_role("link", name="دریافت کد نماد").click()
    snippet = page.locator("#seal-snippet").input_value()
    assert_seal_verifies(new_context, snippet, seal)


def assert_seal_verifies(new_context, snippet: str, seal) -> None:
    """A buyer on the shop's page: the logo and the seal page, asked for with the shop's Referer."""
    href = re.search(r"href=['\"]([^'\"]+)", snippet).group(1).replace("&amp;", "&")
    src = re.search(r"src=['\"]([^'\"]+)", snippet).group(1).replace("&amp;", "&")
    assert f"id={seal.number}&Code={seal.code}" in href
    buyer = new_context().new_page()
    logo = buyer.goto(src, referer=f"https://{DOMAIN}/")
    assert logo.ok and logo.headers["content-type"].startswith("image/")
    assert logo.headers["x-seal-variant"] != "invalid", logo.headers
    buyer.goto(href, referer=f"https://{DOMAIN}/")
    assert buyer.locator("#seal-warning").count() == 0
    details = buyer.locator("#seal-details").inner_text()
    assert DOMAIN in details and "فروشگاه نمونه" in details and "معتبر" in details
