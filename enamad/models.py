"""e-Namad: accounts and their identity checks, businesses and their review FSM, seals (N1–N18, N22).

Every status change goes through ``enamad.services`` (STYLE 1–2); the transition methods here
only set this row's fields.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from ramis.common.uploads import private_upload_to

CODE_ALPHABET = string.ascii_letters + string.digits


def random_code(length: int = 32) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def random_token() -> str:
    """The domain-control token: lower-case letters and digits, safe in a file name and a TXT record."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))


def random_reference() -> str:
    return "EN-" + "".join(secrets.choice(string.digits) for _ in range(10))


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
        return self.businesses.exclude(status__in=EDITABLE_STATES).exists()


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


# --- Catalogue data, editable in the admin ----------------------------------------------------


class ServiceCategory(models.Model):
    """A kind of service a site sells; some need a licence from a competent authority (N8)."""

    name = models.CharField("عنوان خدمت", max_length=200, unique=True)
    authority = models.CharField("مرجع صدور مجوز", max_length=200, blank=True)
    requires_licence = models.BooleanField("نیاز به مجوز", default=False)
    active = models.BooleanField("فعال", default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "خدمت"
        verbose_name_plural = "فهرست خدمات و مراجع صدور مجوز"

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    """One requirement the expert checks the site against (N11, N12)."""

    title = models.CharField("عنوان", max_length=200)
    description = models.TextField("توضیح", blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField("فعال", default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "مورد چک‌لیست"
        verbose_name_plural = "چک‌لیست الزامات"

    def __str__(self) -> str:
        return self.title


# --- Businesses (N6–N15) ----------------------------------------------------------------------


class BusinessStatus(models.TextChoices):
    DRAFT = "draft", "در حال تکمیل"
    UNDER_REVIEW = "under_review", "در حال بررسی"
    DEFICIENT = "deficient", "اعلام نقص"
    PHYSICAL_DOCUMENTS = "physical_documents", "بررسی مدارک فیزیکی"
    DOCUMENTS_REJECTED = "documents_rejected", "عدم تأیید مدارک فیزیکی"
    MANAGER_REVIEW = "manager_review", "در حال بررسی توسط مدیر"
    APPROVED = "approved", "تأیید نهایی"
    SUSPENDED = "suspended", "تعلیق"
    EXPIRED = "expired", "منقضی"
    REVOKED = "revoked", "ابطال"


class ActivityType(models.TextChoices):
    NON_GUILD = "non_guild", "غیرصنفی"
    GUILD = "guild", "صنفی"


class VerificationMethod(models.TextChoices):
    META = "meta", "برچسب meta در صفحه اول"
    FILE = "file", "فایل متنی در ریشه سایت"
    DNS = "dns", "رکورد TXT در DNS"
    TITLE = "title", "عنوان موقت صفحه اول"
    EMAIL = "email", "کد ارسالی به رایانامه info دامنه"


EDITABLE_STATES = (BusinessStatus.DRAFT, BusinessStatus.DEFICIENT)
# While a renewal is reviewed the seal keeps vouching until its old expiry date.
# The details a renewal may correct (N18); shown on the public seal page, so a correction waits
# for final approval in ``Business.pending_changes`` like a change by ticket waits for staff (N20).
RENEWAL_FIELDS = ("name", "address", "postal_code", "phone", "email", "answering_hours")
# Which verification (N10) a change of each contact undoes.
CONTACT_VERIFICATION = {"email": "email_verified_at", "phone": "phone_verified_at",
                        "address": "address_verified_at", "postal_code": "address_verified_at"}
# The services and licence (N8) a renewal may correct; they wait in ``pending_changes["service"]``
# (the category as its id, a new licence image as its stored name) until final approval.
RENEWAL_SERVICE_FIELDS = ("category", "offerings", "delivery_methods", "payment_methods", "licence_reference",
                          "licence_file")
SERVICE_LABELS = {"category": "نوع خدمت", "offerings": "کالاها و خدمات", "delivery_methods": "روش‌های ارسال",
                  "payment_methods": "روش‌های پرداخت", "licence_reference": "شماره و مرجع مجوز",
                  "licence_file": "تصویر مجوز"}
RENEWAL_REVIEW_STATES = (BusinessStatus.UNDER_REVIEW, BusinessStatus.DEFICIENT, BusinessStatus.PHYSICAL_DOCUMENTS,
                         BusinessStatus.DOCUMENTS_REJECTED, BusinessStatus.MANAGER_REVIEW)


def seal_vouches(*, status: str, renewing: bool, expires_at, now=None) -> bool:
    """The one definition of "this seal is in force" (N17, N18): within its year, and approved,
    or approved before and now in the review of its renewal."""
    now = now or timezone.now()
    if expires_at is None or expires_at <= now:
        return False
    return status == BusinessStatus.APPROVED or (renewing and status in RENEWAL_REVIEW_STATES)


def seal_in_force_q(prefix: str, now) -> Q:
    """``seal_vouches`` as a filter; ``prefix`` leads from the queried model to the business
    (``"business__"`` from a seal, ``""`` from a business)."""
    expiry = "seal__expires_at__gt" if not prefix else "expires_at__gt"
    return Q(**{expiry: now}) & (
        Q(**{f"{prefix}status": BusinessStatus.APPROVED})
        | Q(**{f"{prefix}renewing": True, f"{prefix}status__in": RENEWAL_REVIEW_STATES})
    )


def _can_suspend(instance, user) -> bool:
    """Managers suspend seals; so do experts who handle complaints (N23)."""
    return user.has_perm("enamad.approve_business") or user.has_perm("enamad.handle_complaint")


def _can_judge_renewal(instance, user) -> bool:
    """The expert who reviews the site and the manager who approves decide on a renewal."""
    return user.has_perm("enamad.review_business") or user.has_perm("enamad.approve_business")


def _renewing(business: Business) -> bool:
    return business.renewing


def _seal_vouches(business: Business) -> bool:
    """The seal is suspended only while it vouches: approved, or approved before and now in the
    review of its renewal (the expiry date is the monitor's and the expiry task's to check)."""
    return business.status == BusinessStatus.APPROVED or (business.renewing
                                                          and business.status in RENEWAL_REVIEW_STATES)


def _ready_to_send(business: Business) -> bool:
    return not business.missing_for_send()


def _all_contacts_verified(business: Business) -> bool:
    return business.contacts_verified_count == 3


class BusinessQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> BusinessQuerySet:
        return self.filter(account=account)

    def holding_seal(self) -> BusinessQuerySet:
        return self.filter(seal_in_force_q("", timezone.now()))


class Business(FSMModelMixin, models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="businesses")
    domain = models.CharField("دامنه", max_length=253, db_index=True)
    name = models.CharField("نام کسب‌وکار", max_length=200)
    activity_type = models.CharField("نوع فعالیت", max_length=10, choices=ActivityType.choices,
                                     default=ActivityType.NON_GUILD)
    activity_change_requested = models.BooleanField("کارشناس تغییر نوع فعالیت را خواسته است", default=False)
    address = models.TextField("نشانی")
    postal_code = models.CharField("کد پستی", max_length=10)
    phone = models.CharField("تلفن ثابت", max_length=11)
    email = models.EmailField("رایانامه")
    answering_hours = models.CharField("ساعات پاسخگویی", max_length=100, blank=True)
    status = FSMField("وضعیت", max_length=20, choices=BusinessStatus.choices, default=BusinessStatus.DRAFT,
                      protected=True, db_index=True)
    reference = models.CharField("شماره پرونده", max_length=20, unique=True, default=random_reference)
    # Technical verification (N7)
    verification_token = models.CharField(max_length=32, unique=True, default=random_token)
    domain_verified_at = models.DateTimeField(null=True, blank=True)
    domain_verified_method = models.CharField(max_length=5, choices=VerificationMethod.choices, blank=True)
    domain_checked_at = models.DateTimeField(null=True, blank=True)
    domain_check_error = models.TextField(blank=True)
    domain_check_requested_at = models.DateTimeField(null=True, blank=True)
    # When the domain was entered or last changed: the periodic check looks at recent ones (N7).
    domain_changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    tls_valid = models.BooleanField("گواهی TLS معتبر", default=False)
    tls_checked_at = models.DateTimeField(null=True, blank=True)
    # Business contact verification (N10)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    address_verified_at = models.DateTimeField(null=True, blank=True)
    address_code_hash = models.CharField(max_length=64, blank=True)
    address_code_sent_at = models.DateTimeField(null=True, blank=True)
    address_code_failures = models.PositiveSmallIntegerField(default=0)
    survey_done_at = models.DateTimeField(null=True, blank=True)
    # Review bookkeeping
    sent_at = models.DateTimeField(null=True, blank=True)
    documents_received_at = models.DateTimeField(null=True, blank=True)
    last_reason = models.TextField("آخرین توضیح کارشناس", blank=True)
    status_changed_at = models.DateTimeField("آخرین تغییر وضعیت", null=True, blank=True)
    # A renewal under review: the seal keeps vouching until its old expiry date (N18).
    renewing = models.BooleanField("در حال تمدید", default=False)
    # The renewal's corrections, applied only at final approval: {"values": {field: new value},
    # "kept": {verification field: ISO time}, "service": {service field: new value}} — "kept"
    # holds the verifications of the values in force, put back if the renewal ends without
    # approval; "service" the corrected services and licence (RENEWAL_SERVICE_FIELDS).
    pending_changes = models.JSONField("تغییرات درخواستی تمدید", default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BusinessQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "کسب‌وکار"
        verbose_name_plural = "کسب‌وکارها"
        permissions = [
            ("review_business", "بررسی وب‌سایت بر اساس چک‌لیست (کارشناس)"),
            ("review_documents", "بررسی مدارک فیزیکی"),
            ("approve_business", "تأیید نهایی و تعلیق/ابطال نماد (مدیر)"),
        ]
        constraints = [
            # One domain, one live claim: once someone has proved control of a domain, nobody
            # else can prove it for another business until that one is revoked.
            models.UniqueConstraint(
                fields=["domain"], condition=Q(domain_verified_at__isnull=False) & ~Q(status="revoked"),
                name="enamad_one_verified_claim_per_domain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})"

    # --- derived facts ---------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATES

    @property
    def contacts_verified_count(self) -> int:
        return sum(1 for value in (self.email_verified_at, self.phone_verified_at, self.address_verified_at) if value)

    def services_complete(self) -> bool:
        service = getattr(self, "service", None)
        return bool(service and service.is_complete)

    def missing_for_send(self) -> list[str]:
        """What must still be done before the file can go to the expert (N5–N11), in words."""
        missing = [f"احراز هویت: {item}" for item in self.account.identity_missing()]
        if self.domain_verified_at is None:
            missing.append("تأییدیه فنی دامنه")
        if not self.services_complete():
            missing.append("فهرست خدمات و مجوزها")
        if self.survey_done_at is None:
            missing.append("فرم نظرسنجی")
        if self.contacts_verified_count == 0:
            missing.append("احراز دست‌کم یکی از اطلاعات کسب‌وکار (رایانامه، تلفن یا نشانی)")
        return missing

    def requested(self, name: str):
        """The value of a detail once the pending renewal is approved (the value in force if
        the renewal does not change it)."""
        return self.pending_changes.get("values", {}).get(name, getattr(self, name))

    @property
    def requested_details(self) -> dict:
        return {name: self.requested(name) for name in RENEWAL_FIELDS}

    def set_pending(self, **parts) -> None:
        """Replace parts of ``pending_changes`` ("values", "kept", "service"); empty parts go."""
        merged = {**self.pending_changes, **parts}
        self.pending_changes = {part: value for part, value in merged.items() if value}

    def service_in_force(self) -> dict:
        """The services and licence on file, as ``pending_changes["service"]`` stores them."""
        service = BusinessService.objects.filter(business_id=self.pk).first() if self.pk else None
        if service is None:
            return {}
        return {"category": service.category_id, "licence_file": service.licence_file.name,
                **{name: getattr(service, name) for name in RENEWAL_SERVICE_FIELDS[1:5]}}

    def requested_service(self) -> dict:
        """The services and licence once the pending renewal is approved."""
        return {**self.service_in_force(), **self.pending_changes.get("service", {})}

    @property
    def pending_rows(self) -> list[tuple[str, str, str]]:
        """(label, value in force, requested value) of each pending change, for the review."""
        values = self.pending_changes.get("values", {})
        rows = [(self._meta.get_field(name).verbose_name, getattr(self, name), values[name])
                for name in RENEWAL_FIELDS if name in values]
        service = self.pending_changes.get("service", {})
        if service:
            current = self.service_in_force()
            shown = {"licence_file": lambda name: "تصویر تازه" if name else "—",
                     "category": lambda pk: str(ServiceCategory.objects.filter(pk=pk).first() or "—")}
            for name in RENEWAL_SERVICE_FIELDS:
                if name in service:
                    show = shown.get(name, str)
                    old = "تصویر فعلی" if name == "licence_file" and current.get(name) else show(current.get(name))
                    rows.append((SERVICE_LABELS[name], old, show(service[name])))
        return rows

    def _apply_pending(self) -> None:
        for name, value in self.pending_changes.get("values", {}).items():
            setattr(self, name, value)
        self.pending_changes = {}

    def _drop_pending(self) -> None:
        for name, when in self.pending_changes.get("kept", {}).items():
            setattr(self, name, datetime.fromisoformat(when) if when else None)
        self.pending_changes = {}

    def verification_meta_tag(self) -> str:
        return f'<meta name="enamad" content="{self.verification_token}">'

    def verification_txt_record(self) -> str:
        return f"enamad-verification={self.verification_token}"

    # --- transitions: they only set this row's fields (STYLE 2) ------------------------------
    @transition(field=status, source=BusinessStatus.DRAFT, target=BusinessStatus.UNDER_REVIEW,
                conditions=[_ready_to_send])
    def send(self):
        self.sent_at = timezone.now()

    @transition(field=status, source=BusinessStatus.UNDER_REVIEW, target=BusinessStatus.DEFICIENT,
                permission="enamad.review_business")
    def announce_deficiency(self):
        pass

    @transition(field=status, source=BusinessStatus.DEFICIENT, target=BusinessStatus.UNDER_REVIEW,
                conditions=[_ready_to_send])
    def resend(self):
        self.sent_at = timezone.now()

    @transition(field=status, source=BusinessStatus.UNDER_REVIEW, target=BusinessStatus.PHYSICAL_DOCUMENTS,
                permission="enamad.review_business")
    def approve(self):
        self.activity_change_requested = False

    @transition(field=status, source=BusinessStatus.PHYSICAL_DOCUMENTS, target=BusinessStatus.DOCUMENTS_REJECTED,
                permission="enamad.review_documents")
    def reject_documents(self, reason: str):
        self.last_reason = reason

    @transition(field=status, source=BusinessStatus.DOCUMENTS_REJECTED, target=BusinessStatus.PHYSICAL_DOCUMENTS)
    def resend_documents(self):
        self.documents_received_at = None

    @transition(field=status, source=BusinessStatus.PHYSICAL_DOCUMENTS, target=BusinessStatus.MANAGER_REVIEW,
                permission="enamad.review_documents")
    def accept_documents(self):
        self.last_reason = ""

    @transition(field=status, source=BusinessStatus.MANAGER_REVIEW, target=BusinessStatus.APPROVED,
                permission="enamad.approve_business", conditions=[_all_contacts_verified])
    def final_approve(self):
        self.renewing = False
        self._apply_pending()

    @transition(field=status, source=BusinessStatus.MANAGER_REVIEW, target=BusinessStatus.UNDER_REVIEW,
                permission="enamad.approve_business")
    def return_to_expert(self, reason: str):
        self.last_reason = reason

    @transition(field=status, source=[BusinessStatus.APPROVED, *RENEWAL_REVIEW_STATES],
                target=BusinessStatus.SUSPENDED, permission=_can_suspend, conditions=[_seal_vouches])
    def suspend(self, reason: str):
        # A seal suspended during the review of its renewal stops vouching and the renewal is
        # dropped: once reinstated (approved) the owner asks for it again.
        self.last_reason = reason
        self.renewing = False
        self._drop_pending()

    @transition(field=status, source=RENEWAL_REVIEW_STATES,
                target=RETURN_VALUE(BusinessStatus.APPROVED, BusinessStatus.EXPIRED),
                permission=_can_judge_renewal, conditions=[_renewing])
    def reject_renewal(self, reason: str, expired: bool):
        # The renewal ends without approval: the file goes back to its seal as it was (approved,
        # vouching until the old expiry; expired if that has passed), the corrections are dropped
        # and the verifications of the values in force come back. The owner may ask again.
        self.last_reason = reason
        self.renewing = False
        self._drop_pending()
        return BusinessStatus.EXPIRED if expired else BusinessStatus.APPROVED

    @transition(field=status, source=BusinessStatus.SUSPENDED, target=BusinessStatus.APPROVED,
                permission="enamad.approve_business")
    def reinstate(self):
        self.last_reason = ""

    @transition(field=status, source=[BusinessStatus.APPROVED, BusinessStatus.SUSPENDED],
                target=BusinessStatus.EXPIRED)
    def expire(self):
        pass

    @transition(field=status, source=[BusinessStatus.APPROVED, BusinessStatus.SUSPENDED, BusinessStatus.EXPIRED],
                target=BusinessStatus.REVOKED, permission="enamad.approve_business")
    def revoke(self, reason: str):
        self.last_reason = reason

    @transition(field=status, source=[BusinessStatus.APPROVED, BusinessStatus.EXPIRED],
                target=BusinessStatus.UNDER_REVIEW, conditions=[_ready_to_send])
    def renew(self):
        self.sent_at = timezone.now()
        self.renewing = True


class BusinessService(models.Model):
    """The four sections of "services and licences" (N8)."""

    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="service")
    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, verbose_name="نوع خدمت")
    offerings = models.TextField("کالاها و خدماتی که عرضه می‌شود")
    delivery_methods = models.TextField("روش‌های ارسال و تحویل")
    payment_methods = models.TextField("روش‌های پرداخت")
    licence_reference = models.CharField("شماره و مرجع مجوز", max_length=200, blank=True)
    licence_file = models.FileField(upload_to=private_upload_to("enamad/licences"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "خدمات و مجوزها"
        verbose_name_plural = "خدمات و مجوزها"

    def __str__(self) -> str:
        return f"{self.category} — {self.business_id}"

    @property
    def is_complete(self) -> bool:
        if not (self.offerings and self.delivery_methods and self.payment_methods):
            return False
        if self.category.requires_licence:
            return bool(self.licence_reference and self.licence_file)
        return True


class SurveyResponse(models.Model):
    """The survey (N9)."""

    class HeardFrom(models.TextChoices):
        SEARCH = "search", "موتور جست‌وجو"
        FRIEND = "friend", "معرفی دوستان"
        PAYMENT = "payment", "شرکت پرداخت الکترونیک"
        HOSTING = "hosting", "شرکت میزبانی وب"
        OTHER = "other", "سایر"

    class Platform(models.TextChoices):
        CUSTOM = "custom", "برنامه‌نویسی اختصاصی"
        CMS = "cms", "سامانه مدیریت محتوا (مانند وردپرس)"
        BUILDER = "builder", "سایت‌ساز آماده"

    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="survey")
    heard_from = models.CharField("از کجا با اینماد آشنا شدید؟", max_length=10, choices=HeardFrom.choices)
    platform = models.CharField("وب‌سایت با چه ابزاری ساخته شده است؟", max_length=10, choices=Platform.choices)
    monthly_orders = models.PositiveIntegerField("تعداد تقریبی سفارش در ماه")
    has_physical_store = models.BooleanField("فروشگاه حضوری هم دارید؟", default=False)
    comments = models.TextField("پیشنهاد یا توضیح", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "نظرسنجی"
        verbose_name_plural = "نظرسنجی‌ها"

    def __str__(self) -> str:
        return f"survey {self.business_id}"


class PostalLetter(models.Model):
    """A letter with a code posted to the business address (N10 address check); the code
    itself is stored only as a hash on the business, the letter body is for the post room."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="letters")
    recipient = models.CharField(max_length=200)
    address = models.TextField()
    postal_code = models.CharField(max_length=10)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "نامه پستی"
        verbose_name_plural = "نامه‌های پستی احراز نشانی"

    def __str__(self) -> str:
        return f"letter {self.business_id} → {self.postal_code}"


class Review(models.Model):
    """One round of the expert's checklist review (N12)."""

    class Outcome(models.TextChoices):
        DEFICIENT = "deficient", "اعلام نقص"
        APPROVED = "approved", "تأیید"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="reviews")
    round = models.PositiveSmallIntegerField()
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-round"]
        verbose_name = "بررسی کارشناس"
        verbose_name_plural = "بررسی‌های کارشناس"
        constraints = [models.UniqueConstraint(fields=["business", "round"], name="enamad_one_review_per_round")]

    def __str__(self) -> str:
        return f"review {self.business_id}#{self.round}"


class ReviewItem(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT)
    approved = models.BooleanField()
    explanation = models.TextField(blank=True)
    reply = models.TextField("پاسخ متقاضی", blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item__order", "item_id"]

    def __str__(self) -> str:
        return f"{self.item} {'✓' if self.approved else '✗'}"


class DomainEmailCode(models.Model):
    """N22's e-mailed domain-control code: sent to ``info@`` the business's domain (``address``,
    in its ASCII/punycode form), stored as an HMAC, valid until ``expires_at``, single use
    (``used_at``), dead after ``ENAMAD_DOMAIN_EMAIL_MAX_ATTEMPTS`` wrong tries. Only a
    business's latest code counts; the rows also bound the resends (per business and per
    address, per day)."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="domain_email_codes")
    address = models.EmailField(db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # Who asked for it: the holder from the technical page, or the monitor asking a sealed
    # site's holder to confirm again (README "Seal monitoring").
    by_monitor = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = "کد تأییدیه فنی رایانامه‌ای"
        verbose_name_plural = "کدهای تأییدیه فنی رایانامه‌ای"

    def __str__(self) -> str:
        return f"{self.address} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_live(self) -> bool:
        return (self.used_at is None and self.expires_at > timezone.now()
                and self.failures < settings.ENAMAD_DOMAIN_EMAIL_MAX_ATTEMPTS)


# --- Seals (N16–N18, N22) ---------------------------------------------------------------------


class SealQuerySet(models.QuerySet):
    def public(self) -> SealQuerySet:
        """Seals the public registry lists: in force (``seal_vouches``)."""
        return self.filter(seal_in_force_q("business__", timezone.now()))

    def monitored(self) -> SealQuerySet:
        """Seals the monitor re-checks (N21): every seal that vouches (``seal_vouches``: approved,
        or in the review of its renewal, within its year), and those the monitor itself suspended
        (so that a restored check can restore them)."""
        now = timezone.now()
        return self.filter(seal_in_force_q("business__", now) | Q(
            expires_at__gt=now, business__status=BusinessStatus.SUSPENDED, suspended_by_monitor=True))


class Seal(models.Model):
    business = models.OneToOneField(Business, on_delete=models.PROTECT, related_name="seal")
    number = models.PositiveBigIntegerField("شناسه نماد", unique=True)
    code = models.CharField(max_length=32, unique=True, default=random_code)
    stars = models.PositiveSmallIntegerField("تعداد ستاره", default=1)
    granted_at = models.DateTimeField("تاریخ اعطا")
    expires_at = models.DateTimeField("تاریخ انقضا", db_index=True)
    tls_checked_at = models.DateTimeField(null=True, blank=True)
    # Monitoring (N21): what the last check found and when the next one is due.
    monitor_due_at = models.DateTimeField("بررسی بعدی", null=True, blank=True, db_index=True)
    monitored_at = models.DateTimeField("آخرین بررسی", null=True, blank=True)
    reachable = models.BooleanField("در دسترس", default=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    domain_failing_since = models.DateTimeField("تأییدیه فنی از", null=True, blank=True)
    monitor_error = models.TextField(blank=True)
    suspended_by_monitor = models.BooleanField(default=False)
    # Checks failed in a row (N21): a failure is acted on only after ENAMAD_MONITOR_FAILURES of them.
    failed_checks = models.PositiveSmallIntegerField("بررسی‌های ناموفق پیاپی", default=0)
    # Expiry reminders (30 and 7 days): the smallest threshold already reminded of.
    reminder_days_sent = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = SealQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = "نماد"
        verbose_name_plural = "نمادها"

    def __str__(self) -> str:
        return f"seal {self.number} ({self.business.domain})"

    @property
    def is_active(self) -> bool:
        business = self.business
        return seal_vouches(status=business.status, renewing=business.renewing, expires_at=self.expires_at)


# --- Support tickets (N19, N20) ---------------------------------------------------------------


def random_ticket_reference() -> str:
    return "T-" + "".join(secrets.choice(string.digits) for _ in range(8))


def random_tracking_code() -> str:
    return "C-" + "".join(secrets.choice(string.digits) for _ in range(10))


class TicketCategory(models.TextChoices):
    GENERAL = "general", "پرسش عمومی"
    TECHNICAL = "technical", "مشکل فنی یا تأییدیه فنی"
    SEAL = "seal", "نماد، کد نماد و تمدید"
    PERSONA_CHANGE = "persona_change", "تغییر نوع شخصیت (حقیقی ↔ حقوقی)"
    IDENTITY_CHANGE = "identity_change", "تغییر اطلاعات هویتی"
    BUSINESS_CHANGE = "business_change", "تغییر اطلاعات کسب‌وکار"


# N20: these categories ask for a change that staff approve and a service applies.
CHANGE_CATEGORIES = (TicketCategory.PERSONA_CHANGE, TicketCategory.IDENTITY_CHANGE, TicketCategory.BUSINESS_CHANGE)


class TicketStatus(models.TextChoices):
    OPEN = "open", "باز (در انتظار پاسخ پشتیبانی)"
    ANSWERED = "answered", "پاسخ داده شد"
    CLOSED = "closed", "بسته"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "در انتظار بررسی"
    APPROVED = "approved", "تأیید و اعمال شد"
    REJECTED = "rejected", "رد شد"


class AttachmentKind(models.TextChoices):
    """What a ticket attachment is: one of the identity documents (a change applies them to the
    account), a document that supports a business-data change, or anything else."""

    NATIONAL_CARD = DocumentKind.NATIONAL_CARD.value, DocumentKind.NATIONAL_CARD.label
    BIRTH_CERTIFICATE = DocumentKind.BIRTH_CERTIFICATE.value, DocumentKind.BIRTH_CERTIFICATE.label
    GAZETTE = DocumentKind.GAZETTE.value, DocumentKind.GAZETTE.label
    ARTICLES = DocumentKind.ARTICLES.value, DocumentKind.ARTICLES.label
    GOVERNMENT_LETTER = DocumentKind.GOVERNMENT_LETTER.value, DocumentKind.GOVERNMENT_LETTER.label
    SUPPORTING = "supporting", "مدرک مثبت تغییر (اجاره‌نامه، پروانه کسب، آگهی تغییرات و مانند آن)"
    OTHER = "other", "پیوست"


def _asks_for_change(ticket: Ticket) -> bool:
    return ticket.category in CHANGE_CATEGORIES


def _ticket_not_closed(ticket: Ticket) -> bool:
    return ticket.status != TicketStatus.CLOSED


def ticket_idle_cutoff(now=None):
    """An answered ticket whose last message is older than this is closed automatically."""
    return (now or timezone.now()) - timedelta(days=settings.ENAMAD_TICKET_CLOSE_DAYS)


def _idle_since_answer(ticket: Ticket) -> bool:
    """No reply from the holder for ``ENAMAD_TICKET_CLOSE_DAYS`` since the answer, and no change
    request still waiting for its decision."""
    return ticket.change_status != ChangeStatus.PENDING and ticket.last_message_at <= ticket_idle_cutoff()


def _reopenable(ticket: Ticket) -> bool:
    """A ticket closed automatically reopens when the holder writes within the same period."""
    return bool(ticket.auto_closed and ticket.closed_at and ticket.closed_at > ticket_idle_cutoff())


class TicketQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> TicketQuerySet:
        return self.filter(account=account)

    def waiting_for_staff(self) -> TicketQuerySet:
        return self.filter(status=TicketStatus.OPEN)


class Ticket(FSMModelMixin, models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="tickets")
    business = models.ForeignKey(Business, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets",
                                 verbose_name="کسب‌وکار")
    reference = models.CharField("شماره تیکت", max_length=12, unique=True, default=random_ticket_reference)
    subject = models.CharField("موضوع", max_length=200)
    category = models.CharField("دسته", max_length=20, choices=TicketCategory.choices)
    status = FSMField("وضعیت", max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN,
                      protected=True, db_index=True)
    # N20: the change asked for (new values), its decision and when it was applied.
    # Blank for a ticket that asks for no change; moved only by the change transitions below.
    change_status = FSMField("وضعیت درخواست تغییر", max_length=10, choices=ChangeStatus.choices, default="",
                             blank=True, protected=True, db_index=True)
    change_data = models.JSONField("مقادیر درخواستی", default=dict, blank=True)
    change_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    change_decided_at = models.DateTimeField(null=True, blank=True)
    change_note = models.TextField("توضیح تصمیم", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Closed by the idle-ticket task (not by the holder or staff): the holder may reopen it.
    auto_closed = models.BooleanField("بسته‌شدن خودکار", default=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at"]
        verbose_name = "تیکت پشتیبانی"
        verbose_name_plural = "تیکت‌های پشتیبانی"
        permissions = [
            ("answer_ticket", "پاسخ به تیکت‌های پشتیبانی"),
            ("approve_change", "تأیید درخواست تغییر نوع شخصیت و اطلاعات هویتی/کسب‌وکار"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_change(self) -> bool:
        return self.category in CHANGE_CATEGORIES

    # --- transitions: only this row's fields (STYLE 2) -----------------------------------------
    @transition(field=status, source=[TicketStatus.OPEN, TicketStatus.ANSWERED], target=TicketStatus.ANSWERED,
                permission="enamad.answer_ticket")
    def answer(self):
        self.last_message_at = timezone.now()

    @transition(field=status, source=[TicketStatus.OPEN, TicketStatus.ANSWERED], target=TicketStatus.OPEN)
    def follow_up(self):
        self.last_message_at = timezone.now()

    @transition(field=status, source=[TicketStatus.OPEN, TicketStatus.ANSWERED], target=TicketStatus.CLOSED)
    def close(self):
        self.closed_at, self.auto_closed = timezone.now(), False

    @transition(field=status, source=TicketStatus.ANSWERED, target=TicketStatus.CLOSED,
                conditions=[_idle_since_answer])
    def auto_close(self):
        self.closed_at, self.auto_closed = timezone.now(), True

    @transition(field=status, source=TicketStatus.CLOSED, target=TicketStatus.OPEN, conditions=[_reopenable])
    def reopen(self):
        self.last_message_at, self.closed_at, self.auto_closed = timezone.now(), None, False

    @property
    def reopen_until(self):
        """Until when the holder may reopen this automatically closed ticket by writing."""
        if not (self.auto_closed and self.closed_at):
            return None
        return self.closed_at + timedelta(days=settings.ENAMAD_TICKET_CLOSE_DAYS)

    # N20: a change request is pending from the start, then approved (and applied) or rejected
    # by staff, while the ticket is not closed.
    @transition(field=change_status, source="", target=ChangeStatus.PENDING, conditions=[_asks_for_change])
    def request_change(self, data: dict):
        self.change_data = data

    @transition(field=change_status, source=ChangeStatus.PENDING, target=ChangeStatus.APPROVED,
                permission="enamad.approve_change", conditions=[_ticket_not_closed])
    def approve_change(self, by, note: str):
        self.change_decided_by, self.change_decided_at, self.change_note = by, timezone.now(), note

    @transition(field=change_status, source=ChangeStatus.PENDING, target=ChangeStatus.REJECTED,
                permission="enamad.approve_change", conditions=[_ticket_not_closed])
    def reject_change(self, by, note: str):
        self.change_decided_by, self.change_decided_at, self.change_note = by, timezone.now(), note


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_staff = models.BooleanField(default=False)
    body = models.TextField("متن")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "پیام تیکت"
        verbose_name_plural = "پیام‌های تیکت"

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.pk}"


class TicketAttachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("نوع پیوست", max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    file = models.FileField(upload_to=private_upload_to("enamad/tickets"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "پیوست تیکت"
        verbose_name_plural = "پیوست‌های تیکت"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.message_id})"


# --- Complaints (N23) -------------------------------------------------------------------------


class ComplaintType(models.TextChoices):
    NON_DELIVERY = "non_delivery", "عدم تحویل کالا یا خدمت"
    NO_REFUND = "no_refund", "عدم استرداد وجه پس از انصراف از خرید"
    DEFECT = "defect", "معیوب بودن یا مغایرت کالا با مشخصات"
    DELAY = "delay", "تأخیر در ارسال یا تحویل"
    NEW_CHARGES = "new_charges", "دریافت هزینه جدید پس از فروش"
    AFTER_SALES = "after_sales", "عدم ارائه خدمات پس از فروش"
    NO_INVOICE = "no_invoice", "عدم ارائه فاکتور"


class ComplaintStatus(models.TextChoices):
    AWAITING_ANSWER = "awaiting_answer", "در انتظار پاسخ فروشنده"
    ANSWERED = "answered", "پاسخ فروشنده ثبت شد"
    OVERDUE = "overdue", "بی‌پاسخ در مهلت — ارجاع به کارشناس"
    UPHELD = "upheld", "وارد دانسته شد"
    DISMISSED = "dismissed", "رد شد"


OPEN_COMPLAINT_STATES = (ComplaintStatus.AWAITING_ANSWER, ComplaintStatus.ANSWERED, ComplaintStatus.OVERDUE)
DECIDABLE_STATES = list(OPEN_COMPLAINT_STATES)


class ComplaintQuerySet(models.QuerySet):
    def open(self) -> ComplaintQuerySet:
        return self.filter(status__in=OPEN_COMPLAINT_STATES)

    def past_deadline(self, now=None) -> ComplaintQuerySet:
        return self.filter(status=ComplaintStatus.AWAITING_ANSWER, answer_due_at__lte=now or timezone.now())


class Complaint(FSMModelMixin, models.Model):
    """A buyer's complaint about a seal holder (N23), filed from the public seal page."""

    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="complaints")
    tracking_code = models.CharField("کد پیگیری", max_length=14, unique=True, default=random_tracking_code)
    complaint_type = models.CharField("نوع شکایت", max_length=20, choices=ComplaintType.choices)
    payment_reference = models.CharField("شماره پیگیری پرداخت", max_length=40)
    description = models.TextField("شرح شکایت")
    contact_name = models.CharField("نام و نام خانوادگی", max_length=120)
    contact_mobile = models.CharField("تلفن همراه", max_length=11)
    contact_email = models.EmailField("رایانامه", blank=True)
    status = FSMField("وضعیت", max_length=20, choices=ComplaintStatus.choices,
                      default=ComplaintStatus.AWAITING_ANSWER, protected=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    answer_due_at = models.DateTimeField("مهلت پاسخ", db_index=True)
    flagged_at = models.DateTimeField("ارجاع به کارشناس", null=True, blank=True)
    answer = models.TextField("پاسخ فروشنده", blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("نظر کارشناس", blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    seal_suspended = models.BooleanField("نماد به سبب این شکایت تعلیق شد", default=False)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "شکایت"
        verbose_name_plural = "شکایت‌ها"
        permissions = [("handle_complaint", "رسیدگی به شکایت‌ها (وارد/رد، تعلیق نماد)")]

    def __str__(self) -> str:
        return f"{self.tracking_code} — {self.business_id}"

    @property
    def answered_late(self) -> bool:
        return bool(self.answered_at and self.answered_at > self.answer_due_at)

    # --- transitions ---------------------------------------------------------------------------
    @transition(field=status, source=[ComplaintStatus.AWAITING_ANSWER, ComplaintStatus.OVERDUE],
                target=ComplaintStatus.ANSWERED)
    def record_answer(self, text: str):
        self.answer = text
        self.answered_at = timezone.now()

    @transition(field=status, source=ComplaintStatus.AWAITING_ANSWER, target=ComplaintStatus.OVERDUE)
    def flag(self):
        self.flagged_at = timezone.now()

    @transition(field=status, source=DECIDABLE_STATES, target=ComplaintStatus.UPHELD,
                permission="enamad.handle_complaint")
    def uphold(self, note: str):
        self.decision_note = note
        self.decided_at = timezone.now()

    @transition(field=status, source=DECIDABLE_STATES, target=ComplaintStatus.DISMISSED,
                permission="enamad.handle_complaint")
    def dismiss(self, note: str):
        self.decision_note = note
        self.decided_at = timezone.now()


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    from_holder = models.BooleanField("پیوست پاسخ فروشنده", default=False)
    file = models.FileField(upload_to=private_upload_to("enamad/complaints"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "پیوست شکایت"
        verbose_name_plural = "پیوست‌های شکایت"

    def __str__(self) -> str:
        return f"attachment {self.pk} of {self.complaint_id}"


# The commitment letter signed with a RAMIS certificate (issue 14): its own module.
from .letter_models import CommitmentLetter, SignedLetter  # noqa: E402, F401
