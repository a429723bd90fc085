"""The Jalali date picker (issue 13 item 11) in a real Chromium: on the login page's birth date
box the vendored picker (django-jalali-date's copy of @majidh1/jalalidatepicker, served by the
portal itself) opens on focus, a day is picked by clicking it, the box holds that Jalali date as
``1365/04/12`` (the form's own format), and the page logs no CSP violation.
The same at 390 px."""

from __future__ import annotations

import re

import pytest

from ramis.common.jalali import parse_jalali_date
from tests.e2e.test_csp_journey import violations, watch


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_birth_date_is_picked_from_the_jalali_calendar(page, shot, width):
    page.set_viewport_size({"width": width, "height": 900})
    seen = watch(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/auth/login/")
    box = page.get_by_label("تاریخ تولد")
    box.click()
    picker = page.locator("jdp-container")
    picker.wait_for(state="visible")
    assert picker.locator(".jdp-day:not(.not-in-month)").count() >= 29
    shot(page, f"jalali-picker{'' if width == 1280 else '-390'}")
    picker.locator(".jdp-year select").select_option("1365")
    picker.locator(".jdp-month select").select_option("4")
    picker.locator(".jdp-day:not(.not-in-month)").filter(has_text=re.compile(r"^12$")).click()
    value = box.input_value()
    assert value == "1365/04/12", value
    assert parse_jalali_date(value).isoformat() == "1986-07-03"  # what the form's field makes of it
    picker.wait_for(state="hidden")  # closed after the pick
    # everything the picker needed came from the portal itself
    origin = page.url.split("/auth/")[0]
    assert all(url.startswith(origin) or url.startswith("data:") for url in requested), requested
    assert violations(seen) == [], seen
