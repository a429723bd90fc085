"""A request's lifecycle as a strip (issue 13): submitted → approved → paid → appointment →
issued, with the steps done and the current one marked; and the appointment as a calendar file
(RFC 5545, written by the ``icalendar`` library)."""

from __future__ import annotations

from django.conf import settings
from icalendar import Calendar, Event

from .models import Appointment, CertificateRequest, ServiceType

Status = CertificateRequest.Status

STEPS = [
    ("submitted", "ثبت نهایی"),
    ("approved", "تأیید دفتر"),
    ("paid", "پرداخت"),
    ("appointment", "نوبت"),
    ("issued", "صدور گواهی"),
]
# How many steps each status has completed.
_DONE = {
    Status.DRAFT: 0, Status.RETURNED: 0, Status.SUBMITTED: 1, Status.AWAITING_PAYMENT: 2,
    Status.AWAITING_APPOINTMENT: 3, Status.AWAITING_VISIT: 3, Status.AWAITING_ISSUANCE: 4, Status.ISSUED: 5,
}


def strip(req: CertificateRequest) -> dict:
    """``{"steps", "current", "done", "stopped"}`` for ``components/stepper.html``; a rejected or
    cancelled request shows how far it went and says it stopped."""
    steps = [(key, "هماهنگی مراجعه" if key == "appointment" and req.service_type == ServiceType.ON_SITE else label)
             for key, label in STEPS]
    keys = [key for key, _ in steps]
    if req.status in _DONE:
        count, stopped = _DONE[Status(req.status)], ""
    else:
        count = _reached(req)
        stopped = req.get_status_display()
    done = keys[:count]
    current = keys[count] if count < len(keys) and not stopped else ""
    return {"steps": steps, "current": current, "done": done, "stopped": stopped}


def _reached(req: CertificateRequest) -> int:
    """How far a rejected or cancelled request got, from what it left behind."""
    if req.appointments.exists():
        return 4
    if req.status == Status.CANCELLED and req.refunds.exists():
        return 3
    if hasattr(req, "invoice"):
        return 2
    return 1 if req.submitted_at else 0


def appointment_ics(appointment: Appointment) -> bytes:
    req = appointment.request
    office = appointment.office
    cal = Calendar()
    cal.add("prodid", "-//RAMIS//appointment//FA")
    cal.add("version", "2.0")
    event = Event()
    host = settings.PUBLIC_BASE_URL.split("://", 1)[-1].split("/", 1)[0] or "ramis"
    event.add("uid", f"appointment-{appointment.pk}@{host}")
    event.add("dtstamp", appointment.created_at)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    if appointment.kind == ServiceType.ON_SITE:
        event.add("summary", f"مراجعه کارشناس {office.name} برای صدور گواهی ({req.reference})")
        event.add("location", appointment.address)
    else:
        event.add("summary", f"نوبت صدور گواهی در {office.name} ({req.reference})")
        event.add("location", f"{office.name}، {office.address}")
    event.add("description", "دارنده گواهی (یا وکیل قانونی با وکالت‌نامه محضری) با اصل مدارک شناسایی و توکن حاضر شود.")
    cal.add_component(event)
    return cal.to_ical()
