"""Uploaded files on the staff desk are read by role, not by any e-Namad permission: identity
documents and licences by those who review files, ticket files by ticket staff, complaint files
by those who handle complaints. Everyone else gets 403."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from enamad.complaints.services import complaint_file
from enamad.models import BusinessService, Complaint, Ticket
from enamad.support.services import ticket_open
from tests.conftest import make_staff
from tests.enamad.conftest import STAFF_ROLES as ROLES
from tests.enamad.conftest import png_bytes, staff_client
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db



def png(name="a.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


@pytest.fixture
def files(account, business):
    seal = issue_seal(business)
    service = BusinessService.objects.get(business=business)
    service.licence_file.save("licence.png", SimpleUploadedFile("l.png", png_bytes()), save=True)
    ticket = ticket_open(account_id=account.pk, actor=account.user, category="general", subject="پرسش",
                         body="متن پرسش", attachments=[("", png())], business_id=business.pk)
    complaint = complaint_file(seal_id=seal.pk, data={
        "complaint_type": "delay", "payment_reference": "987", "description": "دیر رسید.", "contact_name": "مریم",
        "contact_mobile": "09131234567"}, attachments=[png("receipt.png")])
    return {
        "document": f"/enamad/staff/documents/{account.documents.first().pk}/",
        "licence": f"/enamad/staff/business/{business.pk}/licence/",
        "ticket": f"/enamad/staff/tickets/attachments/{Ticket.objects.get(pk=ticket.pk).messages.get().attachments.get().pk}/",
        "complaint": f"/enamad/staff/complaints/attachments/{Complaint.objects.get(pk=complaint.pk).attachments.get().pk}/",
    }


READERS = {
    "document": {"reviewer", "documents", "manager"},
    "licence": {"reviewer", "documents", "manager"},
    "ticket": {"tickets", "changes"},
    "complaint": {"complaints"},
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_each_file_is_read_only_by_its_role(files, kind):
    for role, perms in ROLES.items():
        staff = staff_client(Client(), make_staff(f"{kind}_{role}", perms=perms))
        status = staff.get(files[kind]).status_code
        assert status == (200 if role in READERS[kind] else 403), (kind, role, status)


def test_the_business_page_and_its_documents_are_for_file_readers(files, business):
    handler = staff_client(Client(), make_staff("handler", perms=["enamad.handle_complaint"]))
    response = handler.get(f"/enamad/staff/business/{business.pk}/")
    assert response.status_code == 403 and "/enamad/staff/documents/" not in response.content.decode()
    reviewer = staff_client(Client(), make_staff("reviewer", perms=["enamad.review_business"]))
    page = reviewer.get(f"/enamad/staff/business/{business.pk}/").content.decode()
    assert files["document"] in page
