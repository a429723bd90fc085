"""The staff dashboard: files per status, oldest waiting per stage, deficiency rate, seals
expiring this (Jalali) month, open complaints and tickets; SVG charts; fixed query count."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enamad.businesses.services import business_review, business_send
from enamad.complaints.services import complaint_file
from enamad.models import Business, BusinessStatus, Seal
from enamad.portal import charts
from enamad.portal.dashboard import dashboard, jalali_month_bounds
from enamad.support.services import ticket_open
from ramis.common.jalali import TEHRAN
from tests.conftest import make_staff
from tests.enamad.conftest import all_items_ok, make_business, staff_client
from tests.enamad.seals.test_seal import quick_seal

pytestmark = pytest.mark.django_db

# 1405/02/15 in Tehran: the middle of Ordibehesht (1405/02/01 = 2026-04-21, 1405/03/01 = 2026-05-22)
NOW = dt.datetime(2026, 5, 5, 12, 0, tzinfo=TEHRAN)


def test_jalali_month_bounds():
    start, end, name = jalali_month_bounds(NOW)
    assert (start.date(), end.date(), name) == (dt.date(2026, 4, 21), dt.date(2026, 5, 22), "اردیبهشت ۱۴۰۵")
    start, end, name = jalali_month_bounds(NOW, 11)  # across the year
    assert name == "فروردین ۱۴۰۶" and start.date() == dt.date(2027, 3, 21)
    esfand = jalali_month_bounds(dt.datetime(2025, 3, 20, 10, tzinfo=TEHRAN))
    assert (esfand[0].date(), esfand[1].date(), esfand[2]) == (dt.date(2025, 2, 19), dt.date(2025, 3, 21),
                                                               "اسفند ۱۴۰۳")


def test_charts_escape_and_draw():
    svg = charts.bar_chart([("<b>x</b>", 3), ("دوم", 0)], title="a & b")
    assert svg.startswith("<svg") and "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg and "a &amp; b" in svg
    assert "۳" in svg
    assert "۲۵٪" in charts.donut(0.25, title="t") and "—" in charts.donut(None, title="t")
    assert charts.column_chart([("فروردین", 2), ("اردیبهشت", 5)], title="t").count("<rect") == 2


@pytest.fixture
def data(account, enamad_expert):
    """Files in several states, two reviews (one deficient), seals expiring this month or later,
    complaints and tickets."""
    old = NOW - dt.timedelta(days=10)
    under_review = [make_business(account, domain=f"r{i}.test") for i in range(2)]
    for business in under_review:
        business_send(business_id=business.pk, actor=account.user)
    Business.objects.filter(pk=under_review[0].pk).update(status_changed_at=old)
    deficient = make_business(account, domain="d.test")
    business_send(business_id=deficient.pk, actor=account.user)
    items = all_items_ok()
    items[next(iter(items))] = (False, "قیمت ندارد")
    business_review(business_id=deficient.pk, actor=enamad_expert, results=items)
    approved = make_business(account, domain="a.test")
    business_send(business_id=approved.pk, actor=account.user)
    business_review(business_id=approved.pk, actor=enamad_expert, results=all_items_ok())
    make_business(account, domain="draft.test")
    this_month = quick_seal(make_business(account, domain="soon.test"))
    next_month = quick_seal(make_business(account, domain="later.test"))
    Seal.objects.filter(pk=this_month.pk).update(expires_at=NOW + dt.timedelta(days=10))
    Seal.objects.filter(pk=next_month.pk).update(expires_at=NOW + dt.timedelta(days=25))
    base = {"complaint_type": "delay", "payment_reference": "1", "description": "دیر", "contact_name": "x",
            "contact_mobile": "09131234567"}
    complaint_file(seal_id=this_month.pk, data=base)
    from tests.enamad.support.test_tickets import png

    ticket_open(account_id=account.pk, actor=account.user, category="general", subject="s", body="b",
                attachments=[("other", png())])
    return {"old": old}


def test_figures(data):
    board = dashboard(now=NOW)
    per_status = {value: n for value, _, n in board.per_status}
    assert per_status[BusinessStatus.UNDER_REVIEW] == 2 and per_status[BusinessStatus.DRAFT] == 1
    assert per_status[BusinessStatus.DEFICIENT] == 1 and per_status[BusinessStatus.PHYSICAL_DOCUMENTS] == 1
    assert per_status[BusinessStatus.APPROVED] == 2
    stage = next(s for s in board.stages if s.status == BusinessStatus.UNDER_REVIEW)
    assert stage.count == 2 and stage.oldest == data["old"]
    assert (board.reviews_deficient, board.reviews_total, board.deficiency_rate) == (1, 2, 0.5)
    assert board.month_name == "اردیبهشت ۱۴۰۵" and board.expiring_this_month == 1
    assert [s.business.domain for s in board.expiring_list] == ["soon.test"]
    assert board.expiring_by_month[0] == ("اردیبهشت ۱۴۰۵", 1) and board.expiring_by_month[1] == ("خرداد ۱۴۰۵", 1)
    assert board.seals_in_force == 2
    assert board.complaints["open"] == 1 and board.complaints["awaiting_answer"] == 1
    assert board.tickets["open"] == 1 and board.tickets["changes"] == 0


def test_dashboard_page(data, enamad_expert):
    staff = staff_client(Client(), enamad_expert)
    page = staff.get("/enamad/staff/dashboard/").content.decode()
    assert page.count("<svg") >= 4
    assert 'id="open-complaints">۱<' in page and 'id="open-tickets">۱<' in page
    assert "۱ اعلام نقص از ۲ بررسی" in page
    assert "در حال بررسی" in page and "کارشناس" in page


def test_dashboard_costs_a_fixed_number_of_queries(data, account, enamad_expert):
    staff = staff_client(Client(), enamad_expert)
    staff.get("/enamad/staff/dashboard/")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get("/enamad/staff/dashboard/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(5):
        seal = quick_seal(make_business(account, domain=f"more{i}.test"))
        Seal.objects.filter(pk=seal.pk).update(expires_at=timezone.now() + dt.timedelta(days=1))
    assert count() == before


def test_dashboard_access(client, data):
    assert client.get("/enamad/staff/dashboard/").status_code == 302
    clerk = make_staff("ramis_clerk3")
    assert staff_client(Client(), clerk).get("/enamad/staff/dashboard/").status_code == 403


def test_admin_pages_for_tickets_and_complaints(data):
    from enamad.models import Complaint, Ticket

    admin = make_staff("boss2", superuser=True)
    staff = staff_client(Client(), admin)
    for url in (f"/admin/enamad/ticket/{Ticket.objects.get().pk}/change/",
                f"/admin/enamad/complaint/{Complaint.objects.get().pk}/change/",
                f"/admin/enamad/seal/{Seal.objects.first().pk}/change/"):
        assert staff.get(url).status_code == 200, url
