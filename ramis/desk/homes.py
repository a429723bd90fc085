"""The clerk's home (issue 13): the office's desk, with its waiting requests, today's
appointments and the holders' revocation requests counted."""

from __future__ import annotations

from django.urls import reverse

from ramis.common.homes import Count, Home, register
from ramis.offices import hours
from ramis.offices.selectors import office_of_clerk

from . import selectors

# Tabs whose requests wait for the clerk (the others are history).
WAITING_TABS = ("submitted", "awaiting_visit", "awaiting_issuance")


@register
def clerk_home(user) -> Home | None:
    office = office_of_clerk(user) if user.is_staff else None
    if office is None:
        return None
    counts = selectors.tab_counts(office)
    queue = reverse("desk:queue")
    return Home(title=f"میز کار {office.name}", url=queue, counts=(
        *(Count(tab.label, counts[tab.key], f"{queue}?tab={tab.key}") for tab in selectors.TABS
          if tab.key in WAITING_TABS),
        Count("نوبت‌های امروز", selectors.appointments_on(office, hours.today_in_tehran()).count(),
              reverse("desk:day")),
        Count("درخواست‌های ابطال", selectors.open_revocations(office).count(), reverse("desk:revocations")),
    ))
