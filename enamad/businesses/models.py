"""e-Namad businesses: the catalogue, the file and its review FSM, domain control codes (N6–N15, N22).

Every status change goes through ``enamad.businesses.services`` or ``enamad.seals.services``
(the seal's own transitions); the transition methods here only set this row's fields.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMModelMixin, transition

from enamad.accounts.models import Account
from enamad.common import random_reference, random_token
from ramis.common.fsm import StateField
from ramis.common.uploads import private_upload_to

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


def can_suspend(instance, user) -> bool:
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

    def past_editing(self) -> BusinessQuerySet:
        """Files sent on (to review, sealed …): the identity they were reviewed with is fixed."""
        return self.exclude(status__in=EDITABLE_STATES)


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
    status = StateField("وضعیت", max_length=20, choices=BusinessStatus.choices, default=BusinessStatus.DRAFT,
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
                target=BusinessStatus.SUSPENDED, permission=can_suspend, conditions=[_seal_vouches])
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


# --- The commitment letter as issued and as signed with a RAMIS certificate (issue 14) ---------
# The logic is in ``enamad.businesses.signed_letter``.
class CommitmentLetter(models.Model):
    """The letter PDF issued for a business, kept byte for byte: what the owner downloads is this
    file, and a signed upload must be this file plus the signature's incremental update."""

    business = models.ForeignKey("enamad.Business", on_delete=models.CASCADE, related_name="commitment_letters")
    file = models.FileField(upload_to=private_upload_to("enamad/letters"))
    sha256 = models.CharField("اثر انگشت SHA-256", max_length=64, db_index=True)
    size = models.PositiveIntegerField("اندازه (بایت)")
    revisions = models.PositiveSmallIntegerField(default=1)  # the PDF's revisions (xref sections) as issued
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "تعهدنامه صادرشده"
        verbose_name_plural = "تعهدنامه‌های صادرشده"

    def __str__(self) -> str:
        return f"letter {self.pk} of {self.business_id} ({self.sha256[:12]})"


class SignedLetter(models.Model):
    """A signed letter that passed validation; ``report`` is what the documents officer sees."""

    class SignerKind(models.TextChoices):
        OWNER = "owner", "گواهی امضای خود مالک"
        SEAL = "seal", "گواهی مهر سازمانی شرکت"
        SIGNATORY = "signatory", "گواهی امضای صاحب امضای مجاز شرکت"

    business = models.ForeignKey("enamad.Business", on_delete=models.CASCADE, related_name="signed_letters")
    letter = models.ForeignKey(CommitmentLetter, on_delete=models.PROTECT, related_name="signed")
    file = models.FileField(upload_to=private_upload_to("enamad/signed-letters"))
    sha256 = models.CharField(max_length=64)
    signer_kind = models.CharField(max_length=10, choices=SignerKind.choices)
    signer_subject = models.CharField("امضاکننده", max_length=1000)
    certificate_serial = models.CharField("سریال گواهی", max_length=64)
    signed_at = models.DateTimeField("زمان مهر زمانی")
    report = models.JSONField("گزارش اعتبارسنجی", default=dict)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "تعهدنامه امضاشده الکترونیکی"
        verbose_name_plural = "تعهدنامه‌های امضاشده الکترونیکی"

    def __str__(self) -> str:
        return f"signed letter {self.pk} of {self.business_id}"
