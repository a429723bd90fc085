"""The businesses room's forms: the file's details, services, survey, contact checks, the
expert's review and the staff's reasons, and the signed commitment letter's upload."""

from __future__ import annotations

from django import forms

from ramis.common.forms import DigitsField, LandlineField, PostalCodeField
from ramis.common.uploads import validate_upload

from .domains import normalize_domain
from .models import ActivityType, ChecklistItem, ServiceCategory, SurveyResponse


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


class SignedLetterForm(forms.Form):
    file = forms.FileField(label="تعهدنامه امضاشده (PDF)",
                           help_text="همان فایلی که از این صفحه دریافت کردید، با امضای PAdES و مهر زمانی رمیس.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload(upload, kinds=("pdf",))
        return upload
