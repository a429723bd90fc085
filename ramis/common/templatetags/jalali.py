"""Template filters that show stored datetimes as Jalali dates in Asia/Tehran."""

from django import template

from ramis.common import jalali as jalali_fn
from ramis.common.digits import persian_number, to_persian_digits

register = template.Library()


@register.filter
def jdate(value):
    return jalali_fn.jalali_date(value)


@register.filter
def jdatetime(value):
    return jalali_fn.jalali_datetime(value)


@register.filter
def jlong(value):
    return jalali_fn.jalali_long(value)


@register.filter
def fa_digits(value):
    """Persian digits for a number (or digits in text) inside a Persian sentence; a float gets «٫»."""
    if value is None:
        return ""
    return persian_number(value) if isinstance(value, float) else to_persian_digits(value)


@register.filter
def rials(value):
    """Integer rials with thousands separators, in Persian digits."""
    if value in (None, ""):
        return ""
    return to_persian_digits(f"{int(value):,}").replace(",", "٬")
