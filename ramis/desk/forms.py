"""The desk's forms: they validate and hand the view clean values; the services do the rest."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from ramis.common.digits import to_latin_digits
from ramis.common.forms import JalaliDateField, NationalCodeField
from ramis.common.jalali import TEHRAN
from ramis.common.uploads import validate_upload
from ramis.requests.models import RevocationReason, TokenChoice

from .errors import NOT_FOR_HOLDERS
from .models import IdentityCheck


class SearchForm(forms.Form):
    q = forms.CharField(label="جستجو", required=False, max_length=100, widget=forms.TextInput(attrs={
        "placeholder": "کد ملی، نام، نام شرکت یا شماره درخواست (RQ-000012)", "type": "search"}))


class ReturnForm(forms.Form):
    """A note per item of the request (``details``, ``office``, ``token``, ``doc:<code>``)."""

    reason = forms.CharField(label="توضیح کلی (اختیاری)", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, items: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for key, label in items:
            self.fields[self.field_name(key)] = forms.CharField(
                label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @staticmethod
    def field_name(item: str) -> str:
        return "note_" + item.replace(":", "__")

    def notes(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(self.field_name(key), "") for key, _label in self.items}

    def clean(self):
        data = super().clean()
        if not any((data.get(self.field_name(key)) or "").strip() for key, _ in self.items):
            raise ValidationError("دست‌کم برای یک مورد توضیح اصلاح بنویسید.")
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(label="دلیل رد درخواست", widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    """The office cancels a request before issuance: why (the applicant reads it), and a confirmation."""

    reason = forms.CharField(label="دلیل لغو درخواست", max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "دلیل لغو درخواست را بنویسید."})
    confirm = forms.BooleanField(
        label="لغو قطعی است و بازگشت ندارد؛ اگر هزینه پرداخت شده باشد بازپرداخت آن ثبت و نوبت آزاد می‌شود. تأیید می‌کنم.",
        error_messages={"required": "لغو درخواست را تأیید کنید."})


class TimeField(forms.CharField):
    """``14:30`` (Persian or Latin digits)."""

    def to_python(self, value):
        value = to_latin_digits(super().to_python(value) or "").strip()
        if not value:
            return None
        try:
            return dt.time.fromisoformat(value if len(value) > 4 else value.zfill(5))
        except ValueError:
            raise ValidationError("ساعت را به شکل ۱۰:۳۰ وارد کنید.") from None


class VisitForm(forms.Form):
    """On-site visit (R12): date, time, address, which of the office's clerks goes."""

    date = JalaliDateField(label="تاریخ مراجعه")
    time = TimeField(label="ساعت", widget=forms.TextInput(attrs={"dir": "ltr", "placeholder": "10:30"}))
    address = forms.CharField(label="نشانی", widget=forms.Textarea(attrs={"rows": 2}))
    assigned_to = forms.ModelChoiceField(label="کارشناس اعزامی", queryset=None, empty_label=None)

    def __init__(self, *args, clerks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = clerks
        self.fields["assigned_to"].label_from_instance = lambda u: u.get_full_name() or u.username

    def starts_at(self) -> dt.datetime:
        local = dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"], tzinfo=TEHRAN)
        return local.astimezone(dt.UTC)


class IdentityCheckForm(forms.Form):
    """What the clerk saw (R13, R14, R21); the service decides whether it is enough."""

    national_card_seen = forms.BooleanField(label="اصل کارت ملی هوشمند دیده شد", required=False)
    second_document = forms.ChoiceField(
        label="مدرک دوم (اصل)", required=False, widget=forms.RadioSelect,
        choices=[("", "دیده نشد"), *IdentityCheck.SecondDocument.choices],
    )
    photo_matches = forms.BooleanField(label="چهره فرد حاضر با عکس مدارک مطابقت دارد", required=False)
    presenter = forms.ChoiceField(label="چه کسی حاضر است؟", choices=IdentityCheck.Presenter.choices,
                                  widget=forms.RadioSelect)
    attorney_name = forms.CharField(label="نام و نام خانوادگی وکیل", required=False, max_length=200)
    attorney_national_code = NationalCodeField(label="کد ملی وکیل", required=False)
    power_kind = forms.ChoiceField(label="نوع وکالت‌نامه", required=False, widget=forms.RadioSelect,
                                   choices=IdentityCheck.PowerKind.choices)
    power_number = forms.CharField(label="شماره وکالت‌نامه", required=False, max_length=50)
    power_date = JalaliDateField(label="تاریخ وکالت‌نامه", required=False)
    power_notary = forms.CharField(label="دفترخانه اسناد رسمی (شماره و شهر)", required=False, max_length=100)
    power_file = forms.FileField(label="تصویر وکالت‌نامه (PDF، JPEG یا PNG)", required=False)
    note = forms.CharField(label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    ATTORNEY_FIELDS = ("attorney_name", "attorney_national_code", "power_kind", "power_number", "power_date",
                       "power_notary", "power_file")

    @property
    def person_fields(self):
        return [self[name] for name in self.fields if name not in self.ATTORNEY_FIELDS and name != "note"]

    @property
    def attorney_fields(self):
        return [self[name] for name in self.ATTORNEY_FIELDS]

    @property
    def note_field(self):
        return [self["note"]]

    def clean_power_file(self):
        upload = self.cleaned_data.get("power_file")
        if upload:
            validate_upload(upload)
        return upload

    def clean(self):
        data = super().clean()
        if data.get("presenter") == IdentityCheck.Presenter.ATTORNEY:
            for name in ("attorney_name", "attorney_national_code", "power_kind"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "برای وکیل این مورد لازم است.")
            if data.get("power_kind") in IdentityCheck.ACCEPTED_POWERS:
                for name in ("power_number", "power_date", "power_file"):
                    if not data.get(name) and name not in self.errors:
                        self.add_error(name, "برای وکالت‌نامه محضری این مورد لازم است.")
            if data.get("power_date") and data["power_date"] > dt.date.today():
                self.add_error("power_date", "تاریخ وکالت‌نامه نمی‌تواند در آینده باشد.")
        return data


class IssueForm(forms.Form):
    """The applicant's token and PIN. The PIN is typed by the applicant on the clerk's screen and
    never stored or rendered back."""

    NEW = "__new__"
    WIPE = "wipe:"

    token = forms.ChoiceField(label="توکن متقاضی", widget=forms.RadioSelect)
    pin = forms.CharField(label="رمز (PIN) توکن — توسط متقاضی وارد شود", strip=False,
                          widget=forms.PasswordInput(attrs={"autocomplete": "off", "dir": "ltr"}))
    pin_again = forms.CharField(label="تکرار رمز (فقط برای توکن نو)", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "off", "dir": "ltr"}))
    so_pin = forms.CharField(label="رمز مدیر (SO PIN) فعلی توکن — فقط برای «پاک‌سازی و راه‌اندازی دوباره»",
                             required=False, strip=False,
                             help_text="رمز پیش‌فرض سازنده، از برگهٔ همراه توکن؛ پس از راه‌اندازی، رمز مدیر دفتر "
                                       "روی توکن گذاشته می‌شود.",
                             widget=forms.PasswordInput(attrs={"autocomplete": "off", "dir": "ltr"}))

    def __init__(self, *args, tokens, can_init: bool, token_choice: str = "", token_model=None,
                 system_tokens=(), **kwargs):
        """Only what fits the request (R8): a bought token is initialised here with the
        applicant's PIN (where the workstation's module can initialise one; a bought hardware
        token is otherwise initialised with its vendor's tool and then picked from the list);
        an applicant who brings their token has it picked from the list, never initialised (that
        would wipe it). ``system_tokens`` (the CAs', the TSA's, the audit anchor's among those
        listed) are never offered; one posted by hand, by serial or label, is refused by name."""
        super().__init__(*args, **kwargs)
        bought, reused = token_choice == TokenChoice.BUY, token_choice == TokenChoice.REUSE
        choices = []
        described = [(t.serial, f"{t.label} — {t.manufacturer} {t.model} — سریال {t.serial}") for t in tokens]
        if not (bought and can_init):
            choices += described
        if can_init and not reused:
            model = f" ({token_model.name})" if bought and token_model else ""
            choices.append((self.NEW, f"توکن نو{model}: راه‌اندازی با رمز تازهٔ متقاضی"))
        if bought and can_init:
            # a bought token its vendor already initialised: wiped, with its current SO PIN
            choices += [(self.WIPE + serial, f"پاک‌سازی و راه‌اندازی دوباره: {text}") for serial, text in described]
        else:
            del self.fields["so_pin"]
        self.fields["token"].choices = choices
        if bought and can_init:
            self.fields["token"].error_messages["invalid_choice"] = (
                "متقاضی در درخواست خود توکن نو خریده است؛ «توکن نو» را انتخاب کنید تا با رمز او راه‌اندازی شود.")
        elif reused:
            self.fields["token"].error_messages["invalid_choice"] = (
                "متقاضی توکن فعلی خود را به کار می‌برد؛ توکن او را از فهرست انتخاب کنید "
                "(راه‌اندازی توکن نو همه‌چیز روی آن را پاک می‌کند).")
        system = {value for t in system_tokens for value in (t.serial, t.label)}
        if str(self.data.get(self.add_prefix("token"), "")).removeprefix(self.WIPE) in system:
            # never a choice; posted by hand, the clerk reads why rather than "not a choice"
            self.fields["token"].error_messages["invalid_choice"] = NOT_FOR_HOLDERS

    @property
    def new_token(self) -> bool:
        return self.cleaned_data.get("token") == self.NEW

    @property
    def reinit_serial(self) -> str:
        """The vendor-initialised token to wipe and re-initialise ("" for none)."""
        return self.cleaned_data.get("token", "").removeprefix(self.WIPE) if self._wipes() else ""

    def _wipes(self) -> bool:
        return str(self.cleaned_data.get("token", "")).startswith(self.WIPE)

    def clean(self):
        data = super().clean()
        pin = data.get("pin") or ""
        if self._wipes() and not data.get("so_pin"):
            self.add_error("so_pin", "برای پاک‌سازی و راه‌اندازی دوبارهٔ توکن، رمز مدیر (SO PIN) فعلی آن را وارد کنید.")
        if data.get("token") == self.NEW or self._wipes():
            if len(pin) < settings.OFFICE_TOKEN_PIN_MIN_LENGTH:
                self.add_error("pin", f"رمز توکن نو دست‌کم {settings.OFFICE_TOKEN_PIN_MIN_LENGTH} نویسه باشد.")
            elif pin != data.get("pin_again"):
                self.add_error("pin_again", "تکرار رمز با رمز یکی نیست.")
        return data


class OfficeRevokeForm(forms.Form):
    reason = forms.ChoiceField(label="دلیل ابطال", choices=RevocationReason.choices)
    note = forms.CharField(label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    form_file = forms.FileField(label="فرم ابطال امضاشده توسط دارنده (PDF، JPEG یا PNG)")
    confirm = forms.BooleanField(label="ابطال قطعی است و بازگشت ندارد؛ تأیید می‌کنم.")

    def clean_form_file(self):
        upload = self.cleaned_data["form_file"]
        validate_upload(upload)
        return upload


class HandoverForm(forms.Form):
    sheet = forms.FileField(label="تصویر برگه تحویل امضاشده (اختیاری؛ PDF، JPEG یا PNG)", required=False)

    def clean_sheet(self):
        upload = self.cleaned_data["sheet"]
        if upload:
            validate_upload(upload)
        return upload or None


class RevocationRejectForm(forms.Form):
    reason = forms.CharField(label="دلیل رد درخواست ابطال", widget=forms.Textarea(attrs={"rows": 2}))
