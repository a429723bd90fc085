"""Jalali dates in the Django admin (issue 13 item 11): list columns, the date filter's
Jalali month and year, the date widget (django-jalali-date's picker) and Jalali input saved
as the right Gregorian day; read-only datetimes on a change form in Jalali too."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from ramis.offices.models import Holiday


def test_holiday_list_shows_jalali_dates_and_a_jalali_filter(reviewer_client):
    Holiday.objects.create(date=dt.date(2025, 3, 21), title="نوروز")
    with time_machine.travel(dt.datetime(2025, 4, 25, 9, 0, tzinfo=dt.UTC)):  # 1404/02/05
        html = reviewer_client.get(reverse("admin:offices_holiday_changelist")).content.decode()
        assert '<a href="/admin/offices/holiday/' in html and "۱۴۰۴/۰۱/۰۱</a>" in html and "March" not in html
        assert "این ماه (شمسی)" in html and "امسال (شمسی)" in html
        # this Jalali year (from 1404/01/01 = 2025-03-21) holds the holiday; this Jalali month does not
        year = reviewer_client.get(reverse("admin:offices_holiday_changelist"),
                                   {"date__gte": "2025-03-21", "date__lt": "2026-03-21"}).content.decode()
        assert "نوروز" in year
        assert 'href="?date__gte=2025-04-21&amp;date__lt=2025-05-22"' in html  # اردیبهشت ۱۴۰۴


def test_holiday_form_picks_and_saves_a_jalali_date(reviewer_client):
    add = reverse("admin:offices_holiday_add")
    html = reviewer_client.get(add).content.decode()
    assert "data-jdp" in html and "admin/js/django_jalali.min.js" in html
    response = reviewer_client.post(add, {"date": "1404-01-13", "title": "سیزده بدر", "office": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Holiday.objects.get(title="سیزده بدر").date == dt.date(2025, 4, 2)
    holiday = Holiday.objects.get(title="سیزده بدر")
    change = reviewer_client.get(reverse("admin:offices_holiday_change", args=[holiday.pk])).content.decode()
    assert 'value="1404-01-13"' in change


def test_request_list_and_read_only_change_form_show_jalali_datetimes(reviewer_client, applicant_person,
                                                                        office, catalogue):
    from ramis.requests.models import CertificateRequest
    from tests.requests.conftest import advance, make_draft

    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    CertificateRequest.objects.filter(pk=req.pk).update(submitted_at=dt.datetime(2025, 3, 21, 8, 0, tzinfo=dt.UTC))
    listing = reviewer_client.get(reverse("admin:certrequests_certificaterequest_changelist")).content.decode()
    assert "۱۴۰۴/۰۱/۰۱ ۱۱:۳۰" in listing  # Tehran time, Jalali day
    change = reviewer_client.get(reverse("admin:certrequests_certificaterequest_change", args=[req.pk]))
    assert '<div class="readonly">1404/01/01 11:30</div>' in change.content.decode()
    assert "March" not in change.content.decode()
