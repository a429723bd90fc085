"""The support room's forms: tickets and change requests (N19, N20), the staff's notes, and RAMIS
applicants' tickets; with the several-files field the complaints room uses too."""

from __future__ import annotations

from django import forms

from enamad.accounts.models import Persona
from enamad.businesses.forms import BusinessForm
from ramis.common.forms import (
    BIRTH_DATE_EXAMPLE,
    DigitsField,
    JalaliDateField,
    LegalNationalIdField,
    NationalCodeField,
)
from ramis.common.uploads import validate_upload

from . import services as support_services
from .models import AttachmentKind, TicketCategory


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each content-checked (X8)."""

    def __init__(self, *args, max_files: int = 5, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True, "accept": ".pdf,.jpg,.jpeg,.png"}))
        self.max_files = max_files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = [d for d in (data if isinstance(data, (list, tuple)) else [data]) if d]
        if not items:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(items) > self.max_files:
            raise forms.ValidationError(f"حداکثر {self.max_files} فایل.", code="max_files")
        files = [forms.FileField.clean(self, item, initial) for item in items]
        for upload in files:
            validate_upload(upload)
        return files


def _document_field(kind: str, required: bool = True) -> forms.FileField:
    return forms.FileField(label=AttachmentKind(kind).label, required=required,
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))


class TicketForm(forms.Form):
    """N19: subject, message and attachments, all required. For a change request (N20) the form
    also asks for the new values (pre-filled with the current ones) and one file per document
    the change needs; it is handed the account (and business) it checks against."""

    subject = forms.CharField(label="موضوع", max_length=200)
    body = forms.CharField(label="متن پیام", widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="پیوست‌ها (PDF، JPEG یا PNG؛ حداکثر ۵ فایل)")

    def __init__(self, *args, category: str, account, business=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.category, self.account, self.business = category, account, business
        self.value_fields: list[str] = []
        self.document_kinds: list[str] = []
        if category == TicketCategory.PERSONA_CHANGE:
            self.target = support_services.persona_change_target(account)
            if self.target == Persona.LEGAL:
                self.fields["company_name"] = forms.CharField(label="نام شرکت", max_length=200)
                self.fields["legal_national_id"] = LegalNationalIdField(label="شناسه ملی شرکت", max_length=14)
                self.fields["registration_number"] = DigitsField(label="شماره ثبت", max_length=20)
                self.value_fields = list(support_services.COMPANY_FIELDS)
            self.document_kinds = list(support_services.change_required_attachments(category, account,
                                                                           {"persona": self.target}))
        elif category == TicketCategory.IDENTITY_CHANGE:
            self.fields["first_name"] = forms.CharField(label="نام", max_length=100, initial=account.first_name)
            self.fields["last_name"] = forms.CharField(label="نام خانوادگی", max_length=100, initial=account.last_name)
            self.fields["father_name"] = forms.CharField(label="نام پدر", max_length=100, required=False,
                                                         initial=account.father_name)
            self.fields["birth_date"] = JalaliDateField(label="تاریخ تولد", required=False, example=BIRTH_DATE_EXAMPLE,
                                                        initial=account.birth_date)
            self.fields["national_code"] = NationalCodeField(label="کد ملی", max_length=14,
                                                             initial=account.national_code)
            self.value_fields = list(support_services.PERSON_FIELDS)
            kinds = [AttachmentKind.NATIONAL_CARD, AttachmentKind.BIRTH_CERTIFICATE]
            if account.persona == Persona.LEGAL:
                self.fields["company_name"] = forms.CharField(label="نام شرکت", max_length=200,
                                                              initial=account.company_name)
                self.fields["legal_national_id"] = LegalNationalIdField(label="شناسه ملی شرکت", max_length=14,
                                                                        initial=account.legal_national_id)
                self.fields["registration_number"] = DigitsField(label="شماره ثبت", max_length=20,
                                                                 initial=account.registration_number)
                self.value_fields += list(support_services.COMPANY_FIELDS)
                kinds.append(AttachmentKind.GAZETTE)
            if account.persona == Persona.GOVERNMENT:
                self.fields["organisation_name"] = forms.CharField(label="نام دستگاه", max_length=200,
                                                                   initial=account.organisation_name)
                self.fields["letter_number"] = forms.CharField(label="شماره نامه معرفی", max_length=50,
                                                               initial=account.letter_number)
                self.value_fields += list(support_services.GOVERNMENT_ID_FIELDS)
                kinds.append(AttachmentKind.GOVERNMENT_LETTER)
            self.document_kinds = kinds
        elif category == TicketCategory.BUSINESS_CHANGE and business is not None:
            template = BusinessForm()
            for name in support_services.BUSINESS_CHANGE_FIELDS:
                field = template.fields[name]
                field.initial = getattr(business, name)
                self.fields[name] = field
            self.value_fields = list(support_services.BUSINESS_CHANGE_FIELDS)
            self.document_kinds = [AttachmentKind.SUPPORTING]
        is_identity = category == TicketCategory.IDENTITY_CHANGE
        for kind in self.document_kinds:
            # identity changes need only the documents of what changed: checked in clean()
            self.fields[f"doc_{kind}"] = _document_field(kind, required=not is_identity)
        if self.document_kinds:
            self.fields["attachments"].required = False
            self.fields["attachments"].label = "پیوست‌های دیگر (اختیاری)"
            self.fields["body"].label = "توضیح درخواست"

    def value_rows(self):
        return [self[name] for name in self.value_fields]

    def document_rows(self):
        return [self[f"doc_{kind}"] for kind in self.document_kinds]

    def clean(self):
        data = super().clean()
        for kind in self.document_kinds:
            name = f"doc_{kind}"
            if data.get(name):
                try:
                    validate_upload(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        change: dict = {}
        if self.category == TicketCategory.PERSONA_CHANGE:
            if self.target is None:
                raise forms.ValidationError("نوع شخصیت دستگاه دولتی با تیکت تغییر نمی‌کند.")
            change = {"persona": self.target, **{n: data.get(n, "") for n in self.value_fields}}
        elif self.value_fields:
            current = self.business if self.category == TicketCategory.BUSINESS_CHANGE else self.account
            for name in self.value_fields:
                value = data.get(name)
                if value in (None, "") or value == getattr(current, name):
                    continue
                change[name] = value.isoformat() if hasattr(value, "isoformat") else value
            if not change and not self.errors:
                raise forms.ValidationError("هیچ‌یک از اطلاعات تغییر نکرده است.")
            if self.category == TicketCategory.IDENTITY_CHANGE:
                for kind in support_services.change_required_attachments(self.category, self.account, change):
                    if not data.get(f"doc_{kind}") and f"doc_{kind}" not in self.errors:
                        self.add_error(f"doc_{kind}", f"برای این تغییر «{AttachmentKind(kind).label}» لازم است.")
        self.change_data = change
        return data

    def attachment_list(self) -> list[tuple[str, object]]:
        files = [(kind, self.cleaned_data[f"doc_{kind}"]) for kind in self.document_kinds
                 if self.cleaned_data.get(f"doc_{kind}")]
        return files + [(AttachmentKind.OTHER, f) for f in self.cleaned_data.get("attachments") or []]


class TicketReplyForm(forms.Form):
    body = forms.CharField(label="متن پیام", widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(label="پیوست (اختیاری)", required=False)

    def attachment_list(self):
        return [(AttachmentKind.OTHER, f) for f in self.cleaned_data.get("attachments") or []]


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ApplicantTicketForm(forms.Form):
    """A RAMIS applicant's ticket to e-Namad support (general or technical; attachments optional)."""

    category = forms.ChoiceField(label="دسته", choices=[
        ("general", "پرسش عمومی"), ("technical", "مشکل فنی")])
    subject = forms.CharField(label="موضوع", max_length=200)
    body = forms.CharField(label="متن پیام", widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="پیوست (اختیاری؛ PDF، JPEG یا PNG، حداکثر ۵ فایل)", required=False)

    def attachment_list(self):
        return [(AttachmentKind.OTHER, f) for f in self.cleaned_data.get("attachments") or []]
