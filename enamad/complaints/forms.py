"""The complaints room's forms: the buyer's complaint and its follow-up (N23), the holder's answer
and the staff's decision."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms

from enamad.support.forms import MultipleFileField
from ramis.common.forms import MobileField


class ComplaintForm(forms.Form):
    """N23: filed by anyone from a seal's page."""

    complaint_type = forms.ChoiceField(label="نوع شکایت", choices=())
    payment_reference = forms.CharField(label="شماره پیگیری پرداخت", max_length=40,
                                        widget=forms.TextInput(attrs={"dir": "ltr"}))
    description = forms.CharField(label="شرح شکایت", widget=forms.Textarea(attrs={"rows": 5}), min_length=20)
    attachments = MultipleFileField(label="پیوست (فاکتور، رسید پرداخت، تصویر کالا؛ اختیاری)", required=False)
    contact_name = forms.CharField(label="نام و نام خانوادگی", max_length=120)
    contact_mobile = MobileField(label="تلفن همراه (کد پیگیری و نتیجه به آن پیامک می‌شود)", max_length=16)
    contact_email = forms.EmailField(label="رایانامه (اختیاری)", required=False,
                                     widget=forms.EmailInput(attrs={"dir": "ltr"}))
    captcha = CaptchaField(label="کد امنیتی", error_messages={"invalid": "کد امنیتی درست نیست."})

    def __init__(self, *args, **kwargs):
        from .models import ComplaintType

        super().__init__(*args, **kwargs)
        self.fields["complaint_type"].choices = [("", "انتخاب کنید"), *ComplaintType.choices]

    def clean_payment_reference(self):
        from ramis.common.digits import to_latin_digits

        return to_latin_digits(self.cleaned_data["payment_reference"]).strip()


class ComplaintLookupForm(forms.Form):
    code = forms.CharField(label="کد پیگیری", max_length=14, widget=forms.TextInput(attrs={"dir": "ltr"}))
    mobile = MobileField(label="تلفن همراهی که با آن شکایت ثبت شد", max_length=16)

    def clean_code(self):
        from ramis.common.digits import to_latin_digits

        return to_latin_digits(self.cleaned_data["code"]).strip().upper()


class ComplaintAnswerForm(forms.Form):
    answer = forms.CharField(label="پاسخ شما به خریدار و کارشناس", widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="پیوست (اختیاری)", required=False)


class ComplaintDecisionForm(forms.Form):
    outcome = forms.ChoiceField(label="نتیجه", choices=[("upheld", "شکایت وارد است"), ("dismissed", "شکایت رد می‌شود")],
                                widget=forms.RadioSelect)
    note = forms.CharField(label="نظر کارشناس (برای خریدار و فروشنده)", widget=forms.Textarea(attrs={"rows": 3}))
    suspend_seal = forms.BooleanField(label="نماد فروشنده تعلیق شود", required=False)

    def clean(self):
        data = super().clean()
        if data.get("suspend_seal") and data.get("outcome") != "upheld":
            self.add_error("suspend_seal", "تعلیق نماد فقط با وارد دانستن شکایت ممکن است.")
        return data
