"""The Jalali date picker (issue 13 item 11; static/js/jalali-picker.js, the WAI-ARIA APG date
picker dialog) in a real Chromium, on the login page's birth date box, at 1280 and 390 px:

- by mouse (or finger): the "تقویم" button beside the box opens the calendar, a year and month are
  chosen from their lists, a day is clicked, the box holds that Jalali date as ``1365/04/12`` (the
  form's own format), everything came from the portal itself and no CSP violation is logged;
- by keyboard only: Tab reaches the button, Enter opens the calendar with the focus on the box's
  date (the one tabbable day, selected), the arrows move by day and week as the right-to-left grid
  shows them, PageUp/PageDown by month, Home/End to the week's Saturday and Friday, Tab stays in
  the dialog, Enter and Space pick a day and give the focus back to the button, Escape closes
  without a change; the day labels are full Persian dates, today is marked aria-current="date";
- on every form with a date box (``DATE_FORMS``: the login, the desk's visit and power-of-attorney
  dates, e-Namad's profile and identity-change ticket), opened as its persona opens it, at 1280 and
  390 px: the dialog whole inside the window and on top of the page, under its button, nothing
  scrolled sideways; the day picked fills that box and no other field. A locked (disabled) box has
  no calendar button;
- an open calendar follows the window when it changes size (1280 → 320 → 1280 → 320 px): inside
  the window at the narrow width, back under its button, edge to edge, at the wide one.

axe-core's audit of the open calendar is in test_accessibility.py (its pages may add axe's script)."""

from __future__ import annotations

import datetime as dt
import re

import jdatetime
import pytest
from playwright.sync_api import expect

from ramis.common.digits import to_persian_digits
from ramis.common.jalali import MONTHS, TEHRAN, WEEKDAYS, parse_jalali_date
from tests.e2e.test_csp_journey import violations, watch
from tests.requests.conftest import catalogue  # noqa: F401  (the desk's forms need a request)


def day_label(day: jdatetime.date) -> str:
    """What a day of the calendar is called: its full Persian date, ``پنجشنبه ۱۲ تیر ۱۳۶۵``."""
    return (f"{WEEKDAYS[day.weekday()]} {to_persian_digits(day.day)} {MONTHS[day.month - 1]} "
            f"{to_persian_digits(day.year)}")


def same_day_a_year_before(day: jdatetime.date) -> jdatetime.date:
    """Shift+PageUp's target: the same day a year before, or its month's last day (30 Esfand)."""
    try:
        return jdatetime.date(day.year - 1, day.month, day.day)
    except ValueError:
        return jdatetime.date(day.year - 1, day.month, day.day - 1)


def open_login(page, width: int) -> list[str]:
    page.set_viewport_size({"width": width, "height": 900})
    seen = watch(page)
    page.goto("/auth/login/")
    return seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_birth_date_is_picked_from_the_jalali_calendar(page, shot, width):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    seen = open_login(page, width)
    box = page.get_by_label("تاریخ تولد")
    dialog = page.get_by_role("dialog", name="انتخاب تاریخ")
    box.click()
    expect(dialog).to_be_hidden()  # the box is for typing; the button beside it opens the calendar
    page.get_by_role("button", name="تقویم", exact=True).click()
    expect(dialog).to_be_visible()
    assert dialog.get_by_role("gridcell").filter(has_text="۲۹").count() == 1
    shot(page, f"jalali-picker{'' if width == 1280 else '-390'}")
    dialog.get_by_role("combobox", name="سال").select_option("1365")
    dialog.get_by_role("combobox", name="ماه").select_option("4")
    expect(dialog.get_by_role("grid")).to_have_accessible_name("تیر ۱۳۶۵")
    dialog.get_by_role("gridcell", name="پنجشنبه ۱۲ تیر ۱۳۶۵").click()
    value = box.input_value()
    assert value == "1365/04/12", value
    assert parse_jalali_date(value).isoformat() == "1986-07-03"  # what the form's field makes of it
    expect(dialog).to_be_hidden()  # closed after the pick
    # everything the picker needed came from the portal itself
    origin = page.url.split("/auth/")[0]
    assert all(url.startswith(origin) or url.startswith("data:") for url in requested), requested
    assert violations(seen) == [], seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_a_date_is_picked_with_the_keyboard_alone(page, shot, width):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    seen = open_login(page, width)
    box, button = page.get_by_label("تاریخ تولد"), page.get_by_role("button", name="تقویم", exact=True)
    dialog = page.get_by_role("dialog", name="انتخاب تاریخ")
    page.get_by_label("کد ملی").focus()
    page.keyboard.press("Tab")
    expect(box).to_be_focused()
    page.keyboard.type("1403/12/28")  # Esfand 1403 has 30 days (a leap year)
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")

    def focused(day: jdatetime.date):
        cell = dialog.get_by_role("gridcell", name=day_label(day), exact=True)
        expect(cell).to_be_focused()
        expect(cell).to_have_attribute("tabindex", "0")
        assert dialog.locator("td[tabindex='0']").count() == 1  # roving tabindex: one tabbable day
        return cell

    start = jdatetime.date(1403, 12, 28)
    expect(focused(start)).to_have_attribute("aria-selected", "true")
    shot(page, f"jalali-picker-keyboard{'' if width == 1280 else '-390'}")
    moves = [("ArrowLeft", 1), ("ArrowDown", 7), ("ArrowRight", -1), ("ArrowUp", -7), ("ArrowUp", -7)]
    day = start
    for key, days in moves:  # right to left: ArrowLeft is the next day, ArrowDown the next week
        page.keyboard.press(key)
        day += dt.timedelta(days=days)
        focused(day)
    assert day == jdatetime.date(1403, 12, 21)  # a Tuesday
    page.keyboard.press("Home")
    focused(jdatetime.date(1403, 12, 18))  # that week's Saturday
    page.keyboard.press("End")
    focused(jdatetime.date(1403, 12, 24))  # and its Friday
    page.keyboard.press("PageDown")
    focused(jdatetime.date(1404, 1, 24))
    expect(dialog.get_by_role("grid")).to_have_accessible_name("فروردین ۱۴۰۴")
    expect(dialog.get_by_role("combobox", name="سال")).to_have_value("1404")
    page.keyboard.press("Shift+PageUp")
    page.keyboard.press("PageUp")
    focused(jdatetime.date(1402, 12, 24))
    page.keyboard.press("ArrowDown")  # across the month: Esfand 1402 has 29 days
    focused(jdatetime.date(1403, 1, 2))
    # Tab goes round inside the dialog: the "today" and "close" buttons, then the month buttons
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="امروز")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="ماه قبل")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "today": the focus on today, marked as the current date
    now = jdatetime.date.fromgregorian(date=dt.datetime.now(TEHRAN).date())
    expect(focused(now)).to_have_attribute("aria-current", "date")
    page.keyboard.press("ArrowRight")  # yesterday, picked with Enter
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    picked = now - dt.timedelta(days=1)
    assert box.input_value() == picked.strftime("%Y/%m/%d"), box.input_value()

    # Escape closes without a change, the focus back on the button
    page.keyboard.press("Enter")
    focused(picked)
    page.keyboard.press("PageUp")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    assert box.input_value() == picked.strftime("%Y/%m/%d")
    # Space picks too; the form's field reads what was written
    page.keyboard.press("Space")
    focused(picked)
    page.keyboard.press("Shift+PageUp")
    page.keyboard.press("Space")
    expect(dialog).to_be_hidden()
    year_before = same_day_a_year_before(picked)
    assert box.input_value() == year_before.strftime("%Y/%m/%d"), box.input_value()
    assert parse_jalali_date(box.input_value()) == year_before.togregorian()
    page.keyboard.press("Tab")  # on to the next field, the calendar stays shut
    expect(page.get_by_label("شماره شناسنامه")).to_be_focused()
    expect(dialog).to_be_hidden()
    assert errors == [] and violations(seen) == [], (errors, seen)


# --- every form with a date box, at 1280 and 390 px ----------------------------------------------------
# Each page as its persona opens it: the calendar of that page's date box opens whole inside the
# window (not clipped by a fieldset, not off the side of a phone, the page not scrolled sideways),
# below the box with the button above its end, the button as tall as the box and legible under the
# pointer, the week right to left; a day picked fills that box and no other field of the form.


def _session(page, live_server, client) -> None:
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def _as_clerk(page, live_server, request):
    from django.test import Client

    from tests.conftest import login_staff

    _session(page, live_server, login_staff(Client(), request.getfixturevalue("clerk")))


def _request_in(request, status: str, service_type: str = "in_person"):
    from tests.requests.conftest import advance, make_draft

    person, office = request.getfixturevalue("applicant_person"), request.getfixturevalue("office")
    draft = make_draft(person, office, service_type=service_type, catalogue=request.getfixturevalue("catalogue"))
    return advance(draft, status, clerk=request.getfixturevalue("clerk"))


def _as_shop_owner(page, live_server):
    from django.test import Client

    from tests.enamad.conftest import make_account

    account = make_account("picker.owner", verified=False)
    client = Client()
    client.force_login(account.user)
    _session(page, live_server, client)
    return account


def _login(page, live_server, request) -> str:
    return "/auth/login/"


def _visit(page, live_server, request) -> str:  # the clerk schedules an on-site visit
    req = _request_in(request, "paid", service_type="on_site")
    _as_clerk(page, live_server, request)
    return f"/office/requests/{req.pk}/visit/"


def _identity(page, live_server, request) -> str:  # the attorney's power-of-attorney date
    req = _request_in(request, "awaiting_issuance")
    _as_clerk(page, live_server, request)
    return f"/office/requests/{req.pk}/identity/"


def _profile(page, live_server, request) -> str:  # the shop owner's profile, before any business is sent
    _as_shop_owner(page, live_server)
    return "/enamad/panel/profile/"


def _identity_change(page, live_server, request) -> str:  # a ticket asking to change the birth date
    _as_shop_owner(page, live_server)
    return "/enamad/panel/tickets/new/identity_change/"


DATE_FORMS = {  # name: (how its persona reaches it, the date box's label, what reveals the box)
    "login": (_login, "تاریخ تولد", None),
    "desk-visit": (_visit, "تاریخ مراجعه", None),
    "desk-identity": (_identity, "تاریخ وکالت‌نامه", "وکیل قانونی دارنده"),
    "enamad-profile": (_profile, "تاریخ تولد", None),
    "enamad-identity-change": (_identity_change, "تاریخ تولد", None),
}
FIELDS = """(box) => Array.from(box.form.elements).filter((e) => e.name && e.type !== "file")
    .map((e) => [e.name, e.type === "checkbox" || e.type === "radio" ? e.checked : e.value])"""  # the box's form


def _contrast(fg: str, bg: str) -> float:
    """WCAG's contrast ratio of two computed colours (``rgb(29, 79, 145)``)."""
    def luminance(colour: str) -> float:
        channels = [float(c) / 255 for c in re.findall(r"[\d.]+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _date_box(page, url: str, label: str, reveal: str | None):
    """(the date box, its calendar button, the calendar dialog) of the form at ``url``, opened anew."""
    page.goto(url)
    if reveal:
        page.get_by_label(reveal).check()
    box = page.get_by_label(label)
    button = page.locator(".jdp-box", has=box).get_by_role("button", name="تقویم", exact=True)
    return box, button, page.get_by_role("dialog", name="انتخاب تاریخ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("form", DATE_FORMS)
def test_each_date_form_shows_the_whole_calendar_and_fills_its_own_box(page, shot, live_server, request, form):
    reach, label, reveal = DATE_FORMS[form]
    url = reach(page, live_server, request)
    seen = watch(page)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        box, button, dialog = _date_box(page, url, label, reveal)
        before = box.evaluate(FIELDS)
        button.click()
        expect(dialog).to_be_visible()
        shot(page, f"jalali-picker-{form}-{width}")
        where = f"{form} at {width}"

        outline, place = dialog.bounding_box(), box.bounding_box()
        assert outline["x"] >= 0 and outline["x"] + outline["width"] <= width, (where, outline)
        assert outline["y"] >= 0 and outline["y"] + outline["height"] <= height, (where, outline)  # scrolled in
        assert page.evaluate("document.documentElement.scrollWidth") <= width, where  # no sideways scroll
        for control in (dialog.get_by_role("button", name="ماه بعد"), dialog.get_by_role("button", name="بستن"),
                        dialog.locator("td[tabindex='0']")):  # on top: nothing clips or covers the dialog
            assert control.evaluate("""(e) => { const r = e.getBoundingClientRect();
                return e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"""), where
        opener = button.bounding_box()
        assert outline["y"] >= place["y"] + place["height"], (where, outline, place)  # below the box
        assert outline["x"] <= opener["x"] and opener["x"] + opener["width"] <= outline["x"] + outline["width"] + 1, \
            (where, outline, opener)  # under the button, not at the far end of a wide box
        assert abs(opener["y"] - place["y"]) <= 1 and abs(opener["height"] - place["height"]) <= 1, where
        colours = button.evaluate("(e) => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
        assert _contrast(*colours) >= 4.5, (where, colours)  # the pointer is still on it
        heads = dialog.locator("th")
        assert heads.first.bounding_box()["x"] > heads.last.bounding_box()["x"], where  # Saturday on the right

        dialog.get_by_role("combobox", name="سال").select_option("1403")
        dialog.get_by_role("combobox", name="ماه").select_option("11")
        dialog.get_by_role("gridcell", name=day_label(jdatetime.date(1403, 11, 30)), exact=True).click()
        expect(dialog).to_be_hidden()
        assert box.input_value() == "1403/11/30", (where, box.input_value())
        name = box.get_attribute("name")
        after = box.evaluate(FIELDS)
        assert [f for f in after if f[0] != name] == [f for f in before if f[0] != name], where  # no other field
        assert violations(seen) == [], (where, seen)


@pytest.mark.django_db(transaction=True)
def test_a_locked_date_box_has_no_calendar(page, live_server):
    """Once a business is sent, the shop owner's profile is read-only (N20): its birth date box is
    disabled and gets no calendar button, so nothing can be written into it."""
    from enamad.models import Business, BusinessStatus
    from tests.enamad.conftest import make_business

    account = _as_shop_owner(page, live_server)
    Business.objects.filter(pk=make_business(account).pk).update(status=BusinessStatus.UNDER_REVIEW)
    page.goto("/enamad/panel/profile/")
    expect(page.locator("#identity-locked")).to_be_visible()
    expect(page.get_by_label("تاریخ تولد")).to_be_disabled()
    assert page.get_by_role("button", name="تقویم", exact=True).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("form", ["login", "desk-identity"])
def test_an_open_calendar_follows_the_window_when_it_changes_size(page, shot, live_server, request, form):
    """A phone turned or a desktop window narrowed while the calendar is open: the dialog is fitted
    again — whole inside the window at a narrow width (where it has to move sideways), and back
    under its button, edge to edge, at a wide one (no shift left over from the narrow width)."""
    reach, label, reveal = DATE_FORMS[form]
    url = reach(page, live_server, request)
    page.set_viewport_size({"width": 1280, "height": 900})
    _box, button, dialog = _date_box(page, url, label, reveal)
    button.click()
    expect(dialog).to_be_visible()
    for width, height in ((320, 700), (1280, 900), (320, 700)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function("() => new Promise((done) => requestAnimationFrame(() => done(true)))")
        expect(dialog).to_be_visible()
        outline, opener = dialog.bounding_box(), button.bounding_box()
        where = f"{form} resized to {width}"
        assert outline["x"] >= 0 and outline["x"] + outline["width"] <= width, (where, outline)
        assert outline["x"] <= opener["x"] + 1 and opener["x"] + opener["width"] <= outline["x"] + outline["width"] + 1, \
            (where, outline, opener)  # under its button
        if width == 1280:  # room enough: not moved at all, its end under the button's, as when opened here
            assert abs(outline["x"] - opener["x"]) <= 1, (where, outline, opener)
    shot(page, f"jalali-picker-{form}-resized-320")
