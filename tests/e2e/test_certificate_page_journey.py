"""Issue 13, as a person sees it: the holder goes from the panel to the certificate page, reads
it, takes the certificate and its chain away, at desktop width and on a 390 px phone (and,
before issuance, follows the request's lifecycle strip and takes the appointment slip and its
calendar file); a visitor
who follows a forged seal link is told plainly the seal is not valid."""

import re

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7
from django.test import Client
from playwright.sync_api import expect

from ramis.requests import services
from tests.conftest import issue_test_certificate, login_applicant
from tests.requests.conftest import advance, catalogue, make_draft  # noqa: F401

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:
    """Nothing runs past the right (or, in RTL, the left) edge of the viewport."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_holder_opens_reads_and_downloads_the_certificate(page, shot, live_server, applicant_person, office,
                                                          clerk, catalogue):  # noqa: F811
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    client = login_applicant(Client(), applicant_person)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])

    # before issuance: the request's lifecycle strip, the printable slip and the calendar file
    page.set_viewport_size(PHONE)
    page.goto(f"/panel/requests/{req.pk}/")
    strip = page.locator("#lifecycle")
    expect(strip.locator("li.current")).to_have_text(re.compile("صدور گواهی"))
    expect(strip.locator("li.done")).to_have_count(4)
    assert _fits(page)
    shot(page, "request-lifecycle-390")
    with page.expect_download() as download:
        page.locator("#ics-link").click()
    assert b"BEGIN:VEVENT" in open(download.value.path(), "rb").read()
    page.goto(f"/panel/requests/{req.pk}/appointment/slip/")
    expect(page.locator("#slip")).to_contain_text(req.reference)
    shot(page, "appointment-slip-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    issued = issue_test_certificate("signature")
    certificate = services.request_mark_issued(request_id=req.pk, actor=clerk, serial=issued.serial_hex,
                                               not_before=issued.not_before, not_after=issued.not_after,
                                               token_serial="TK-00042")

    page.goto("/panel/")
    page.locator("#certificates").get_by_role("link", name="صفحه گواهی و دریافت").click()
    page.wait_for_url(f"**/panel/certificates/{certificate.pk}/")
    expect(page.locator("#certificate-status")).to_have_text("معتبر")
    expect(page.locator("#certificate-subject")).to_contain_text("نام خانوادگی")
    expect(page.locator("#sha256")).to_contain_text(issued.sha256[:2].upper() + ":")
    expect(page.locator("#token")).to_contain_text("TK-00042")
    with page.expect_download() as download:
        page.get_by_role("link", name="زنجیره گواهی به قالب PKCS#7").click()
    chain = pkcs7.load_der_pkcs7_certificates(open(download.value.path(), "rb").read())
    assert len(chain) == 3 and download.value.suggested_filename.endswith(".p7b")
    shot(page, "certificate-page")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("link", name="گواهی به قالب PEM")).to_be_visible()
    expect(page.locator("#revoke-link")).to_be_visible()
    assert _fits(page)
    shot(page, "certificate-page-390")


@pytest.mark.django_db(transaction=True)
def test_a_forged_seal_link_says_the_seal_is_not_valid(page, shot):
    for viewport, name in (({"width": 1280, "height": 900}, "seal-invalid"), (PHONE, "seal-invalid-390")):
        page.set_viewport_size(viewport)
        response = page.goto("/trustseal/?id=1&Code=bad")
        assert response.status == 404
        expect(page.get_by_role("heading", name="این نماد معتبر نیست")).to_be_visible()
        expect(page.locator("#registry-link")).to_be_visible()
        assert _fits(page)
        shot(page, name)
