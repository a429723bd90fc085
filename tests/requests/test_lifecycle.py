"""The request page's lifecycle strip (submitted → approved → paid → appointment → issued, the
current step marked) and the appointment's printable slip and calendar file (issue 13)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from ramis.requests import lifecycle, services
from ramis.requests.models import CertificateRequest
from tests.conftest import login_applicant

from .conftest import advance, make_draft


def _strip(html: str) -> tuple[list[str], str]:
    """(labels of the steps marked done, label of the current step) as the page shows them."""
    section = html[html.index('id="lifecycle"'):html.index('id="status"')]
    done = re.findall(r'class="step done".*?<span class="label">(.*?)</span>', section, re.S)
    current = re.findall(r'class="step current".*?<span class="label">(.*?)</span>', section, re.S)
    return done, current[0] if current else ""


@pytest.mark.parametrize("to, done, current", [
    ("draft", [], "ثبت نهایی"),
    ("submitted", ["ثبت نهایی"], "تأیید دفتر"),
    ("awaiting_payment", ["ثبت نهایی", "تأیید دفتر"], "پرداخت"),
    ("paid", ["ثبت نهایی", "تأیید دفتر", "پرداخت"], "نوبت"),
    ("awaiting_issuance", ["ثبت نهایی", "تأیید دفتر", "پرداخت", "نوبت"], "صدور گواهی"),
    ("issued", ["ثبت نهایی", "تأیید دفتر", "پرداخت", "نوبت", "صدور گواهی"], ""),
])
def test_the_strip_marks_the_steps_done_and_the_current_one(applicant_client, applicant_person, office, clerk,
                                                            catalogue, to, done, current):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), to, clerk=clerk)
    pk = req.pk if isinstance(req, CertificateRequest) else req.request_id
    html = applicant_client.get(reverse("requests:detail", args=[pk])).content.decode()
    assert _strip(html) == (done, current)


def test_a_cancelled_request_shows_where_it_stopped(applicant_client, applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    services.request_cancel(request_id=req.pk, actor=applicant_person.user)
    html = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert _strip(html) == (["ثبت نهایی", "تأیید دفتر"], "")
    assert 'id="lifecycle-stopped"' in html and "لغو" in html


def test_on_site_service_says_visit_instead_of_appointment(applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue, service_type="on_site"), "paid",
                  clerk=clerk)
    strip = lifecycle.strip(req)
    assert dict(strip["steps"])["appointment"] == "هماهنگی مراجعه" and strip["current"] == "appointment"


@pytest.fixture
def booked(applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)


def test_printable_slip_and_calendar_file_of_the_appointment(applicant_client, booked, office):
    appointment = booked.appointments.get(is_active=True)
    html = applicant_client.get(reverse("requests:detail", args=[booked.pk])).content.decode()
    assert reverse("requests:appointment_slip", args=[booked.pk]) in html
    assert reverse("requests:appointment_ics", args=[booked.pk]) in html
    slip = applicant_client.get(reverse("requests:appointment_slip", args=[booked.pk])).content.decode()
    assert 'id="slip"' in slip and booked.reference in slip and office.address in slip and "وکالت‌نامه محضری" in slip
    response = applicant_client.get(reverse("requests:appointment_ics", args=[booked.pk]))
    assert response["Content-Type"].startswith("text/calendar") and ".ics" in response["Content-Disposition"]
    event = next(iter(Calendar.from_ical(response.content).walk("VEVENT")))
    assert event.decoded("dtstart") == appointment.starts_at and event.decoded("dtend") == appointment.ends_at
    assert booked.reference in str(event["summary"]) and office.name in str(event["location"])


def test_slip_and_calendar_are_the_applicants_only(booked, other_applicant_client, applicant_person, office,
                                                   catalogue):
    for name in ("appointment_slip", "appointment_ics"):
        assert other_applicant_client.get(reverse(f"requests:{name}", args=[booked.pk])).status_code == 404
    # no appointment yet: nothing to print
    draft = make_draft(applicant_person, office, catalogue=catalogue)
    client = login_applicant(Client(), applicant_person)
    assert client.get(reverse("requests:appointment_slip", args=[draft.pk])).status_code == 404


def test_the_panel_opens_on_the_applicants_next_step(applicant_client, applicant_person, office, clerk, catalogue):
    html = applicant_client.get(reverse("requests:panel")).content.decode()
    assert "«درخواست جدید» را بزنید" in html[html.index('id="next-step"'):]
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    html = applicant_client.get(reverse("requests:panel")).content.decode()
    box = html[html.index('id="next-step"'):html.index("</section>", html.index('id="next-step"'))]
    assert reverse("requests:detail", args=[req.pk]) in box and "پرداخت" in box
