from captcha.fields import CaptchaField
from django import forms

from ramis.common.forms import (
    BIRTH_DATE_EXAMPLE,
    DigitsField,
    JalaliDateField,
    MobileField,
    NationalCodeField,
)

from .lockouts import add_captcha


class IdentityForm(forms.Form):
    national_code = NationalCodeField(label="کد ملی", max_length=14)
    birth_date = JalaliDateField(label="تاریخ تولد", example=BIRTH_DATE_EXAMPLE)
    birth_certificate_number = DigitsField(label="شماره شناسنامه", max_length=12)
    mobile = MobileField(label="تلفن همراه", max_length=16)
    captcha = CaptchaField(label="کد امنیتی", error_messages={"invalid": "کد امنیتی درست نیست."})


class CodeForm(forms.Form):
    code = DigitsField(label="کد یک‌بارمصرف", max_length=6, min_length=6,
                       widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric",
                                                     "autocomplete": "one-time-code"}))


class StaffLoginForm(forms.Form):
    username = forms.CharField(label="نام کاربری", max_length=150)
    password = forms.CharField(label="گذرواژه", widget=forms.PasswordInput)
    otp_token = DigitsField(label="کد TOTP", max_length=6, min_length=6,
                            widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric",
                                                          "autocomplete": "one-time-code"}))

    def __init__(self, *args, captcha: bool = False, **kwargs):
        """``captcha``: the name has had many failures from all addresses together (a guesser
        with many addresses is slowed down, the owner is not locked out)."""
        super().__init__(*args, **kwargs)
        if captcha:
            add_captcha(self)
