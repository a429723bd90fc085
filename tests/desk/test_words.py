"""Words a clerk reads (issue 13 item 5): the issue page's subject in Persian labels and the key
in words (no ``common_name``, no ``rsa2048``); the handover PDF's subject one attribute a line
with each value isolated, so a Persian company name stays whole beside Latin names (read back
with pdftotext); the applicant's mobile in Persian digits; the upload limit in Persian digits;
the certificate page's download links with their Latin run isolated as one piece."""

from __future__ import annotations

import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ramis.common.uploads import validate_upload
from ramis.desk import services
from ramis.requests.models import Certificate, CertificateRequest
from tokens.conf import get_manager

from .conftest import TOKEN_PIN, identity_ok

RAW = ("common_name", "given_name", "surname", "national_code", "organization", "rsa2048", "ec-p256")


@pytest.fixture
def leftover_tsa_token(db, settings):
    """A ``tsa-rsa2048`` token in the session's SoftHSM directory, as tests/pki/test_tsa.py leaves
    one (made the way ``ca init`` makes a TSA token, so either test may come first)."""
    manager = get_manager()
    if "tsa-rsa2048" not in {t.label for t in manager.list_tokens()}:
        manager.init_token("tsa-rsa2048", settings.CA_SO_PIN, settings.CA_TSA["pin"])
    return "tsa-rsa2048"


@pytest.mark.parametrize("configured", [False, True], ids=["leftover", "the-tsa"])
def test_issue_page_lists_the_subject_in_persian(configured, ca, clerk, clerk_client, awaiting_issuance,
                                                 leftover_tsa_token, settings):
    """Whatever tokens the SoftHSM directory holds beforehand: one the settings name the TSA's is
    not listed at all; any other is listed by its label, the hardware's name, which is not the
    page's words (the words checked below are the page's own)."""
    if configured:
        settings.CA_TSA = {**settings.CA_TSA, "token": leftover_tsa_token}
    identity_ok(awaiting_issuance, clerk)
    html = clerk_client.get(reverse("desk:issue", args=[awaiting_issuance.pk])).content.decode()
    assert (leftover_tsa_token in html) is not configured
    for label in {t.label for t in get_manager().list_tokens()} - {leftover_tsa_token if configured else ""}:
        html = html.replace(label, "")
    subject = html[html.index('id="subject"'):html.index("</dl>", html.index('id="subject"'))]
    for label, value in (("نام در گواهی", "Ali Rezaei"), ("نام خانوادگی", "Rezaei"), ("کد ملی", "0499370899"),
                         ("سازمان", "Pars Sample Co"), ("سمت", "Chief Executive Officer")):
        assert f"<dt>{label}</dt><dd><bdi>{value}</bdi></dd>" in subject, label
    assert 'کلید  <bdi dir="ltr" id="key-type">RSA</bdi> با طول ۲۰۴۸ بیت' in html
    for raw in RAW:
        assert raw not in html, raw


def test_review_page_shows_the_mobile_in_persian_digits(clerk_client, awaiting_issuance):
    html = clerk_client.get(reverse("desk:review", args=[awaiting_issuance.pk])).content.decode()
    mobile = awaiting_issuance.applicant.mobile
    assert mobile.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in html and f">{mobile}<" not in html


def test_handover_pdf_keeps_a_persian_company_name_whole(ca, clerk, clerk_client, awaiting_issuance,
                                                         applicant_token, tmp_path):
    CertificateRequest.objects.filter(pk=awaiting_issuance.pk).update(latin_company_name="")
    company = awaiting_issuance.role.company.name
    identity_ok(awaiting_issuance, clerk)
    services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                    token_serial=applicant_token.serial)
    assert Certificate.objects.filter(request=awaiting_issuance).exists()
    pdf = tmp_path / "handover.pdf"
    pdf.write_bytes(clerk_client.get(reverse("desk:handover", args=[awaiting_issuance.pk])).content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert any(company in line for line in lines), (company, text)
    assert any("Ali Rezaei" in line for line in lines)
    assert "CN=" not in text and "O=" not in text and "serial" not in text  # no RFC 4514 string with Persian inside Latin parts


def test_upload_limit_in_persian_digits(settings):
    settings.UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    big = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10), content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        validate_upload(big)
    assert "حداکثر ۵ مگابایت" in exc.value.messages[0]
    settings.UPLOAD_MAX_BYTES = int(2.5 * 1024 * 1024)
    with pytest.raises(ValidationError) as exc:
        validate_upload(big)
    assert "حداکثر ۲٫۵ مگابایت" in exc.value.messages[0]
