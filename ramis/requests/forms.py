"""Forms validate what the applicant typed; the services save it (STYLE 6)."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError

from ramis.ca import profiles
from ramis.common.digits import to_latin_digits
from ramis.common.uploads import validate_upload
from ramis.offices.models import RegistrationOffice, TokenModel

from .models import CertificateRequest, CertificateType, RevocationReason, ServiceType, TokenChoice

_LATIN = re.compile(r"^[A-Za-z][A-Za-z .'\-]*$")


def _latin(value: str) -> str:
    value = " ".join(value.split())
    if value and not _LATIN.match(value):
        raise ValidationError("فقط حروف لاتین (A تا Z)، فاصله، نقطه و خط تیره.")
    return value


class DetailsForm(forms.ModelForm):
    """The certificate's details: a page for the signature certificate, another for the seal (R6)."""

    class Meta:
        model = CertificateRequest
        fields = ["validity_years", "email", "latin_first_name", "latin_last_name", "latin_company_name",
                  "organizational_unit"]
        widgets = {name: forms.TextInput(attrs={"dir": "ltr"}) for name in
                   ["latin_first_name", "latin_last_name", "latin_company_name", "organizational_unit"]}

    def __init__(self, *args, cert_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].widget.attrs["dir"] = "ltr"
        self.fields["email"].help_text = (
            ("رایانامه سازمان" if cert_type == CertificateType.SEAL else "رایانامه شما")
            + " در گواهی درج می‌شود؛ پس از ذخیره، کدی به آن فرستاده می‌شود تا آن را تأیید کنید.")
        self._profile = profiles.get_profile(cert_type)
        self.fields["validity_years"].help_text = "مدت اعتبار معمول دو سال است؛ یک سال فقط در موارد خاص."
        if cert_type == CertificateType.SIGNATURE:
            for name in ("latin_company_name", "organizational_unit"):
                del self.fields[name]
            self.fields["latin_first_name"].required = True
            self.fields["latin_last_name"].required = True
        else:
            for name in ("latin_first_name", "latin_last_name"):
                del self.fields[name]
            self.fields["latin_company_name"].required = True

    def clean_email(self):
        """What the CA accepts in a certificate's subjectAltName: an address in Latin letters (an IDN
        domain in its xn-- form)."""
        value = self.cleaned_data["email"].strip()
        try:
            profiles.subject_email(self._profile, {"email": value})
        except profiles.SubjectError:
            raise ValidationError("نشانی رایانامه باید با حروف لاتین باشد (مانند name@example.ir)؛ "
                                  "این نشانی در گواهی پذیرفته نمی‌شود.") from None
        return value

    def clean_latin_first_name(self):
        return _latin(self.cleaned_data["latin_first_name"])

    def clean_latin_last_name(self):
        return _latin(self.cleaned_data["latin_last_name"])

    def clean_latin_company_name(self):
        return _latin(self.cleaned_data["latin_company_name"])


class OfficeForm(forms.ModelForm):
    """Office and service type (R7); a renewal's office is fixed (R15)."""

    class Meta:
        model = CertificateRequest
        fields = ["office", "service_type", "on_site_address"]
        widgets = {"service_type": forms.RadioSelect, "on_site_address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, office_fixed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = RegistrationOffice.objects.active()
        self.fields["office"].required = True
        self.fields["service_type"].required = True
        self.fields["service_type"].choices = ServiceType.choices
        self.fields["on_site_address"].help_text = "فقط برای خدمت در محل: نشانی شرکت برای مراجعه کارشناس دفتر."
        if office_fixed:
            self.fields["office"].disabled = True
            self.fields["office"].help_text = "تمدید باید در همان دفتری انجام شود که گواهی را صادر کرده است."

    def clean(self):
        data = super().clean()
        office, service = data.get("office"), data.get("service_type")
        if office and service == ServiceType.ON_SITE and not office.offers_on_site:
            self.add_error("service_type", "این دفتر خدمت در محل ارائه نمی‌دهد.")
        if office and service == ServiceType.IN_PERSON and not office.offers_in_person:
            self.add_error("service_type", "این دفتر خدمت حضوری ارائه نمی‌دهد.")
        if service == ServiceType.ON_SITE and not (data.get("on_site_address") or "").strip():
            self.add_error("on_site_address", "برای خدمت در محل نشانی را وارد کنید.")
        return data


class TokenModelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TokenModel) -> str:
        from ramis.common.templatetags.jalali import rials

        return f"{obj.name} — {rials(obj.price_rials)} ریال"


class TokenForm(forms.ModelForm):
    """Reuse the token one has, or buy one from the catalogue (R8)."""

    token_model = TokenModelChoiceField(queryset=TokenModel.objects.filter(is_active=True), required=False,
                                        label="مدل توکن")

    class Meta:
        model = CertificateRequest
        fields = ["token_choice", "token_model"]
        widgets = {"token_choice": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token_choice"].required = True
        self.fields["token_choice"].choices = TokenChoice.choices

    def clean(self):
        data = super().clean()
        if data.get("token_choice") == TokenChoice.BUY and not data.get("token_model"):
            self.add_error("token_model", "مدل توکن را انتخاب کنید.")
        return data


class DocumentsForm(forms.Form):
    """One file input per required document; each file is checked by its content (X8)."""

    def __init__(self, *args, requirements, **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = list(requirements)
        for requirement in self.requirements:
            self.fields[f"doc_{requirement.pk}"] = forms.FileField(
                label=requirement.title, required=False, help_text=requirement.help_text,
                widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
            )

    def clean(self):
        data = super().clean()
        for name, upload in list(data.items()):
            if upload:
                try:
                    validate_upload(upload)
                except ValidationError as exc:
                    self.add_error(name, exc)
        return data

    def uploads(self):
        """``[(requirement, file), ...]`` for the files given."""
        return [(r, self.cleaned_data[f"doc_{r.pk}"]) for r in self.requirements if self.cleaned_data.get(f"doc_{r.pk}")]


class SlotForm(forms.Form):
    slot = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, free: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.free = {start.isoformat(): remaining for slots in free.values() for start, remaining in slots}

    def clean_slot(self):
        value = self.cleaned_data["slot"]
        if value not in self.free:
            raise ValidationError("این زمان جزو نوبت‌های قابل انتخاب نیست.")
        if self.free[value] <= 0:
            raise ValidationError("این نوبت پر شده است؛ نوبت دیگری انتخاب کنید.")
        return dt.datetime.fromisoformat(value)


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label="دلیل ابطال", widget=forms.RadioSelect)
    note = forms.CharField(label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label="می‌دانم که گواهی ابطال‌شده دیگر قابل استفاده نیست و برگشت‌پذیر نیست.")

    def __init__(self, *args, allowed: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [(r.value, r.label) for r in RevocationReason if r.value in allowed]



class EmailCodeForm(forms.Form):
    """The code e-mailed to the request's address."""

    code = forms.CharField(label="کد ارسال‌شده به رایانامه", max_length=12,
                           widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric",
                                                         "autocomplete": "one-time-code"}))

    def clean_code(self):
        code = to_latin_digits(self.cleaned_data["code"]).strip()
        if not re.fullmatch(r"\d{6}", code):
            raise ValidationError("کد شش رقم است.")
        return code
