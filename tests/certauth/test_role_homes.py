"""Role homes (issue 13): after login each staff role lands on its own desk, opened on its own
tab, with its waiting work counted; nobody lands on a page with nothing to do."""

import pytest
from django.test import Client
from django.urls import reverse

from enamad.models import Business, BusinessStatus
from tests.conftest import STAFF_PASSWORD, login_staff, make_staff, totp_now
from tests.enamad.conftest import make_account, make_business
from tests.requests.conftest import advance, catalogue, make_draft  # noqa: F401


def login(user):
    client = Client()
    response = client.post("/auth/staff/login/", {"username": user.username, "password": STAFF_PASSWORD,
                                                   "otp_token": totp_now(user)})
    assert response.status_code == 302
    return client, response["Location"]


@pytest.fixture
def files(db):
    """Two files waiting for the expert, one for the manager."""
    account = make_account()
    for i, status in enumerate([BusinessStatus.UNDER_REVIEW, BusinessStatus.UNDER_REVIEW,
                                BusinessStatus.MANAGER_REVIEW]):
        business = make_business(account, domain=f"shop{i}.test", ready=False)
        Business.objects.filter(pk=business.pk).update(status=status)  # test data: the walk is tested elsewhere


def test_a_clerk_lands_on_the_office_desk_with_counts(applicant_person, office, clerk, catalogue):  # noqa: F811
    advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    client, landing = login(clerk)
    assert landing == reverse("desk:queue")
    html = client.get(reverse("certauth:staff_home")).content.decode()
    assert "در انتظار بررسی: <strong class=\"count\">۱</strong>" in html
    assert "نوبت‌های امروز" in html and "درخواست‌های ابطال" in html


def test_the_manager_lands_on_the_managers_tab_not_the_experts(files, enamad_manager):
    client, landing = login(enamad_manager)
    assert landing == reverse("enamad:staff_queue") + "?q=manager"
    html = client.get(landing).content.decode()
    assert 'id="queue-manager" class="active"' in html and "shop2.test" in html and "shop0.test" not in html
    # the bare desk address opens on the manager's tab too
    bare = client.get(reverse("enamad:staff_queue")).content.decode()
    assert 'id="queue-manager" class="active"' in bare
    assert 'id="queue-review" class="active"' not in bare


def test_the_expert_lands_on_review_with_each_part_counted(files, enamad_expert):
    client, landing = login(enamad_expert)
    assert landing == reverse("enamad:staff_queue") + "?q=review"
    html = client.get(landing).content.decode()
    assert 'id="queue-review" class="active"' in html and "(۲)" in html
    home = client.get(reverse("certauth:staff_home")).content.decode()
    assert "بررسی کارشناس: <strong class=\"count\">۲</strong>" in home
    assert "تیکت‌ها" in home and "شکایت‌ها" in home


def test_document_ticket_and_complaint_staff_land_on_their_own_part(db):
    documents = make_staff("docs", perms=["enamad.review_documents"])
    tickets = make_staff("tickets", perms=["enamad.answer_ticket"])
    complaints = make_staff("complaints", perms=["enamad.handle_complaint"])
    assert login(documents)[1] == reverse("enamad:staff_queue") + "?q=documents"
    assert login(tickets)[1] == reverse("enamad:staff_tickets")
    assert login(complaints)[1] == reverse("enamad:staff_complaints")


def test_staff_without_a_role_are_told_who_to_ask(db):
    user = make_staff("newcomer")
    client, landing = login(user)
    assert landing == reverse("certauth:staff_home")
    html = client.get(landing).content.decode()
    assert 'id="no-role"' in html and "نقش" in html


def test_a_reviewer_and_a_clerk_who_also_reviews_see_every_desk(office, clerk):
    reviewer = make_staff("rev", perms=["registry.review_role"])
    client, landing = login(reviewer)
    assert landing == reverse("certauth:staff_home")
    assert reverse("admin:index") in client.get(landing).content.decode()
    clerk.user_permissions.add(*make_staff("x", perms=["enamad.answer_ticket"]).user_permissions.all())
    html = login_staff(Client(), clerk).get(reverse("certauth:staff_home")).content.decode()
    assert reverse("desk:queue") in html and reverse("enamad:staff_tickets") in html
