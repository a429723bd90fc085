"""The certificate page (X5, X9): Persian subject labels, Jalali validity, status with why,
fingerprints, token, downloads (DER, PEM, PKCS#7 chain), the two PDFs, renew and revoke from
there; only the holder, the issuing office's clerks and reviewers may open it (404 for others)."""

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ramis.ca.models import CertificateAuthority, IssuedCertificate
from ramis.common.jalali import jalali_date
from ramis.requests import services
from ramis.requests.models import Certificate
from tests.conftest import issue_test_certificate, login_staff, make_staff, pdf_text

from .conftest import advance, make_draft


@pytest.fixture
def certificate(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)
    issued = issue_test_certificate("signature")
    return services.request_mark_issued(request_id=req.pk, actor=clerk, serial=issued.serial_hex,
                                        not_before=issued.not_before, not_after=issued.not_after,
                                        token_serial="TK-00042")


@pytest.fixture
def reviewer_client(db):
    from django.contrib.auth.models import Group

    call_command("reviewer_group", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = make_staff("seo-reviewer")
    user.groups.add(Group.objects.get(name="SEO reviewers"))
    return login_staff(Client(), user)


def _colon_hex(digest: str) -> str:
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()


def test_the_holder_sees_subject_validity_status_fingerprints_and_token(applicant_client, certificate):
    issued = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    response = applicant_client.get(reverse("requests:certificate", args=[certificate.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # subject attributes under Persian labels, the identifier without its ETSI prefix
    for label in ("نام خانوادگی", "کد ملی", "سازمان", "سمت", "کشور"):
        assert f"<dt>{label}</dt>" in html
    assert "<bdi>0499370899</bdi>" in html and "PNOIR-" not in html and "<bdi>ایران</bdi>" in html
    # validity in Jalali, status in Persian, fingerprints as viewers print them
    assert jalali_date(certificate.not_after) in html and "معتبر" in html
    assert _colon_hex(issued.sha256) in html and _colon_hex(issued.sha1) in html
    assert "TK-00042" in html and "ePass 2003" in html  # the token it is on
    # downloads, PDFs, renew and revoke are all there
    for name, args in (("certificate_download", [certificate.pk, "cer"]),
                       ("certificate_download", [certificate.pk, "pem"]),
                       ("certificate_download", [certificate.pk, "p7b"]),
                       ("certificate_pdf", [certificate.pk]), ("request_summary_pdf", [certificate.pk]),
                       ("renew", [certificate.pk]), ("revoke", [certificate.pk])):
        assert reverse(f"requests:{name}", args=args) in html


def test_the_panel_links_each_certificate_to_its_page(applicant_client, certificate):
    html = applicant_client.get(reverse("requests:panel")).content.decode()
    assert reverse("requests:certificate", args=[certificate.pk]) in html


def test_a_revoked_certificate_says_why_in_persian(applicant_client, certificate, clerk):
    services.certificate_revoke(certificate_id=certificate.pk, actor=clerk, reason="affiliation_changed")
    html = applicant_client.get(reverse("requests:certificate", args=[certificate.pk])).content.decode()
    assert "ابطال‌شده" in html and "تغییر سمت یا پایان همکاری با شرکت" in html
    assert reverse("requests:renew", args=[certificate.pk]) not in html  # nothing left to renew or revoke
    assert reverse("requests:revoke", args=[certificate.pk]) not in html


def test_downloads_are_the_issued_certificate_and_its_chain(applicant_client, certificate):
    issued = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    der = applicant_client.get(reverse("requests:certificate_download", args=[certificate.pk, "cer"]))
    assert der["Content-Type"] == "application/pkix-cert" and "attachment" in der["Content-Disposition"]
    assert der.content == bytes(issued.der)
    pem = applicant_client.get(reverse("requests:certificate_download", args=[certificate.pk, "pem"]))
    assert x509.load_pem_x509_certificate(pem.content).fingerprint(hashes.SHA256()).hex() == issued.sha256.lower()
    p7b = applicant_client.get(reverse("requests:certificate_download", args=[certificate.pk, "p7b"]))
    assert p7b["Content-Type"] == "application/x-pkcs7-certificates"
    chain = pkcs7.load_der_pkcs7_certificates(p7b.content)
    issuing = CertificateAuthority.objects.get(slug="issuing")
    expected = [bytes(issued.der), bytes(issuing.certificate_der), bytes(issuing.parent.certificate_der)]
    assert sorted(c.public_bytes(serialization.Encoding.DER) for c in chain) == sorted(expected)  # a SET OF
    # OpenSSL, an outside reader, reads the same three certificates from the bundle
    printed = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-print_certs", "-noout"], input=p7b.content,
                             capture_output=True, check=True).stdout.decode()
    assert printed.count("subject=") == 3
    assert applicant_client.get(reverse("requests:certificate_download",
                                        args=[certificate.pk, "exe"])).status_code == 404


def test_certificate_details_and_request_summary_pdfs(applicant_client, certificate):
    details = applicant_client.get(reverse("requests:certificate_pdf", args=[certificate.pk]))
    assert details["Content-Type"] == "application/pdf"
    text = pdf_text(details.content)
    assert "مشخصات گواهی" in text and certificate.serial in text and "SHA-256" in text
    summary = applicant_client.get(reverse("requests:request_summary_pdf", args=[certificate.pk]))
    text = pdf_text(summary.content)
    assert "درخواست گواهی" in text and certificate.request.reference in text and "صدور گواهی" in text


def test_clerk_of_the_office_and_reviewer_see_it(certificate, clerk, reviewer_client):
    clerk_client = login_staff(Client(), clerk)
    for client in (clerk_client, reviewer_client):
        html = client.get(reverse("requests:certificate", args=[certificate.pk])).content.decode()
        assert certificate.serial in html
        assert reverse("requests:renew", args=[certificate.pk]) not in html  # renewal is the holder's
        assert client.get(reverse("requests:certificate_download",
                                  args=[certificate.pk, "p7b"])).status_code == 200
    html = clerk_client.get(reverse("requests:certificate", args=[certificate.pk])).content.decode()
    assert reverse("desk:certificate", args=[certificate.pk]) in html  # the office's revocation form


@pytest.mark.parametrize("url_name", ["certificate", "certificate_download", "certificate_pdf",
                                      "request_summary_pdf"])
def test_nobody_else_can_open_it(url_name, certificate, other_applicant_client, other_office_clerk,
                                 seo_reviewer):
    args = [certificate.pk, "cer"] if url_name == "certificate_download" else [certificate.pk]
    url = reverse(f"requests:{url_name}", args=args)
    plain_staff = login_staff(Client(), make_staff("auditor"))
    not_a_certificate_reviewer = login_staff(Client(), seo_reviewer)  # introductions only
    for client in (other_applicant_client, login_staff(Client(), other_office_clerk), plain_staff,
                   not_a_certificate_reviewer):
        assert client.get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/auth/login/" in anonymous["Location"]
    assert other_applicant_client.get(reverse("requests:certificate", args=[999999])).status_code == 404


def test_a_staff_session_without_its_second_factor_is_refused(certificate, clerk):
    client = Client()
    client.force_login(clerk, backend="django.contrib.auth.backends.ModelBackend")  # password only, no TOTP
    assert client.get(reverse("requests:certificate", args=[certificate.pk])).status_code == 404
    assert Certificate.objects.get(pk=certificate.pk).status == "active"
