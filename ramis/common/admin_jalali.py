"""Jalali dates everywhere in the Django admin (issue 13 item 11), for SEO and e-Namad reviewers.

django-jalali-date supplies the form side: its Jalali date field and widgets (the vendored
@majidh1/jalalidatepicker, served from its own static files, no inline script) and its change
form template, which shows read-only dates in Jalali. This module adds the rest and applies it
to every model admin without each room repeating it:

- ``JalaliAdminSite.register`` mixes ``JalaliAdminMixin`` into each ModelAdmin it registers
  (the site is Django's default one, named in ``RamisAdminConfig.default_site``);
- list columns of date and datetime fields show ``۱۴۰۳/۰۷/۱۵ ۱۴:۰۵`` (Tehran time);
- date list filters (and a ``date_hierarchy``, turned into one) use Jalali "this month" / "this year" boundaries with Persian titles
  (``JalaliDateFieldListFilter``, registered for every date field).
"""

from __future__ import annotations

import datetime as dt

import jdatetime
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.filters import DateFieldListFilter, FieldListFilter
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from jalali_date.admin import overrides as _JALALI_FORM_OVERRIDES

from .jalali import TEHRAN, jalali_date, jalali_datetime

JALALI_CHANGE_FORM = "admin/jalali_change_form.html"


def _jalali_column(field: models.Field):
    is_datetime = isinstance(field, models.DateTimeField)

    @admin.display(description=field.verbose_name, ordering=field.name)
    def column(obj):
        value = getattr(obj, field.name)
        if value is None:
            return "—"
        return jalali_datetime(value) if is_datetime else jalali_date(value)

    return column


class JalaliAdminMixin:
    """Jalali list columns, Jalali form widgets, Jalali read-only dates on the change form."""

    def __init__(self, *args, **kwargs):
        self.formfield_overrides = {**_JALALI_FORM_OVERRIDES, **(self.formfield_overrides or {})}
        if self.change_form_template is None:
            self.change_form_template = JALALI_CHANGE_FORM
        if self.date_hierarchy:  # Django's drill-down is Gregorian years and months: a Jalali filter instead
            self.list_filter = (self.date_hierarchy, *self.list_filter)
            self.date_hierarchy = None
        super().__init__(*args, **kwargs)

    def get_list_display(self, request):
        columns = []
        for name in super().get_list_display(request):
            field = None
            if isinstance(name, str):
                try:
                    field = self.opts.get_field(name)
                except FieldDoesNotExist:  # a method or a callable's name
                    field = None
            if isinstance(field, models.DateField):
                column_name = f"jalali_{name}"
                setattr(self, column_name, _jalali_column(field))
                columns.append(column_name)
            else:
                columns.append(name)
        return columns


class JalaliDateFieldListFilter(DateFieldListFilter):
    """Django's date filter with Jalali month and year boundaries (Tehran days) and Persian titles."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        now = timezone.now().astimezone(TEHRAN)
        today = now.date()
        jtoday = jdatetime.date.fromgregorian(date=today)
        month_start = jdatetime.date(jtoday.year, jtoday.month, 1).togregorian()
        next_month = (jdatetime.date(jtoday.year + 1, 1, 1) if jtoday.month == 12
                      else jdatetime.date(jtoday.year, jtoday.month + 1, 1)).togregorian()
        year_start = jdatetime.date(jtoday.year, 1, 1).togregorian()
        next_year = jdatetime.date(jtoday.year + 1, 1, 1).togregorian()

        def edge(day: dt.date):
            if isinstance(field, models.DateTimeField):
                return dt.datetime.combine(day, dt.time.min, tzinfo=TEHRAN)
            return day

        tomorrow = today + dt.timedelta(days=1)
        since, until = self.lookup_kwarg_since, self.lookup_kwarg_until
        self.links = (
            ("همه", {}),
            ("امروز", {since: edge(today), until: edge(tomorrow)}),
            ("هفت روز گذشته", {since: edge(today - dt.timedelta(days=7)), until: edge(tomorrow)}),
            ("این ماه (شمسی)", {since: edge(month_start), until: edge(next_month)}),
            ("امسال (شمسی)", {since: edge(year_start), until: edge(next_year)}),
        )
        if field.null:
            self.links += (("بدون تاریخ", {self.field_generic + "isnull": True}),
                           ("دارای تاریخ", {self.field_generic + "isnull": False}))


FieldListFilter.register(lambda f: isinstance(f, models.DateField), JalaliDateFieldListFilter, take_priority=True)


class JalaliAdminSite(admin.AdminSite):
    """The default admin site; every ModelAdmin registered on it gets ``JalaliAdminMixin``."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, JalaliAdminMixin):
            admin_class = type(admin_class.__name__, (JalaliAdminMixin, admin_class),
                               {"__module__": admin_class.__module__})
        return super().register(model_or_iterable, admin_class, **options)


class RamisAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the Jalali site as the default ``admin.site``."""

    default_site = "ramis.common.admin_jalali.JalaliAdminSite"
