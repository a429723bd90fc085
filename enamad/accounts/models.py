"""e-Namad accounts: the person behind a shop, their identity documents and phone checks (N2–N5).

Every status change goes through ``enamad.accounts.services``; methods here only read or set this row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ramis.common.uploads import private_upload_to

# --- Accounts (N2–N5) -------------------------------------------------------------------------


class Persona(models.TextChoices):
    NATURAL = "natural", "شخص حقیقی - تبعه ایران"
    LEGAL = "legal", "شخص حقوقی"
    GOVERNMENT = "government", "دستگاه دولتی"


class DocumentKind(models.TextChoices):
    NATIONAL_CARD = "national_card", "تصویر کارت ملی"
    BIRTH_CERTIFICATE = "birth_certificate", "تصویر صفحه اول شناسنامه"
    PERSONNEL_PHOTO = "personnel_photo", "عکس پرسنلی"
    MILITARY_CARD = "military_card", "تصویر کارت پایان خدمت"
    GAZETTE = "gazette", "آگهی روزنامه رسمی"
    ARTICLES = "articles", "اساسنامه"
    CHANGE_ADDRESS = "change_address", "آگهی آخرین تغییرات آدرس"
    CHANGE_BOARD = "change_board", "آگهی آخرین تغییرات اعضای هیئت مدیره"
    CHANGE_ACTIVITY = "change_activity", "آگهی آخرین تغییرات موضوع فعالیت"
    COMMITMENT = "commitment", "تعهدنامه شخصیت حقوقی"
    LICENCE = "licence", "تصویر پروانه/مجوز فعالیت"
    GOVERNMENT_LETTER = "government_letter", "نامه رسمی در سربرگ دستگاه با امضای مقام مسئول"


# N4: what each persona must upload, and what it may.
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    Persona.NATURAL: (DocumentKind.NATIONAL_CARD, DocumentKind.BIRTH_CERTIFICATE),
    Persona.LEGAL: (DocumentKind.NATIONAL_CARD, DocumentKind.BIRTH_CERTIFICATE, DocumentKind.GAZETTE,
                    DocumentKind.ARTICLES),
    Persona.GOVERNMENT: (DocumentKind.NATIONAL_CARD, DocumentKind.GOVERNMENT_LETTER),
}
OPTIONAL_DOCUMENTS: dict[str, tuple[str, ...]] = {
    Persona.NATURAL: (DocumentKind.PERSONNEL_PHOTO, DocumentKind.MILITARY_CARD),
    Persona.LEGAL: (DocumentKind.PERSONNEL_PHOTO, DocumentKind.CHANGE_ADDRESS, DocumentKind.CHANGE_BOARD,
                    DocumentKind.CHANGE_ACTIVITY, DocumentKind.COMMITMENT, DocumentKind.LICENCE),
    Persona.GOVERNMENT: (DocumentKind.BIRTH_CERTIFICATE, DocumentKind.PERSONNEL_PHOTO),
}


class Account(models.Model):
    """An e-Namad applicant: a ``certauth.User`` (username + password) with its persona."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enamad_account")
    persona = models.CharField("نوع شخصیت", max_length=12, choices=Persona.choices)
    first_name = models.CharField("نام", max_length=100)
    last_name = models.CharField("نام خانوادگی", max_length=100)
    national_code = models.CharField("کد ملی", max_length=10, db_index=True)
    mobile = models.CharField("تلفن همراه", max_length=11)
    # Legal persons
    company_name = models.CharField("نام شرکت", max_length=200, blank=True)
    legal_national_id = models.CharField("شناسه ملی", max_length=11, blank=True)
    registration_number = models.CharField("شماره ثبت", max_length=20, blank=True)
    # Government bodies
    organisation_name = models.CharField("نام دستگاه", max_length=200, blank=True)
    letter_number = models.CharField("شماره نامه معرفی", max_length=50, blank=True)
    # Profile completion (N3)
    father_name = models.CharField("نام پدر", max_length=100, blank=True)
    birth_date = models.DateField("تاریخ تولد", null=True, blank=True)
    landline = models.CharField("تلفن ثابت", max_length=11, blank=True)
    address = models.TextField("نشانی", blank=True)
    postal_code = models.CharField("کد پستی", max_length=10, blank=True)
    profile_completed_at = models.DateTimeField(null=True, blank=True)
    mobile_verified_at = models.DateTimeField(null=True, blank=True)
    landline_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "حساب اینماد"
        verbose_name_plural = "حساب‌های اینماد"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.user.username})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        if self.persona == Persona.LEGAL and self.company_name:
            return self.company_name
        if self.persona == Persona.GOVERNMENT and self.organisation_name:
            return self.organisation_name
        return self.full_name

    def required_documents(self) -> tuple[str, ...]:
        return REQUIRED_DOCUMENTS[self.persona]

    def optional_documents(self) -> tuple[str, ...]:
        return OPTIONAL_DOCUMENTS[self.persona]

    def missing_documents(self, uploaded: set[str] | None = None) -> list[str]:
        if uploaded is None:
            uploaded = set(self.documents.values_list("kind", flat=True))
        return [kind for kind in self.required_documents() if kind not in uploaded]

    def identity_missing(self) -> list[str]:
        """What is still missing before the identity counts as verified, in words."""
        missing = []
        if self.profile_completed_at is None:
            missing.append("تکمیل اطلاعات")
        if self.missing_documents():
            missing.append("بارگذاری مدارک الزامی")
        if self.mobile_verified_at is None:
            missing.append("احراز تلفن همراه")
        if self.landline_verified_at is None:
            missing.append("احراز تلفن ثابت")
        return missing

    @property
    def identity_verified(self) -> bool:
        return not self.identity_missing()

    def identity_locked(self) -> bool:
        """Once a business has gone past draft/deficient (sent, reviewed, sealed …) the identity
        it was reviewed with is fixed: profile and documents change only by ticket (N20)."""
        return self.businesses.past_editing().exists()


class IdentityDocument(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("نوع مدرک", max_length=30, choices=DocumentKind.choices)
    file = models.FileField(upload_to=private_upload_to("enamad/identity"))
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "مدرک هویتی"
        verbose_name_plural = "مدارک هویتی"
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="enamad_one_document_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.account_id}"


class PhoneChallenge(models.Model):
    """A reverse-verification code (N5): the applicant sends ``code`` *from* ``phone`` to our
    number (SMS) or keys it into our IVR line; the gateway's callback proves control."""

    class Purpose(models.TextChoices):
        MOBILE = "mobile", "تلفن همراه"
        LANDLINE = "landline", "تلفن ثابت"
        BUSINESS_PHONE = "business_phone", "تلفن کسب‌وکار"

    class Channel(models.TextChoices):
        SMS = "sms", "پیامک معکوس"
        IVR = "ivr", "تماس با سامانه گویا"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="phone_challenges")
    business = models.ForeignKey("Business", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="phone_challenges")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    phone = models.CharField(max_length=11, db_index=True)
    code = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "کد احراز تلفن"
        verbose_name_plural = "کدهای احراز تلفن"

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.phone}"

    @property
    def is_live(self) -> bool:
        return self.verified_at is None and self.expires_at > timezone.now()
