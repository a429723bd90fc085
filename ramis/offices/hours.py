"""Working hours and bookable slots of an office (R12, R21), as plain functions of the data.

Times of day are Tehran wall-clock times; the slots come back as aware datetimes (UTC is what
gets stored). Which slots are already full is the requests room's business (appointments).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from ramis.common.digits import to_persian_digits
from ramis.common.jalali import TEHRAN

from .models import Holiday, RegistrationOffice, Weekday

_MORNING = (dt.time(9, 30), dt.time(12, 30))
_AFTERNOON = (dt.time(13, 30), dt.time(15, 0))
# Saturday to Wednesday, 9:30–12:30 and 13:30–15:00; Thursday and Friday closed.
DEFAULT_WEEK: dict[int, list[tuple[dt.time, dt.time]]] = {
    day: [_MORNING, _AFTERNOON]
    for day in (Weekday.SATURDAY, Weekday.SUNDAY, Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY)
}


def week_of(office: RegistrationOffice) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """The office's periods per weekday: its own rows if it has any, else the default week."""
    week: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for period in office.working_periods.all():
        week[period.weekday].append((period.start, period.end))
    if not week:
        return {day: list(periods) for day, periods in DEFAULT_WEEK.items()}
    return {day: sorted(periods) for day, periods in week.items()}


# The Iranian week, Saturday first.
WEEK_ORDER = (Weekday.SATURDAY, Weekday.SUNDAY, Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY,
              Weekday.THURSDAY, Weekday.FRIDAY)


def _clock(value: dt.time) -> str:
    return to_persian_digits(f"{value.hour}:{value.minute:02d}")


def describe_week(office: RegistrationOffice) -> str:
    """The office's working hours in Persian, from the same periods that make its slots, e.g.
    «شنبه تا چهارشنبه ۹:۳۰–۱۲:۳۰ و ۱۳:۳۰–۱۵:۰۰» (consecutive days with the same periods in one
    group, groups joined by «؛»)."""
    week = week_of(office)
    groups: list[tuple[list[int], list[tuple[dt.time, dt.time]]]] = []
    for day in WEEK_ORDER:
        periods = week.get(day, [])
        if not periods:
            continue
        if groups and groups[-1][1] == periods and WEEK_ORDER.index(groups[-1][0][-1]) == WEEK_ORDER.index(day) - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], periods))
    if not groups:
        return "بدون ساعت کاری"
    parts = []
    for days, periods in groups:
        first, last = Weekday(days[0]).label, Weekday(days[-1]).label
        label = first if len(days) == 1 else f"{first} و {last}" if len(days) == 2 else f"{first} تا {last}"
        parts.append(f"{label} " + " و ".join(f"{_clock(a)}–{_clock(b)}" for a, b in periods))
    return "؛ ".join(parts)


def closed_dates(office: RegistrationOffice, first: dt.date, last: dt.date) -> set[dt.date]:
    rows = Holiday.objects.filter(Q(office__isnull=True) | Q(office=office), date__range=(first, last))
    return set(rows.values_list("date", flat=True))


def today_in_tehran(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(TEHRAN).date()


def slot_starts(office: RegistrationOffice, *, first: dt.date, days: int) -> list[dt.datetime]:
    """Every slot start of ``office`` from ``first`` for ``days`` days, skipping closed days."""
    last = first + dt.timedelta(days=days - 1)
    week = week_of(office)
    closed = closed_dates(office, first, last)
    length = dt.timedelta(minutes=office.slot_minutes)
    starts: list[dt.datetime] = []
    day = first
    while day <= last:
        if day not in closed:
            for begin, end in week.get(day.weekday(), []):
                cursor = dt.datetime.combine(day, begin, tzinfo=TEHRAN)
                stop = dt.datetime.combine(day, end, tzinfo=TEHRAN)
                while cursor + length <= stop:
                    starts.append(cursor.astimezone(dt.UTC))
                    cursor += length
        day += dt.timedelta(days=1)
    return starts


def is_slot_start(office: RegistrationOffice, when: dt.datetime) -> bool:
    """Whether ``when`` is exactly the start of one of the office's slots on its day."""
    local = when.astimezone(TEHRAN)
    return when.astimezone(dt.UTC) in slot_starts(office, first=local.date(), days=1)
