"""The staff desk's pages go by role, like the files on them: the business files to those who
review files, tickets to ticket staff, complaints (with the complainant's contact details) to
those who handle complaints; the dashboard to any e-Namad staff. Everyone else gets 403, and
no page links to a page its reader cannot open."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from enamad.complaints.services import complaint_file
from enamad.models import Business, BusinessStatus, Complaint, ComplaintStatus, Ticket, TicketStatus
from enamad.support.services import ticket_open
from ramis.common.models import AuditEntry
from tests.conftest import make_staff
from tests.enamad.conftest import STAFF_ROLES as ROLES
from tests.enamad.conftest import png_bytes, staff_client
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db

OPENERS = {
    "files": {"reviewer", "documents", "manager"},
    "tickets": {"tickets", "changes"},
    "complaints": {"complaints"},
    "dashboard": set(ROLES),
}
BUYER_MOBILE, BUYER_EMAIL = "09131234567", "maryam@example.com"


@pytest.fixture
def desk(account, business):
    seal = issue_seal(business)
    ticket = ticket_open(account_id=account.pk, actor=account.user, category="general", subject="پرسش",
                         body="متن پرسش", business_id=business.pk,
                         attachments=[("", SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"))])
    complaint = complaint_file(seal_id=seal.pk, data={
        "complaint_type": "delay", "payment_reference": "987", "description": "دیر رسید.", "contact_name": "مریم",
        "contact_mobile": BUYER_MOBILE, "contact_email": BUYER_EMAIL})
    return {"business": business, "ticket": ticket, "complaint": complaint}


def pages(desk) -> dict[str, list[str]]:
    business, ticket, complaint = desk["business"].pk, desk["ticket"].pk, desk["complaint"].pk
    return {
        "files": ["/enamad/staff/", "/enamad/staff/?q=manager", f"/enamad/staff/business/{business}/"],
        "tickets": ["/enamad/staff/tickets/", "/enamad/staff/tickets/?q=changes", f"/enamad/staff/tickets/{ticket}/"],
        "complaints": ["/enamad/staff/complaints/", f"/enamad/staff/complaints/{complaint}/"],
        "dashboard": ["/enamad/staff/dashboard/"],
    }


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_staff_page_opens_only_to_its_role(desk, role):
    staff = staff_client(Client(), make_staff(f"role_{role}", perms=ROLES[role]))
    for part, urls in pages(desk).items():
        for url in urls:
            response = staff.get(url)
            expected = 200 if role in OPENERS[part] else 403
            assert response.status_code == expected, (role, url, response.status_code)
            if expected == 403:
                assert BUYER_EMAIL not in response.content.decode()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_actions_of_each_part_are_refused_to_other_roles(desk, role):
    """The answer, the decision and the file actions are refused at the door (403), so nothing
    changes and nothing is audited, whatever the services would have said."""
    business, ticket, complaint = desk["business"], desk["ticket"], desk["complaint"]
    staff = staff_client(Client(), make_staff(f"act_{role}", perms=ROLES[role]))
    audited = AuditEntry.objects.count()
    posts = {
        "files": [(f"/enamad/staff/business/{business.pk}/suspend/", {"reason": "آزمون"}),
                  (f"/enamad/staff/business/{business.pk}/review/", {"note": "x"})],
        "tickets": [(f"/enamad/staff/tickets/{ticket.pk}/answer/", {"body": "پاسخ"}),
                    (f"/enamad/staff/tickets/{ticket.pk}/close/", {})],
        "complaints": [(f"/enamad/staff/complaints/{complaint.pk}/", {"outcome": "dismissed", "note": "وارد نیست"})],
    }
    for part, requests in posts.items():
        if role in OPENERS[part]:
            continue
        for url, data in requests:
            assert staff.post(url, data).status_code == 403, (role, url)
    assert Business.objects.get(pk=business.pk).status == BusinessStatus.APPROVED
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.AWAITING_ANSWER
    assert AuditEntry.objects.count() == audited


def test_staff_without_any_enamad_permission_gets_403_everywhere(desk):
    clerk = staff_client(Client(), make_staff("ramis_clerk_roles"))
    for urls in pages(desk).values():
        for url in urls:
            assert clerk.get(url).status_code == 403, url


def test_links_show_only_what_the_reader_can_open(desk):
    business, ticket, complaint = desk["business"], desk["ticket"], desk["complaint"]
    support = staff_client(Client(), make_staff("support_links", perms=["enamad.answer_ticket"]))
    board = support.get("/enamad/staff/dashboard/").content.decode()
    assert "/enamad/staff/tickets/" in board
    assert "/enamad/staff/complaints/" not in board and 'href="/enamad/staff/"' not in board
    page = support.get(f"/enamad/staff/tickets/{ticket.pk}/").content.decode()
    assert business.domain in page and f"/enamad/staff/business/{business.pk}/" not in page

    handler = staff_client(Client(), make_staff("handler_links", perms=["enamad.handle_complaint"]))
    page = handler.get(f"/enamad/staff/complaints/{complaint.pk}/").content.decode()
    assert BUYER_EMAIL in page and business.name in page
    assert f"/enamad/staff/business/{business.pk}/" not in page and "/enamad/staff/tickets/" not in page

    reviewer = staff_client(Client(), make_staff("reviewer_links", perms=["enamad.review_business"]))
    page = reviewer.get(f"/enamad/staff/business/{business.pk}/").content.decode()
    assert 'id="complaint-counts"' in page and "مجموع ۱" in page and "پرسش" in page
    assert "/enamad/staff/complaints/" not in page and f"/enamad/staff/tickets/{ticket.pk}/" not in page

    expert = staff_client(Client(), make_staff("all_links", perms=[p for perms in ROLES.values() for p in perms]))
    page = expert.get(f"/enamad/staff/business/{business.pk}/").content.decode()
    assert f"/enamad/staff/complaints/?q=overdue&amp;business={business.pk}" in page
    assert f"/enamad/staff/tickets/{ticket.pk}/" in page
    board = expert.get("/enamad/staff/dashboard/").content.decode()
    for url in ('href="/enamad/staff/"', "/enamad/staff/tickets/", "/enamad/staff/complaints/"):
        assert url in board
