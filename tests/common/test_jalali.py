import datetime as dt

import pytest
from django import forms
from django.template import Context, Template

from ramis.common.forms import JalaliDateField, MobileField
from ramis.common.jalali import jalali_date, jalali_datetime, parse_jalali_date


def test_parse_persian_and_latin_digits():
    assert parse_jalali_date("۱۳۶۵/۰۴/۱۲") == dt.date(1986, 7, 3)
    assert parse_jalali_date("1365/04/12") == dt.date(1986, 7, 3)
    assert parse_jalali_date("1365-4-12") == dt.date(1986, 7, 3)


@pytest.mark.parametrize("text", ["1365/13/01", "1365/12/31", "65/4/12", "tomorrow", ""])
def test_parse_refuses_bad_dates(text):
    with pytest.raises(ValueError):
        parse_jalali_date(text)


def test_datetime_shown_in_tehran_time():
    # 20:45 UTC on 2024-03-19 is 00:15 on 1403/01/01 in Tehran (UTC+3:30): the day changes.
    moment = dt.datetime(2024, 3, 19, 20, 45, tzinfo=dt.UTC)
    assert jalali_datetime(moment, persian_digits=False) == "1403/01/01 00:15"
    assert jalali_date(moment) == "۱۴۰۳/۰۱/۰۱"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        jalali_datetime(dt.datetime(2024, 3, 19, 12, 0))


def test_template_filters():
    moment = dt.datetime(2024, 3, 19, 20, 45, tzinfo=dt.UTC)
    out = Template("{{ m|jdate }} {{ m|jdatetime }} {{ n|rials }}").render(Context({"m": moment, "n": 1250000}))
    assert out == "۱۴۰۳/۰۱/۰۱ ۱۴۰۳/۰۱/۰۱ ۰۰:۱۵ ۱٬۲۵۰٬۰۰۰"


class _Form(forms.Form):
    born = JalaliDateField()
    mobile = MobileField()


def test_jalali_form_field_accepts_both_digit_sets_and_explains_errors():
    form = _Form({"born": "۱۳۶۵/۰۴/۱۲", "mobile": "۰۹۱۲۱۲۳۴۵۶۷"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"born": dt.date(1986, 7, 3), "mobile": "09121234567"}
    bad = _Form({"born": "1365/13/40", "mobile": "12"})
    assert not bad.is_valid()
    assert "تقویم" in bad.errors["born"][0] or "شکل" in bad.errors["born"][0]
    assert "۰۹" in bad.errors["mobile"][0]


def test_a_date_box_shows_a_date_the_person_could_mean_as_its_placeholder(monkeypatch):
    """A birth date's box shows a birth date; every other date box (an on-site visit, a power of
    attorney) shows today's date in Tehran, not someone's birthday from 1986."""
    import jdatetime
    from django.utils import timezone

    from certauth.forms import IdentityForm
    from ramis.desk.forms import VisitForm

    # 2026-03-20 21:00 UTC is already 1405/01/01 in Tehran (UTC+3:30): the date is Tehran's, not UTC's
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 20, 21, 0, tzinfo=dt.UTC))
    today = jdatetime.date.fromgregorian(date=dt.date(2026, 3, 21)).strftime("%Y/%m/%d")
    assert today == "1405/01/01"
    visit = VisitForm(clerks=None)
    assert 'placeholder="۱۴۰۵/۰۱/۰۱"' in str(visit["date"])
    birth = str(IdentityForm()["birth_date"])
    assert 'placeholder="۱۳۶۵/۰۴/۱۲"' in birth
    assert "۱۴۰۵" not in birth
