"""The RAMIS journey through the deployed topology (nginx → two web processes, the workers, the
signing worker, the OCSP tier), in Chromium over HTTPS: the applicant requests, the clerk
approves, the applicant pays at the stand-in bank and books, the clerk checks identity and
issues onto a new SoftHSM token (signed by the `signing` worker), openssl asks the OCSP tier
(plain HTTP /ca/ocsp/ through nginx) and hears *good*; the applicant revokes; *revoked*."""

from __future__ import annotations

import subprocess
import time

from ramis.requests.management.commands.seed_demo import APPLICANT
from tests.e2e import steps
from tests.prod.conftest import db_fresh, sms_code_for, totp_now
from tests.prod.test_enamad_journey import outbox_body


def ocsp_status(topology, tmp_path, der: bytes) -> str:
    """What `openssl ocsp` says of the certificate, asking the OCSP tier through nginx over plain
    HTTP and verifying the answer up to the root."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from ramis.ca.models import CertificateAuthority

    def pem(der_bytes: bytes) -> bytes:
        return x509.load_der_x509_certificate(der_bytes).public_bytes(Encoding.PEM)

    db_fresh()
    issuing = CertificateAuthority.objects.get(slug="issuing")
    root = CertificateAuthority.objects.get(slug="root")
    (tmp_path / "cert.pem").write_bytes(pem(der))
    (tmp_path / "issuing.pem").write_bytes(pem(bytes(issuing.certificate_der)))
    (tmp_path / "chain.pem").write_bytes(pem(bytes(root.certificate_der)) + pem(bytes(issuing.certificate_der)))
    result = subprocess.run(
        ["openssl", "ocsp", "-issuer", tmp_path / "issuing.pem", "-cert", tmp_path / "cert.pem",
         "-url", f"http://127.0.0.1:{topology.http_port}/ca/ocsp/issuing/", "-CAfile", tmp_path / "chain.pem",
         "-timeout", "10"], capture_output=True, text=True, timeout=30)
    assert "Response verify OK" in result.stderr, result.stderr
    return result.stdout.splitlines()[0].split(":", 1)[1].strip()


def wait_for_ocsp(topology, tmp_path, der: bytes, expected: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = ocsp_status(topology, tmp_path, der)
        if status == expected:
            return status
        time.sleep(1)
    return status


def request_awaiting_issuance(new_context):
    """The applicant requests, the clerk approves, the applicant pays and books: (applicant's
    page, clerk's page, the request), at "awaiting issuance"."""
    from ramis.common.models import OutboxMessage
    from ramis.requests.models import CertificateRequest

    db_fresh()
    last_sms = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    page = new_context().new_page()
    steps.applicant_login(page, code_for=lambda _page: sms_code_for(APPLICANT["mobile"], after_id=last_sms))
    steps.signature_request_details(page, email_code_for=lambda _page: outbox_body(
        "ali.rezaei@example.com", r"کد تأیید رایانامه: ([0-9]{6})", after_id=last_sms).group(1))
    steps.upload_documents(page, steps.scan_pdf("مدرک"))
    assert page.locator(".docs .ok").count() == 3
    steps.office_in_person_and_new_token(page)
    steps.submit(page)
    assert page.locator("#status-label").inner_text() == "ارسال‌شده به دفتر ثبت‌نام"
    db_fresh()
    request = CertificateRequest.objects.order_by("-id").first()

    desk = new_context().new_page()
    steps.staff_login(desk, "clerk", totp_now("clerk"), lands_on="/office/")
    steps.clerk_approves(desk, request.reference, request.pk)
    assert "تأیید شد" in desk.locator(".messages").inner_text()

    page.reload()
    assert page.locator("#status-label").inner_text() == "در انتظار پرداخت"
    steps.pay(page)  # at the stand-in bank (manage.py devbank), back through the bank's callback
    assert page.locator("#status-label").inner_text() == "در انتظار تعیین نوبت"
    steps.book_first_slot(page)
    assert page.locator("#status-label").inner_text() == "در انتظار صدور"
    return page, desk, request


def test_ramis_journey_through_the_proxy(topology, new_context, tmp_path):
    from ramis.ca.models import IssuedCertificate
    from ramis.requests.models import Certificate

    page, desk, request = request_awaiting_issuance(new_context)
    steps.identity_check(desk, request.reference)
    steps.issue_on_new_token(desk, request.pk, "135790")
    assert "صادر و روی توکن نوشته شد" in desk.locator(".messages").inner_text()
    assert desk.locator("#status-label").inner_text() == "صادرشده"

    db_fresh()
    certificate = Certificate.objects.get(request_id=request.pk)
    der = bytes(IssuedCertificate.objects.get(serial_hex=certificate.serial.lower()).der)
    assert wait_for_ocsp(topology, tmp_path, der, "good") == "good"

    page.goto("/panel/")
    assert certificate.serial in page.locator("#certificates").inner_text()
    page.goto(f"/panel/certificates/{certificate.pk}/revoke/")
    page.get_by_label("گم شدن یا سرقت توکن").check()
    page.get_by_label("می‌دانم که گواهی ابطال‌شده دیگر قابل استفاده نیست و برگشت‌پذیر نیست.").check()
    page.get_by_role("button", name="ثبت ابطال").click()
    page.wait_for_url("**/panel/")
    assert "گواهی همین حالا ابطال شد." in page.locator(".messages").inner_text()
    assert wait_for_ocsp(topology, tmp_path, der, "revoked") == "revoked"
