"""Appointments (R12, R13, R21): working hours and holidays bound the slots; capacity holds."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from ramis.common.jalali import TEHRAN
from ramis.common.models import AuditEntry
from ramis.offices import hours
from ramis.offices.models import Holiday, WorkingPeriod
from ramis.requests import selectors, services
from ramis.requests.models import Appointment, CertificateRequest
from tests.conftest import last_sms, make_person, make_role

from .conftest import advance, make_draft

SATURDAY = dt.date(2025, 3, 22)  # ۱۴۰۴/۰۱/۰۲
THURSDAY, FRIDAY = SATURDAY + dt.timedelta(days=5), SATURDAY + dt.timedelta(days=6)


def _local(starts):
    return [s.astimezone(TEHRAN).strftime("%H:%M") for s in starts]


def test_default_week_9_30_to_12_30_and_13_30_to_15(office):
    starts = hours.slot_starts(office, first=SATURDAY, days=1)
    assert _local(starts) == ["09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "13:30", "14:00", "14:30"]
    assert starts[0] == dt.datetime(2025, 3, 22, 6, 0, tzinfo=dt.UTC)  # stored in UTC
    assert hours.slot_starts(office, first=THURSDAY, days=2) == []  # Thursday and Friday closed


def test_holidays_close_a_day_for_all_or_one_office(office, other_office):
    Holiday.objects.create(date=SATURDAY, title="تعطیل سراسری")
    Holiday.objects.create(date=SATURDAY + dt.timedelta(days=1), title="تعطیل دفتر", office=other_office)
    assert hours.slot_starts(office, first=SATURDAY, days=1) == []
    assert len(hours.slot_starts(office, first=SATURDAY + dt.timedelta(days=1), days=1)) == 9
    assert hours.slot_starts(other_office, first=SATURDAY + dt.timedelta(days=1), days=1) == []


def test_office_hours_are_data(office):
    WorkingPeriod.objects.create(office=office, weekday=3, start=dt.time(8, 0), end=dt.time(9, 0))  # Thursday
    office.slot_minutes = 20
    assert _local(hours.slot_starts(office, first=THURSDAY, days=1)) == ["08:00", "08:20", "08:40"]
    assert hours.slot_starts(office, first=SATURDAY, days=1) == []  # own week replaces the default


def test_hours_shown_are_the_periods_that_make_the_slots(office, other_office, django_assert_max_num_queries, client):
    assert office.working_hours == "شنبه تا چهارشنبه ۹:۳۰–۱۲:۳۰ و ۱۳:۳۰–۱۵:۰۰"  # the default week
    for day in (5, 6, 0):  # Saturday to Monday mornings, Wednesday and Thursday a longer day
        WorkingPeriod.objects.create(office=office, weekday=day, start=dt.time(9, 0), end=dt.time(12, 0))
    for day in (2, 3):
        WorkingPeriod.objects.create(office=office, weekday=day, start=dt.time(8, 0), end=dt.time(14, 30))
    WorkingPeriod.objects.create(office=other_office, weekday=1, start=dt.time(10, 0), end=dt.time(11, 0))
    office.refresh_from_db()
    assert office.working_hours == "شنبه تا دوشنبه ۹:۰۰–۱۲:۰۰؛ چهارشنبه و پنجشنبه ۸:۰۰–۱۴:۳۰"
    assert hours.slot_starts(office, first=SATURDAY + dt.timedelta(days=3), days=1) == []  # Tuesday: shown closed
    with django_assert_max_num_queries(3):  # one query for all the offices' periods, not one per office
        html = client.get(reverse("offices:list")).content.decode()
    assert "شنبه تا دوشنبه ۹:۰۰–۱۲:۰۰؛ چهارشنبه و پنجشنبه ۸:۰۰–۱۴:۳۰" in html and "سه‌شنبه ۱۰:۰۰–۱۱:۰۰" in html


def test_free_slots_window_and_remaining_capacity(office, settings):
    settings.APPOINTMENT_DAYS_AHEAD = 7
    friday_night = dt.datetime(2025, 3, 21, 20, 0, tzinfo=dt.UTC)  # Friday 23:30 in Tehran
    assert min(selectors.free_slots(office, now=friday_night)) == SATURDAY
    after_midnight = dt.datetime(2025, 3, 21, 21, 0, tzinfo=dt.UTC)  # still Friday in UTC, Saturday 00:30 in Tehran
    free = selectors.free_slots(office, now=after_midnight)
    assert min(free) == SATURDAY + dt.timedelta(days=1)  # from tomorrow, in Tehran
    assert all(day.weekday() not in (3, 4) for day in free)
    assert {left for slots in free.values() for _, left in slots} == {office.slot_capacity}


@pytest.fixture
def awaiting_appointment(applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)


def _slots(office):
    return [start for slots in selectors.free_slots(office).values() for start, left in slots if left]


def test_book_from_the_calendar(applicant_client, applicant_person, awaiting_appointment, office):
    page = applicant_client.get(reverse("requests:appointment", args=[awaiting_appointment.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "۰۹:۳۰</button>" in html and "شنبه" in html
    slot = _slots(office)[0]
    # the slot's button only picks it: a page says when and where, nothing is booked yet (issue 13)
    response = applicant_client.post(reverse("requests:appointment", args=[awaiting_appointment.pk]),
                                     {"slot": slot.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200 and "تأیید نوبت مراجعه" in html and office.name in html
    assert f'name="slot" value="{slot.isoformat()}"' in html and 'name="confirm" value="1"' in html
    assert not Appointment.objects.filter(request=awaiting_appointment).exists()
    response = applicant_client.post(reverse("requests:appointment", args=[awaiting_appointment.pk]),
                                     {"slot": slot.isoformat(), "confirm": "1"})
    assert response["Location"] == reverse("requests:detail", args=[awaiting_appointment.pk])
    req = CertificateRequest.objects.get(pk=awaiting_appointment.pk)
    assert req.status == "awaiting_issuance"
    appointment = Appointment.objects.get(request=req, is_active=True)
    assert appointment.starts_at == slot and appointment.ends_at == slot + dt.timedelta(minutes=30)
    entry = AuditEntry.objects.get(event="request.booked")
    assert (entry.old, entry.new) == ("awaiting_appointment", "awaiting_issuance")
    sms = last_sms(applicant_person.mobile)
    from ramis.common.jalali import jalali_datetime

    assert sms.template == "appointment_booked" and jalali_datetime(slot) in sms.body
    detail = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    from ramis.common.jalali import jalali_long

    assert "در انتظار صدور" in detail and jalali_long(slot) in detail


def test_a_full_slot_is_refused(applicant_person, other_applicant_person, office, clerk, catalogue):
    office.slot_capacity = 1
    office.save()
    first = advance(make_draft(applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)
    second = advance(make_draft(other_applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)
    slot = _slots(office)[0]
    services.appointment_book(request_id=first.pk, actor=applicant_person.user, starts_at=slot)
    assert slot not in _slots(office)
    with pytest.raises(services.SlotUnavailable):
        services.appointment_book(request_id=second.pk, actor=other_applicant_person.user, starts_at=slot)
    assert CertificateRequest.objects.get(pk=second.pk).status == "awaiting_appointment"


@pytest.mark.parametrize("shift", [dt.timedelta(minutes=1), dt.timedelta(days=400)])
def test_not_a_slot_is_refused(applicant_person, awaiting_appointment, office, shift):
    with pytest.raises(services.SlotUnavailable):
        services.appointment_book(request_id=awaiting_appointment.pk, actor=applicant_person.user,
                                  starts_at=_slots(office)[0] + shift)


def test_closed_day_is_refused(applicant_person, awaiting_appointment, office):
    day = hours.today_in_tehran() + dt.timedelta(days=1)
    while day.weekday() != 3:
        day += dt.timedelta(days=1)
    thursday_morning = dt.datetime.combine(day, dt.time(9, 30), tzinfo=TEHRAN)
    with pytest.raises(services.SlotUnavailable):
        services.appointment_book(request_id=awaiting_appointment.pk, actor=applicant_person.user,
                                  starts_at=thursday_morning)


def test_only_the_applicant_books(awaiting_appointment, other_applicant_person, clerk, office):
    for actor in (clerk, other_applicant_person.user):
        with pytest.raises(PermissionDenied):
            services.appointment_book(request_id=awaiting_appointment.pk, actor=actor, starts_at=_slots(office)[0])


def test_rebook_until_the_day_before(applicant_client, applicant_person, awaiting_appointment, office):
    slots = _slots(office)
    services.appointment_book(request_id=awaiting_appointment.pk, actor=applicant_person.user, starts_at=slots[0])
    page = applicant_client.post(reverse("requests:appointment", args=[awaiting_appointment.pk]),
                                 {"slot": slots[1].isoformat()}).content.decode()
    assert "نوبت فعلی شما" in page and "آزاد می‌شود" in page  # the confirmation says the old one is freed
    applicant_client.post(reverse("requests:appointment", args=[awaiting_appointment.pk]),
                          {"slot": slots[1].isoformat(), "confirm": "1"})
    active = Appointment.objects.get(request=awaiting_appointment, is_active=True)
    assert active.starts_at == slots[1]
    assert Appointment.objects.filter(request=awaiting_appointment, is_active=False).count() == 1
    assert AuditEntry.objects.filter(event="request.rebooked").count() == 1
    assert CertificateRequest.objects.get(pk=awaiting_appointment.pk).status == "awaiting_issuance"
    # on the day itself the appointment can no longer be moved
    Appointment.objects.filter(pk=active.pk).update(starts_at=timezone.now())  # today, at any hour of the day
    with pytest.raises(services.DomainError):
        services.appointment_book(request_id=awaiting_appointment.pk, actor=applicant_person.user, starts_at=slots[2])


def test_on_site_needs_no_appointment_the_office_schedules(applicant_client, applicant_person, office, clerk,
                                                           other_office_clerk, catalogue):
    req = advance(make_draft(applicant_person, office, service_type="on_site", catalogue=catalogue), "paid",
                  clerk=clerk)
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_visit"
    assert applicant_client.get(reverse("requests:appointment", args=[req.pk]))["Location"] == reverse(
        "requests:detail", args=[req.pk])
    when = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(PermissionDenied):
        services.visit_schedule(request_id=req.pk, actor=other_office_clerk, starts_at=when)
    services.visit_schedule(request_id=req.pk, actor=clerk, starts_at=when)
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
    assert last_sms(applicant_person.mobile).template == "visit_scheduled"


def test_on_site_visits_do_not_use_office_capacity(applicant_person, office, clerk, catalogue, company):
    office.slot_capacity = 1
    office.save()
    other = make_person("0013542419", "09351112233")
    make_role(other, company)
    on_site = advance(make_draft(other, office, service_type="on_site", catalogue=catalogue), "paid", clerk=clerk)
    slot = _slots(office)[0]
    services.visit_schedule(request_id=on_site.pk, actor=clerk, starts_at=slot)
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)
    services.appointment_book(request_id=req.pk, actor=applicant_person.user, starts_at=slot)  # not full
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
