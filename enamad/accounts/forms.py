"""The accounts room's forms: sign-up, login, profile, identity documents, getting back in, and
the development operator. Forms validate; the services do the writing (STYLE 6)."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import ASCIIUsernameValidator

from certauth.models import User
from ramis.common.forms import (
    BIRTH_DATE_EXAMPLE,
    DigitsField,
    JalaliDateField,
    LandlineField,
    LegalNationalIdField,
    MobileField,
    NationalCodeField,
    PostalCodeField,
)
from ramis.common.uploads import validate_upload

from .models import Persona, PhoneChallenge

LEGAL_FIELDS = ("company_name", "legal_national_id", "registration_number")
GOVERNMENT_FIELDS = ("organisation_name", "letter_number")


class SignupForm(forms.Form):
    """N2: the fields change with the persona (the page shows/hides the groups; the server
    requires what the chosen persona needs)."""

    persona = forms.ChoiceField(label="نوع شخصیت", choices=Persona.choices, initial=Persona.NATURAL)
    first_name = forms.CharField(label="نام", max_length=100)
    last_name = forms.CharField(label="نام خانوادگی", max_length=100)
    national_code = NationalCodeField(label="کد ملی", max_length=14)
    mobile = MobileField(label="تلفن همراه", max_length=16)
    email = forms.EmailField(label="رایانامه", widget=forms.EmailInput(attrs={"dir": "ltr"}))
    company_name = forms.CharField(label="نام شرکت", max_length=200, required=False)
    legal_national_id = LegalNationalIdField(label="شناسه ملی شرکت", max_length=14, required=False)
    registration_number = DigitsField(label="شماره ثبت", max_length=20, required=False)
    organisation_name = forms.CharField(label="نام دستگاه دولتی", max_length=200, required=False)
    letter_number = forms.CharField(label="شماره نامه معرفی", max_length=50, required=False)
    username = forms.CharField(label="نام کاربری", max_length=150, validators=[ASCIIUsernameValidator()],
                               help_text="حروف و ارقام لاتین و . @ + - _",
                               widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "username"}))
    password1 = forms.CharField(label="گذرواژه", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "dir": "ltr"}),
                                help_text="دست‌کم ۱۰ نویسه، نه فقط عدد و نه شبیه نام کاربری.")
    password2 = forms.CharField(label="تکرار گذرواژه", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "dir": "ltr"}))
    captcha = CaptchaField(label="کد امنیتی", error_messages={"invalid": "کد امنیتی درست نیست."})

    common_fields = ("persona", "first_name", "last_name", "national_code", "mobile", "email")
    account_fields = ("username", "password1", "password2", "captcha")

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username.lower().startswith("nc-"):  # reserved for RAMIS applicants (certauth: nc-<national code>)
            raise forms.ValidationError("نام کاربری نباید با nc- شروع شود.")
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("این نام کاربری پیش‌تر ثبت شده است.")
        return username

    def clean(self):
        data = super().clean()
        persona = data.get("persona")
        required = {Persona.LEGAL: LEGAL_FIELDS, Persona.GOVERNMENT: GOVERNMENT_FIELDS}.get(persona, ())
        for name in required:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, "این فیلد برای نوع شخصیت انتخاب‌شده الزامی است.")
        for name in LEGAL_FIELDS + GOVERNMENT_FIELDS:
            if name not in required:
                data[name] = ""
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "دو گذرواژه یکسان نیستند.")
        elif p1:
            probe = User(username=data.get("username", ""), email=data.get("email", ""),
                         first_name=data.get("first_name", ""), last_name=data.get("last_name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginForm(forms.Form):
    username = forms.CharField(label="نام کاربری", max_length=150,
                               widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "username"}))
    password = forms.CharField(label="گذرواژه", strip=False,
                               widget=forms.PasswordInput(attrs={"dir": "ltr", "autocomplete": "current-password"}))


class ProfileForm(forms.Form):
    """N3: complete the profile; persona fields shown only for that persona."""

    first_name = forms.CharField(label="نام", max_length=100)
    last_name = forms.CharField(label="نام خانوادگی", max_length=100)
    father_name = forms.CharField(label="نام پدر", max_length=100)
    birth_date = JalaliDateField(label="تاریخ تولد", example=BIRTH_DATE_EXAMPLE)
    landline = LandlineField(label="تلفن ثابت (با پیش‌شماره شهر)", max_length=16)
    address = forms.CharField(label="نشانی", widget=forms.Textarea(attrs={"rows": 2}))
    postal_code = PostalCodeField(label="کد پستی", max_length=14)
    company_name = forms.CharField(label="نام شرکت", max_length=200)
    registration_number = DigitsField(label="شماره ثبت", max_length=20)
    organisation_name = forms.CharField(label="نام دستگاه دولتی", max_length=200)
    letter_number = forms.CharField(label="شماره نامه معرفی", max_length=50)

    def __init__(self, *args, persona: str, **kwargs):
        super().__init__(*args, **kwargs)
        keep = {Persona.LEGAL: LEGAL_FIELDS, Persona.GOVERNMENT: GOVERNMENT_FIELDS}.get(persona, ())
        for name in ("company_name", "registration_number", "organisation_name", "letter_number"):
            if name not in keep:
                del self.fields[name]


class DocumentForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput)
    file = forms.FileField(label="فایل (PDF، JPEG یا PNG)")

    def __init__(self, *args, allowed_kinds: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed_kinds = allowed_kinds

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind not in self.allowed_kinds:
            raise forms.ValidationError("این مدرک برای نوع شخصیت شما نیست.")
        return kind

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload(upload)
        return upload


class OperatorForm(forms.Form):
    """Development only: play the SMS operator / IVR and deliver an inbound message."""

    channel = forms.ChoiceField(label="کانال", choices=PhoneChallenge.Channel.choices)
    sender = forms.CharField(label="شماره فرستنده", max_length=16, widget=forms.TextInput(attrs={"dir": "ltr"}))
    text = forms.CharField(label="متن پیامک / ارقام واردشده", max_length=160, widget=forms.TextInput(attrs={"dir": "ltr"}))


# --- getting back into an account ----------------------------------------------------------


class PasswordResetRequestForm(auth_forms.PasswordResetForm):
    """Django's reset form, whose mail goes through our outbox (``enamad.accounts.recovery``)."""

    email = forms.EmailField(label="رایانامه حساب", max_length=254,
                             help_text="همان رایانامه‌ای که هنگام ثبت‌نام وارد کردید.",
                             widget=forms.EmailInput(attrs={"dir": "ltr", "autocomplete": "email"}))

    def save(self, *, request=None, **kwargs):
        from ramis.common.context import audit_context

        from . import recovery

        return recovery.password_reset_request(email=self.cleaned_data["email"], ctx=audit_context(request))


class NewPasswordForm(auth_forms.SetPasswordForm):
    """Django's set-password form, with our labels (the validators are the project's)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "گذرواژه تازه"
        self.fields["new_password1"].help_text = "دست‌کم ۱۰ نویسه، نه فقط عدد و نه شبیه نام کاربری."
        self.fields["new_password2"].label = "تکرار گذرواژه تازه"
        self.fields["new_password2"].help_text = "همان گذرواژه تازه را دوباره بنویسید."
        for field in self.fields.values():
            field.widget.attrs.update({"dir": "ltr", "autocomplete": "new-password"})


class ResendActivationForm(forms.Form):
    identifier = forms.CharField(label="نام کاربری یا رایانامه", max_length=254,
                                 widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "username"}))
