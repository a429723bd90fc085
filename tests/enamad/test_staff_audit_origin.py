"""The e-Namad desk's audit cards (a file, a ticket, a complaint) say where each entry came from —
the address, the request id (a link to that request's entries in the admin) and the User-Agent on
hover — to the staff who may read the audit trail, by the admin's own rule; other staff see the
events without them, and a holder never sees anyone's address (issue 15). e-Namad's managers read
e-Namad's part of the trail in the admin — its events, with their origins — and nothing of the CA's
or the offices'."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from enamad.complaints.services import complaint_file
from enamad.seals.services import business_suspend
from enamad.support.services import ticket_open
from ramis.common.context import AuditContext
from tests.conftest import make_staff
from tests.enamad.conftest import png_bytes, staff_client
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BUYER = AuditContext(ip="203.0.113.45", user_agent="Mozilla/5.0 (Android 14) Chrome/126", request_id="nginx-buyer-1")
HOLDER = AuditContext(ip="198.51.100.23", user_agent=FIREFOX, request_id="nginx-holder-1")
MANAGER = AuditContext(ip="192.0.2.10", user_agent="Mozilla/5.0 (Windows NT 10.0) Edg/126", request_id="nginx-staff-1")
ORIGINS = {"complaint": BUYER, "ticket": HOLDER, "business": MANAGER}
DESK_PERMS = ["enamad.review_business", "enamad.review_documents", "enamad.answer_ticket", "enamad.approve_change",
              "enamad.handle_complaint", "enamad.approve_business"]


@pytest.fixture
def pages(business, account):
    """A sealed file a buyer complained about, a ticket of its holder, then its seal suspended by a
    manager: one entry from each of three people's browsers. Staff and holder URLs of each."""
    seal = issue_seal(business)
    complaint = complaint_file(seal_id=seal.pk, ctx=BUYER, data={
        "complaint_type": "delay", "payment_reference": "987", "description": "دیر رسید و پاسخی ندادند.",
        "contact_name": "مریم", "contact_mobile": "09131234567"})
    ticket = ticket_open(account_id=account.pk, actor=account.user, category="general", subject="پرسش",
                         body="نماد من کی تمدید می‌شود؟", ctx=HOLDER,
                         attachments=[("other", SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"))])
    manager = make_staff("seal_manager", perms=["enamad.approve_business"], totp=False)
    business_suspend(business_id=business.pk, actor=manager, reason="شکایت خریدار", ctx=MANAGER)
    return {
        "business": (reverse("enamad:staff_business", args=[business.pk]), reverse("enamad:business", args=[business.pk])),
        "ticket": (reverse("enamad:staff_ticket", args=[ticket.pk]), reverse("enamad:ticket", args=[ticket.pk])),
        "complaint": (reverse("enamad:staff_complaint", args=[complaint.pk]),
                      reverse("enamad:complaint", args=[complaint.pk])),
    }


def shown(page: str, ctx: AuditContext) -> list[str]:
    """What of ``ctx``'s origin ``page`` shows."""
    parts = {"address": ctx.ip, "request id": ctx.request_id, "user agent": ctx.user_agent}
    return [name for name, value in parts.items() if value in page]


@pytest.mark.parametrize("card", ["business", "ticket", "complaint"])
def test_staff_who_read_the_audit_see_where_each_entry_came_from(pages, card):
    auditor = staff_client(Client(), make_staff("auditing_expert", perms=[*DESK_PERMS, "common.view_auditentry"]))
    staff_url, _ = pages[card]
    response = auditor.get(staff_url)
    assert response.status_code == 200
    page = response.content.decode()
    ctx = ORIGINS[card]
    assert shown(page, ctx) == ["address", "request id", "user agent"]
    assert f'<span class="audit-origin" title="{ctx.user_agent}"><bdi>{ctx.ip}</bdi>' in page  # agent on hover
    link = f"{reverse('admin:common_auditentry_changelist')}?request_id={ctx.request_id}"
    assert f'href="{link}"' in page
    entries = auditor.get(link)  # the link leads to what that request changed
    assert entries.status_code == 200 and [e.request_id for e in entries.context["cl"].result_list] == [ctx.request_id]


@pytest.mark.parametrize("card", ["business", "ticket", "complaint"])
def test_staff_without_the_audit_permission_see_the_events_but_not_their_origin(pages, card):
    expert = staff_client(Client(), make_staff("plain_expert", perms=DESK_PERMS))
    staff_url, _ = pages[card]
    response = expert.get(staff_url)
    page = response.content.decode()
    assert response.status_code == 200 and "رد ممیزی" in page
    assert [shown(page, ctx) for ctx in ORIGINS.values()] == [[], [], []]
    assert 'class="audit-origin"' not in page


@pytest.mark.parametrize("card", ["business", "ticket", "complaint"])
def test_the_holder_never_sees_an_address(pages, account, card):
    holder = Client()
    holder.force_login(account.user)
    _, holder_url = pages[card]
    response = holder.get(holder_url)
    page = response.content.decode()
    assert response.status_code == 200
    assert [shown(page, ctx) for ctx in ORIGINS.values()] == [[], [], []]  # not the buyer's, the staff's nor its own
    assert 'class="audit-origin"' not in page


def _manager(username: str):
    """A member of e-Namad's managers' group, as ``manage.py enamad_groups`` makes it."""
    from enamad.management.commands.enamad_groups import ensure_groups

    user = make_staff(username)
    user.groups.add(ensure_groups()["مدیران اینماد"])
    return user


def test_enamads_managers_read_enamads_part_of_the_audit_trail_and_nothing_else(pages):
    from ramis.common import audit
    from ramis.common.models import AuditEntry

    applicant = make_staff("someone_else")
    ramis_entry = audit.record(actor=applicant, target=applicant, event="request.submitted", ctx=MANAGER)
    manager = staff_client(Client(), _manager("enamad_manager"))
    changelist = reverse("admin:common_auditentry_changelist")
    listed = manager.get(changelist)
    assert listed.status_code == 200
    events = [e.event for e in listed.context["cl"].result_list]
    assert events and all(event.startswith("enamad.") for event in events), events
    assert set(events) == set(AuditEntry.objects.filter(event__startswith="enamad.").values_list("event", flat=True))
    # a request's entries: the link on a card leads to e-Namad's entries of that request, not the CA's
    of_request = manager.get(f"{changelist}?request_id={MANAGER.request_id}")
    assert [e.event for e in of_request.context["cl"].result_list] == ["enamad.seal.suspended"]
    assert manager.get(reverse("admin:common_auditentry_change", args=[ramis_entry.pk])).status_code in (302, 403)
    enamad_entry = AuditEntry.objects.filter(event="enamad.seal.suspended").get()
    page = manager.get(reverse("admin:common_auditentry_change", args=[enamad_entry.pk]))
    assert page.status_code == 200 and MANAGER.ip in page.content.decode()
    # the cards show them where each entry came from, as the admin does
    staff_url, _ = pages["business"]
    assert shown(manager.get(staff_url).content.decode(), MANAGER) == ["address", "request id", "user agent"]
    # the SEO's reviewers read the whole trail, e-Namad's experts none of it
    whole = staff_client(Client(), make_staff("seo_auditor", perms=["common.view_auditentry"]))
    assert "request.submitted" in [e.event for e in whole.get(changelist).context["cl"].result_list]
    expert = make_staff("enamad_expert")
    from enamad.management.commands.enamad_groups import ensure_groups

    expert.groups.add(ensure_groups()["کارشناسان اینماد"])
    assert staff_client(Client(), expert).get(changelist).status_code == 403
