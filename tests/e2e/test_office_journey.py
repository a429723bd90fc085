"""Issue 5 journey, across both sides: the applicant submits; the clerk approves in the staff
view; the applicant pays in the sandbox and books a slot; at the visit the clerk checks the
applicant's identity and issues the certificate onto a new SoftHSM token whose PIN the
applicant types; the applicant sees the certificate in the panel. Screenshots: var/screenshots/office-*.png"""

import re

import pytest
from django.core.management import call_command

from tests.e2e import steps
from tests.e2e.test_request_journey import _login as applicant_login


def _staff_login(page, username):
    from certauth.models import User
    from tests.conftest import totp_now

    steps.staff_login(page, username, totp_now(User.objects.get(username=username)), lands_on="/office/")


@pytest.mark.django_db(transaction=True)
def test_submit_approve_pay_book_identify_issue_and_see_the_certificate(page, browser, live_server, shot, settings):
    settings.DEBUG = True
    settings.DEV_OUTBOX = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ramis.desk.models import IssuanceAttempt
    from ramis.offices.models import RegistrationOffice, TokenModel
    from ramis.registry.models import Person
    from ramis.requests import services
    from ramis.requests.models import Certificate, CertificateRequest, DocumentRequirement
    from tests.conftest import ca_ready
    from tests.requests.conftest import make_draft
    from tokens.conf import get_manager

    ca_ready()
    applicant_login(page)
    person = Person.objects.get(national_code="0499370899")  # with the user the login created
    # the draft is filled through the services (issue 4's journey walks every step of the form)
    draft = make_draft(person, RegistrationOffice.objects.get(code="TEH01"),
                       catalogue={"token": TokenModel.objects.get(name="ePass 2003")}, upload=False)
    for requirement in DocumentRequirement.objects.for_request(draft).filter(required=True):
        services.document_upload(request_id=draft.pk, requirement_id=requirement.pk, actor=person.user,
                                 upload=SimpleUploadedFile(f"{requirement.code}.pdf", steps.scan_pdf(requirement.title)))
    page.goto(f"/panel/requests/{draft.pk}/step/review/")
    shot(page, "office-01-applicant-review")
    page.get_by_role("button", name="ثبت نهایی").click()
    page.wait_for_url(re.compile(r".*/panel/requests/\d+/$"))
    assert page.locator("#status-label").inner_text() == "ارسال‌شده به دفتر ثبت‌نام"

    # the clerk, in another browser context, approves in the staff view
    clerk_context = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran",
                                        viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    clerk_context.set_default_timeout(30_000)
    desk = clerk_context.new_page()
    _staff_login(desk, "clerk")
    steps.clerk_approves(desk, draft.reference, draft.pk, shot=lambda name: shot(desk, name))
    assert "تأیید شد" in desk.locator(".messages").inner_text()

    # the applicant pays in the sandbox and books a slot
    page.reload()
    assert page.locator("#status-label").inner_text() == "در انتظار پرداخت"
    steps.pay(page)
    steps.book_first_slot(page)
    assert page.locator("#status-label").inner_text() == "در انتظار صدور"
    shot(page, "office-04-applicant-awaiting-issuance")

    # at the visit: the identity check
    steps.identity_check(desk, draft.reference, shot=lambda name: shot(desk, name))

    # issuance onto a new SoftHSM token: the applicant types the PIN on the clerk's screen
    before = {t.serial for t in get_manager().list_tokens()}
    # the applicant bought an ePass 2003: a new token, or a present one only to be wiped and
    # re-initialised with its SO PIN (a token its vendor initialised) — never one as it is
    assert desk.locator("input[name=token]:not([value^='wipe:'])").count() == 1
    steps.issue_on_new_token(desk, draft.pk, "135790", shot=lambda name: shot(desk, name))
    assert "صادر و روی توکن نوشته شد" in desk.locator(".messages").inner_text()
    assert desk.locator("#status-label").inner_text() == "صادرشده"
    shot(desk, "office-08-issued")
    certificate = Certificate.objects.get(request_id=draft.pk)
    handover = desk.request.get(f"/office/requests/{draft.pk}/handover.pdf")
    assert handover.ok and handover.headers["content-type"] == "application/pdf"
    from tests.e2e.conftest import SCREENSHOTS

    (SCREENSHOTS / "office-10-handover.pdf").write_bytes(handover.body())
    # the signed sheet comes back: the clerk records the handover with its scan
    desk.locator("#handover-form input[type=file]").set_input_files(
        files=[{"name": "signed-sheet.pdf", "mimeType": "application/pdf", "buffer": handover.body()}])
    desk.get_by_role("button", name="ثبت تحویل").click()
    desk.wait_for_url(f"**/office/requests/{draft.pk}/")
    assert "تحویل گواهی و توکن ثبت شد" in desk.locator(".messages").inner_text()
    assert "تحویل شد" in desk.locator("#handover").inner_text()
    shot(desk, "office-11-handed-over")
    new_tokens = [t for t in get_manager().list_tokens() if t.serial not in before]
    assert [t.serial for t in new_tokens] == [certificate.token_serial]
    assert IssuanceAttempt.objects.get(request_id=draft.pk).status == "issued"
    clerk_context.close()

    # the applicant sees the certificate in the panel
    page.goto("/panel/")
    assert certificate.serial in page.locator("#certificates").inner_text()
    shot(page, "office-09-applicant-certificate")
    assert CertificateRequest.objects.get(pk=draft.pk).status == "issued"
