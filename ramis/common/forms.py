"""Form fields that accept what Iranians type: Persian or Latin digits, Jalali dates."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import validators
from .digits import to_latin_digits
from .jalali import jalali_date, parse_jalali_date

BIRTH_DATE_EXAMPLE = "۱۳۶۵/۰۴/۱۲"


class JalaliDateInput(forms.TextInput):
    """A text box for a Jalali date with the Jalali date picker beside it: ``data-jdp`` is what
    static/js/jalali-picker.js (loaded by base.html, no inline script) looks for to add its
    "تقویم" button and calendar dialog (keyboard and screen readers as the WAI-ARIA date picker
    dialog pattern); typing stays the first way in.

    Its placeholder shows the format with a date the person could mean: the field's ``example``
    (a birth date's is in the past) or, by default, today's date in Tehran — never a birth-date
    example in a box for an appointment or a power of attorney."""

    input_type = "text"

    def __init__(self, attrs=None):
        base = {"inputmode": "numeric", "dir": "ltr", "class": "jalali-date",
                "autocomplete": "off", "data-jdp": "", "data-jdp-only-date": ""}
        super().__init__({**base, **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        if not widget_attrs.get("placeholder"):
            widget_attrs["placeholder"] = jalali_date(timezone.localdate())
        return context

    def format_value(self, value):
        if value and not isinstance(value, str):
            return jalali_date(value)
        return value


class JalaliDateField(forms.Field):
    """A Jalali date typed as ``۱۳۶۵/۰۴/۱۲`` or ``1365/04/12``; cleans to a Gregorian ``date``."""

    widget = JalaliDateInput
    default_error_messages = {"required": "تاریخ را وارد کنید."}

    def __init__(self, *, example: str | None = None, **kwargs):
        """``example``: the placeholder (e.g. a birth date's ``۱۳۶۵/۰۴/۱۲``); today's date without one."""
        super().__init__(**kwargs)
        if example:
            self.widget.attrs["placeholder"] = example

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str):
            return value
        try:
            return parse_jalali_date(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None


class _NormalizedField(forms.CharField):
    normalizer = staticmethod(to_latin_digits)
    validator = None

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalizer(value) if value else value

    def validate(self, value):
        super().validate(value)
        if value and self.validator:
            self.validator(value)


class NationalCodeField(_NormalizedField):
    normalizer = staticmethod(validators.normalize_national_code)
    validator = staticmethod(validators.validate_national_code)


class LegalNationalIdField(_NormalizedField):
    normalizer = staticmethod(validators.normalize_legal_national_id)
    validator = staticmethod(validators.validate_legal_national_id)


class MobileField(_NormalizedField):
    normalizer = staticmethod(validators.normalize_mobile)
    validator = staticmethod(validators.validate_mobile)


class PostalCodeField(_NormalizedField):
    normalizer = staticmethod(validators.normalize_postal_code)
    validator = staticmethod(validators.validate_postal_code)


class LandlineField(_NormalizedField):
    normalizer = staticmethod(validators.normalize_landline)
    validator = staticmethod(validators.validate_landline)


class DigitsField(_NormalizedField):
    """Digits only (e.g. a birth-certificate number), Persian digits accepted."""

    def validate(self, value):
        super().validate(value)
        if value and not value.isdigit():
            raise ValidationError("فقط رقم وارد کنید.", code="digits")
