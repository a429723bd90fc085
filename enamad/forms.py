"""Forms validate and are handed what they check against; services do the writing (STYLE 6)."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import ASCIIUsernameValidator

from certauth.models import User
from ramis.common.forms import (
    DigitsField,
    JalaliDateField,
    LandlineField,
    LegalNationalIdField,
    MobileField,
    NationalCodeField,
    PostalCodeField,
)
from ramis.common.uploads import validate_upload

from .domains import normalize_domain
from .models import ActivityType, ChecklistItem, Persona, PhoneChallenge, ServiceCategory, SurveyResponse
from .support import services as support_services

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
    birth_date = JalaliDateField(label="تاریخ تولد")
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


class DomainField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"dir": "ltr", "placeholder": "shop.ir"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return normalize_domain(value) if value else value


class BusinessForm(forms.Form):
    """N6: add or edit a business."""

    domain = DomainField(label="دامنه", max_length=300,
                         help_text="دامنه ثبت‌شده، بدون http و مسیر (مانند shop.ir). نشانی IP پذیرفته نیست.")
    name = forms.CharField(label="نام کسب‌وکار", max_length=200)
    address = forms.CharField(label="نشانی (می‌تواند مسکونی باشد)", widget=forms.Textarea(attrs={"rows": 2}))
    postal_code = PostalCodeField(label="کد پستی", max_length=14)
    phone = LandlineField(label="تلفن ثابت با پیش‌شماره شهر", max_length=16)
    email = forms.EmailField(label="رایانامه کسب‌وکار", widget=forms.EmailInput(attrs={"dir": "ltr"}))
    answering_hours = forms.CharField(label="ساعات پاسخگویی", max_length=100, required=False,
                                      widget=forms.TextInput(attrs={"placeholder": "شنبه تا چهارشنبه ۹ تا ۱۷"}))


class ServicesForm(forms.Form):
    """N8: four required sections; the licence when the service needs one."""

    category = forms.ModelChoiceField(label="۱. نوع خدمت", queryset=ServiceCategory.objects.filter(active=True),
                                      empty_label="انتخاب کنید")
    offerings = forms.CharField(label="۲. کالاها و خدماتی که عرضه می‌شود", widget=forms.Textarea(attrs={"rows": 2}))
    delivery_methods = forms.CharField(label="۳. روش‌های ارسال و تحویل", widget=forms.Textarea(attrs={"rows": 2}))
    payment_methods = forms.CharField(label="۳. روش‌های پرداخت", widget=forms.Textarea(attrs={"rows": 2}))
    licence_reference = forms.CharField(label="۴. شماره و مرجع مجوز", max_length=200, required=False,
                                        help_text="برای خدماتی که به مجوز نیاز دارند الزامی است؛ در غیر این صورت «ندارد».")
    licence_file = forms.FileField(label="تصویر مجوز", required=False)

    def __init__(self, *args, has_licence_file: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_licence_file = has_licence_file

    def clean_licence_file(self):
        upload = self.cleaned_data.get("licence_file")
        if upload:
            validate_upload(upload)
        return upload

    def clean(self):
        data = super().clean()
        category = data.get("category")
        if category and category.requires_licence:
            if not data.get("licence_reference"):
                self.add_error("licence_reference", f"«{category.name}» به مجوز از {category.authority} نیاز دارد.")
            if not data.get("licence_file") and not self.has_licence_file:
                self.add_error("licence_file", f"تصویر مجوز {category.authority} را بارگذاری کنید.")
        return data


class SurveyForm(forms.ModelForm):
    class Meta:
        model = SurveyResponse
        fields = ["heard_from", "platform", "monthly_orders", "has_physical_store", "comments"]
        widgets = {"comments": forms.Textarea(attrs={"rows": 2}),
                   # text, not type=number: Persian digits must be typeable (X1)
                   "monthly_orders": forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr"})}


class ActivityForm(forms.Form):
    activity_type = forms.ChoiceField(label="نوع فعالیت", choices=ActivityType.choices)


class AddressCodeForm(forms.Form):
    code = DigitsField(label="کد درج‌شده در نامه پستی", max_length=8, min_length=8)


class DomainCodeForm(forms.Form):
    """N22: the code e-mailed to info@ the business's domain."""

    code = DigitsField(label="کد ارسال‌شده به رایانامه", max_length=6, min_length=6)


class RejectForm(forms.Form):
    reason = forms.CharField(label="دلیل", widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    """The expert's verdict per checklist item (N12): approved / not approved + explanation."""

    note = forms.CharField(label="یادداشت کلی برای متقاضی", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    ask_activity_change = forms.BooleanField(label="نوع فعالیت باید «صنفی» باشد (از متقاضی بخواه تغییر دهد)",
                                             required=False)

    def __init__(self, *args, items: list[ChecklistItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=item.title, choices=[("1", "تأیید"), ("0", "عدم تأیید")], widget=forms.RadioSelect)
            self.fields[f"explain_{item.pk}"] = forms.CharField(
                label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 1}))

    def rows(self):
        return [(item, self[f"item_{item.pk}"], self[f"explain_{item.pk}"]) for item in self.items]

    def clean(self):
        data = super().clean()
        for item in self.items:
            if data.get(f"item_{item.pk}") == "0" and not (data.get(f"explain_{item.pk}") or "").strip():
                self.add_error(f"explain_{item.pk}", "برای مورد تأییدنشده توضیح بنویسید.")
        return data

    def results(self) -> dict[int, tuple[bool, str]]:
        return {item.pk: (self.cleaned_data[f"item_{item.pk}"] == "1", self.cleaned_data[f"explain_{item.pk}"])
                for item in self.items}


class OperatorForm(forms.Form):
    """Development only: play the SMS operator / IVR and deliver an inbound message."""

    channel = forms.ChoiceField(label="کانال", choices=PhoneChallenge.Channel.choices)
    sender = forms.CharField(label="شماره فرستنده", max_length=16, widget=forms.TextInput(attrs={"dir": "ltr"}))
    text = forms.CharField(label="متن پیامک / ارقام واردشده", max_length=160, widget=forms.TextInput(attrs={"dir": "ltr"}))


# --- after the seal: tickets (N19, N20), complaints (N23), renewal ------------------------------


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
    from .models import AttachmentKind

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
        from .models import AttachmentKind, Persona, TicketCategory

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
            self.fields["birth_date"] = JalaliDateField(label="تاریخ تولد", required=False,
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
        from .models import AttachmentKind, TicketCategory

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
        from .models import AttachmentKind

        files = [(kind, self.cleaned_data[f"doc_{kind}"]) for kind in self.document_kinds
                 if self.cleaned_data.get(f"doc_{kind}")]
        return files + [(AttachmentKind.OTHER, f) for f in self.cleaned_data.get("attachments") or []]


class TicketReplyForm(forms.Form):
    body = forms.CharField(label="متن پیام", widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(label="پیوست (اختیاری)", required=False)

    def attachment_list(self):
        from .models import AttachmentKind

        return [(AttachmentKind.OTHER, f) for f in self.cleaned_data.get("attachments") or []]


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 2}))


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


class RenewalForm(forms.Form):
    """Renewal (N18): the file's details pre-filled; the owner confirms or corrects them."""

    name = forms.CharField(label="نام کسب‌وکار", max_length=200)
    address = forms.CharField(label="نشانی", widget=forms.Textarea(attrs={"rows": 2}))
    postal_code = PostalCodeField(label="کد پستی", max_length=14)
    phone = LandlineField(label="تلفن ثابت با پیش‌شماره شهر", max_length=16)
    email = forms.EmailField(label="رایانامه کسب‌وکار", widget=forms.EmailInput(attrs={"dir": "ltr"}))
    answering_hours = forms.CharField(label="ساعات پاسخگویی", max_length=100, required=False)
    offerings = forms.CharField(label="کالاها و خدماتی که عرضه می‌شود", widget=forms.Textarea(attrs={"rows": 2}))
    delivery_methods = forms.CharField(label="روش‌های ارسال و تحویل", widget=forms.Textarea(attrs={"rows": 2}))
    payment_methods = forms.CharField(label="روش‌های پرداخت", widget=forms.Textarea(attrs={"rows": 2}))
    licence_reference = forms.CharField(label="شماره و مرجع مجوز", max_length=200, required=False)
    confirm = forms.BooleanField(label="اطلاعات بالا درست و به‌روز است و با شرایط نماد موافقم.")

    business_fields = ("name", "address", "postal_code", "phone", "email", "answering_hours")
    service_fields = ("offerings", "delivery_methods", "payment_methods", "licence_reference")


# --- getting back into an account, and RAMIS applicants' tickets -------------------------------


class PasswordResetRequestForm(auth_forms.PasswordResetForm):
    """Django's reset form, whose mail goes through our outbox (``enamad.accounts.recovery``)."""

    email = forms.EmailField(label="رایانامه حساب", max_length=254,
                             help_text="همان رایانامه‌ای که هنگام ثبت‌نام وارد کردید.",
                             widget=forms.EmailInput(attrs={"dir": "ltr", "autocomplete": "email"}))

    def save(self, *, request=None, **kwargs):
        from ramis.common.context import audit_context

        from .accounts import recovery

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


class ApplicantTicketForm(forms.Form):
    """A RAMIS applicant's ticket to e-Namad support (general or technical; attachments optional)."""

    category = forms.ChoiceField(label="دسته", choices=[
        ("general", "پرسش عمومی"), ("technical", "مشکل فنی")])
    subject = forms.CharField(label="موضوع", max_length=200)
    body = forms.CharField(label="متن پیام", widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="پیوست (اختیاری؛ PDF، JPEG یا PNG، حداکثر ۵ فایل)", required=False)

    def attachment_list(self):
        from .models import AttachmentKind

        return [(AttachmentKind.OTHER, f) for f in self.cleaned_data.get("attachments") or []]
