"""Issue 4 journey: the demo applicant logs in, fills a signature-certificate request through
every step, uploads documents, chooses an office in person and a new token, submits; the clerk
approves (service call); the applicant pays in the sandbox gateway, books a slot on the Jalali
calendar and sees "awaiting issuance" with the appointment's Jalali date."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e import steps
from tests.requests.conftest import PDF_BYTES


def _outbox_code(page) -> str:
    """The login code, as the development outbox page (/dev/outbox/) shows it."""
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox/")
    code = re.search(r"\b[0-9]{6}\b", outbox.locator("#outbox tbody tr td.msg-body").first.inner_text()).group(0)
    outbox.close()
    return code


def _login(page):
    steps.applicant_login(page, code_for=_outbox_code)


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
    steps.signature_request_details(page, shot=lambda name: shot(page, name))
    steps.upload_documents(page, PDF_BYTES)
    assert page.locator(".docs .ok").count() == 3
    shot(page, "request-04-documents")
    steps.office_in_person_and_new_token(page, shot=lambda name: shot(page, name))
    assert page.locator("#missing").count() == 0
    shot(page, "request-07-review")
    steps.submit(page)
    assert page.locator("#status-label").inner_text() == "ارسال‌شده به دفتر ثبت‌نام"
    shot(page, "request-08-submitted")

    req = CertificateRequest.objects.get()
    services.request_approve(request_id=req.pk, actor=User.objects.get(username="clerk"))  # the office approves

    page.reload()
    assert page.locator("#status-label").inner_text() == "در انتظار پرداخت"
    shot(page, "request-09-awaiting-payment")

    def at_the_sandbox(gateway):
        assert "/pay/sandbox/" in gateway.url
        assert "۶٬۵۰۰٬۰۰۰" in gateway.locator("#amount").inner_text()  # 2,000,000 certificate + 4,500,000 token
        shot(gateway, "request-10-sandbox-gateway")

    steps.pay(page, at_gateway=at_the_sandbox)
    assert page.locator("#status-label").inner_text() == "در انتظار تعیین نوبت"
    expect(page.get_by_role("link", name="رسید پرداخت (PDF)")).to_be_visible()
    shot(page, "request-11-paid")

    steps.book_first_slot(page, shot=lambda name: shot(page, name))
    appointment = Appointment.objects.get(request=req, is_active=True)
    assert page.locator("#status-label").inner_text() == "در انتظار صدور"
    assert jalali_long(appointment.starts_at) in page.locator("#appointment").inner_text()
    shot(page, "request-13-awaiting-issuance")
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
