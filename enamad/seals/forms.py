"""The seals room's forms: the code e-mailed to info@ the domain (N22) and renewal (N18)."""

from __future__ import annotations

from django import forms

from ramis.common.forms import DigitsField, LandlineField, PostalCodeField


class DomainCodeForm(forms.Form):
    """N22: the code e-mailed to info@ the business's domain."""

    code = DigitsField(label="کد ارسال‌شده به رایانامه", max_length=6, min_length=6)


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
