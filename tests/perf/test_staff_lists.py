"""Issue 16: the e-Namad staff desk's lists (files, tickets, complaints) are paginated and cost the
same number of queries with a few rows as with many (STYLE 18). The count is pinned at two data
sizes: a query per row (a missing select_related, a per-row lookup in the template) fails both."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import make_staff
from tests.enamad.conftest import make_account, make_business, staff_client

pytestmark = pytest.mark.django_db

PAGE = 10
ALL_DESK_PERMS = ["enamad.review_business", "enamad.review_documents", "enamad.approve_business",
                  "enamad.answer_ticket", "enamad.approve_change", "enamad.handle_complaint"]


@pytest.fixture
def desk(settings):
    settings.ENAMAD_STAFF_PAGE_SIZE = PAGE
    return staff_client(Client(), make_staff("perf_desk", perms=ALL_DESK_PERMS))


@pytest.fixture
def shop(db):
    account = make_account("perf_shop")
    return account, make_business(account, domain="perf-shop.test")


def _add_files(account, n: int, start: int) -> None:
    from enamad.models import Business, BusinessStatus

    now = timezone.now()
    Business.objects.bulk_create([
        Business(account=account, domain=f"shop{start + i}.test", name=f"فروشگاه {start + i}", address="تهران",
                 postal_code="1316943115", phone="02188776655", email="a@shop.test",
                 status=BusinessStatus.UNDER_REVIEW, sent_at=now - dt.timedelta(minutes=start + i))
        for i in range(n)])


def _add_tickets(account, business, n: int) -> None:
    from enamad.models import Ticket

    Ticket.objects.bulk_create([Ticket(account=account, business=business if i % 2 else None,
                                       category="general", subject=f"پرسش {i}") for i in range(n)])


def _add_complaints(business, n: int) -> None:
    from enamad.models import Complaint, ComplaintStatus

    due = timezone.now() - dt.timedelta(days=1)
    Complaint.objects.bulk_create([
        Complaint(business=business, complaint_type="delay", payment_reference=f"P{i}", description="دیر رسید",
                  contact_name="خریدار", contact_mobile="09121234567", status=ComplaintStatus.OVERDUE,
                  answer_due_at=due)
        for i in range(n)])


# (url, the link of a row of the page's table)
LISTS = {
    "files": ("/enamad/staff/?q=review", r'href="/enamad/staff/business/\d+/"'),
    "tickets": ("/enamad/staff/tickets/?q=open", r'href="/enamad/staff/tickets/\d+/"'),
    "complaints": ("/enamad/staff/complaints/?q=overdue", r'href="/enamad/staff/complaints/\d+/"'),
}


def _rows(html: str, row_link: str) -> int:
    return len(re.findall(row_link, html))


def _fill(name: str, shop, n: int, start: int) -> None:
    account, business = shop
    if name == "files":
        _add_files(account, n, start)
    elif name == "tickets":
        _add_tickets(account, business, n)
    else:
        _add_complaints(business, n)


@pytest.mark.parametrize("name", list(LISTS))
def test_staff_list_pages_with_a_fixed_number_of_queries(name, desk, shop, django_assert_num_queries):
    url, row_link = LISTS[name]
    _fill(name, shop, 3, 0)
    desk.get(url)  # the first request of the session warms what is per-session (e.g. the staff's roles, the idle clock)
    with django_assert_num_queries(QUERIES[name]):
        few = desk.get(url)
    assert few.status_code == 200
    assert _rows(few.content.decode(), row_link) == 3
    assert 'class="pagination"' not in few.content.decode()

    _fill(name, shop, 60, 3)  # 63 rows: seven pages of ten
    with django_assert_num_queries(QUERIES[name]):
        many = desk.get(url)
    html = many.content.decode()
    assert _rows(html, row_link) == PAGE
    assert "صفحه ۱ از ۷" in html
    query = url.split("?")[1]
    assert f'href="?{query}&amp;page=2"' in html  # the pager keeps the tab

    with django_assert_num_queries(QUERIES[name]):
        last = desk.get(url + "&page=7")
    assert _rows(last.content.decode(), row_link) == 3
    assert _rows(desk.get(url + "&page=99").content.decode(), row_link) == 3  # past the end: the last page
    assert _rows(desk.get(url + "&page=junk").content.decode(), row_link) == PAGE  # junk: the first page


# with no write of the session (its idle clock moved on the warm-up request: ramis/common/sessions.py)
QUERIES = {"files": 9, "tickets": 8, "complaints": 8}
