"""The handover (R13, R14): after issuance the clerk prints the sheet, has it signed and records
the handover — when, by whom, to whom (owner or attorney, from the identity check the issuance
used), with an optional scan of the signed sheet checked by content — audited, shown on the
review page and in the admin; refused for another office's clerk and for the applicant."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.desk import services
from ramis.desk.models import Handover
from ramis.requests.models import CertificateRequest
from tests.requests.conftest import PDF_BYTES, png_bytes

from .conftest import TOKEN_PIN, attorney_ok, identity_ok


@pytest.fixture
def issued(ca, awaiting_issuance, clerk, applicant_token):
    """Issued to the applicant's attorney: the request."""
    attorney_ok(awaiting_issuance, clerk)
    services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                    token_serial=applicant_token.serial)
    return CertificateRequest.objects.get(pk=awaiting_issuance.pk)


def _post(client, req, sheet=None):
    return client.post(reverse("desk:handover_record", args=[req.pk]), {"sheet": sheet} if sheet else {})


def test_clerk_records_the_handover_with_the_signed_sheet(issued, clerk, clerk_client):
    review = reverse("desk:review", args=[issued.pk])
    html = clerk_client.get(review).content.decode()
    assert 'id="handover-form"' in html and "ثبت تحویل" in html
    assert clerk_client.get(reverse("desk:handover", args=[issued.pk]))["Content-Type"] == "application/pdf"

    response = _post(clerk_client, issued, SimpleUploadedFile("signed.png", png_bytes(), content_type="image/png"))

    assert response.status_code == 302 and response["Location"] == review
    handover = Handover.objects.get(request=issued)
    assert handover.handed_over_by == clerk and handover.recipient == "attorney"
    assert handover.recipient_name == "مریم احمدی" and handover.sheet_kind == "png"
    assert handover.certificate.request_id == issued.pk
    entry = AuditEntry.objects.for_object(issued).get(event="request.handed_over")
    assert entry.actor_id == clerk.pk and entry.extra["handover"] == handover.pk
    assert entry.extra["recipient"] == "attorney" and entry.extra["sheet_kind"] == "png"
    assert CertificateRequest.objects.get(pk=issued.pk).status == "issued"
    # the review page shows it (and no more form); the sheet opens; the PDF stays printable
    html = clerk_client.get(review).content.decode()
    assert 'id="handover"' in html and "مریم احمدی" in html and 'id="handover-form"' not in html
    assert "گواهی و توکن تحویل شد" in html  # the timeline's label
    sheet = clerk_client.get(reverse("desk:handover_sheet", args=[handover.pk]))
    assert sheet.status_code == 200 and b"".join(sheet.streaming_content) == png_bytes()
    assert clerk_client.get(reverse("desk:handover", args=[issued.pk])).status_code == 200


def test_without_a_sheet_to_the_owner_and_only_once(ca, awaiting_issuance, clerk, clerk_client, applicant_token):
    identity_ok(awaiting_issuance, clerk)
    services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                    token_serial=applicant_token.serial)
    assert _post(clerk_client, awaiting_issuance).status_code == 302
    handover = Handover.objects.get()
    assert handover.recipient == "owner" and handover.recipient_name == awaiting_issuance.applicant.full_name
    assert not handover.sheet_file
    assert clerk_client.get(reverse("desk:handover_sheet", args=[handover.pk])).status_code == 404

    response = _post(clerk_client, awaiting_issuance)
    assert response.status_code == 302
    assert Handover.objects.count() == 1
    assert AuditEntry.objects.filter(event="request.handed_over").count() == 1
    with pytest.raises(services.DeskError):
        services.handover_record(request_id=awaiting_issuance.pk, actor=clerk)


def test_a_sheet_that_is_not_a_pdf_or_image_is_refused_next_to_the_field(issued, clerk_client):
    response = _post(clerk_client, issued, SimpleUploadedFile("signed.pdf", b"MZ\x90\x00 not a pdf at all"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "نوع فایل پذیرفته نیست" in html and 'id="handover-form"' in html
    assert not Handover.objects.exists()
    assert not AuditEntry.objects.filter(event="request.handed_over").exists()


def test_only_for_an_issued_request(awaiting_issuance, clerk, clerk_client):
    with pytest.raises(InvalidTransition):
        services.handover_record(request_id=awaiting_issuance.pk, actor=clerk)
    _post(clerk_client, awaiting_issuance)
    assert not Handover.objects.exists()


def test_refused_for_another_offices_clerk_and_the_applicant(issued, other_office_clerk, other_clerk_client,
                                                             applicant_client):
    sheet = SimpleUploadedFile("signed.pdf", PDF_BYTES, content_type="application/pdf")
    assert _post(other_clerk_client, issued, sheet).status_code == 404
    response = _post(applicant_client, issued)
    assert response.status_code == 302 and response["Location"].startswith(reverse("certauth:staff_login"))
    for actor in (other_office_clerk, issued.applicant.user):
        with pytest.raises(PermissionDenied):
            services.handover_record(request_id=issued.pk, actor=actor)
    assert not Handover.objects.exists()
    assert not AuditEntry.objects.filter(event="request.handed_over").exists()


def test_the_admin_shows_the_handover_and_its_sheet(issued, clerk, reviewer_client, other_clerk_client):
    handover = services.handover_record(
        request_id=issued.pk, actor=clerk, sheet=SimpleUploadedFile("s.pdf", PDF_BYTES, content_type="application/pdf"))
    sheet_url = reverse("desk:handover_sheet", args=[handover.pk])
    html = reviewer_client.get(reverse("admin:desk_handover_change", args=[handover.pk])).content.decode()
    assert f'href="{sheet_url}"' in html and handover.sheet_file.name not in html
    assert "request.handed_over" in html  # its audit trail
    assert "مریم احمدی" in reviewer_client.get(
        reverse("admin:certrequests_certificaterequest_change", args=[issued.pk])).content.decode()
    assert reviewer_client.get(sheet_url).status_code == 200
    assert other_clerk_client.get(sheet_url).status_code == 404
