"""Jalali (Solar Hijri) dates at the edge: stored values stay UTC/Gregorian (STYLE 8)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import jdatetime

from .digits import to_latin_digits, to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")
_DATE_RE = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$")
MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)
WEEKDAYS = ("شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه")


def to_tehran(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: store aware UTC datetimes")
    return value.astimezone(TEHRAN)


def jalali_date(value: dt.date | dt.datetime | None, *, persian_digits: bool = True) -> str:
    """``1403/07/15`` for a date, or for a datetime's calendar day in Tehran."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_tehran(value).date()
    text = jdatetime.date.fromgregorian(date=value).strftime("%Y/%m/%d")
    return to_persian_digits(text) if persian_digits else text


def jalali_datetime(value: dt.datetime | None, *, persian_digits: bool = True) -> str:
    """``1403/07/15 14:05`` in Tehran time."""
    if value is None:
        return ""
    local = to_tehran(value)
    text = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None)).strftime("%Y/%m/%d %H:%M")
    return to_persian_digits(text) if persian_digits else text


def jalali_long(value: dt.date | dt.datetime | None) -> str:
    """``شنبه ۱۵ مهر ۱۴۰۳``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_tehran(value).date()
    jd = jdatetime.date.fromgregorian(date=value)
    return to_persian_digits(f"{WEEKDAYS[jd.weekday()]} {jd.day} {MONTHS[jd.month - 1]} {jd.year}")


def parse_jalali_date(text: str) -> dt.date:
    """Parse ``۱۳۶۵/۰۴/۱۲`` or ``1365/04/12`` (or with ``-``) into a Gregorian date.

    Raises ``ValueError`` with a Persian message on malformed or impossible dates.
    """
    match = _DATE_RE.match(to_latin_digits(text or ""))
    if not match:
        raise ValueError("تاریخ را به شکل ۱۳۶۵/۰۴/۱۲ وارد کنید.")
    year, month, day = (int(part) for part in match.groups())
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError:
        raise ValueError("این تاریخ در تقویم شمسی وجود ندارد.") from None
