"""The Django admin (OTP-protected) for e-Namad staff: catalogue data (checklist, services),
accounts, businesses with their state shown read-only (changes go through the staff desk or the
actions below, i.e. through services), seals and postal letters."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition

from .businesses import services as business_services
from .models import (
    Account,
    Business,
    ChecklistItem,
    Complaint,
    IdentityDocument,
    PhoneChallenge,
    PostalLetter,
    Review,
    ReviewItem,
    Seal,
    ServiceCategory,
    Ticket,
    TicketMessage,
)
from .seals import services as seal_services


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "authority", "requires_licence", "active", "order"]
    list_editable = ["requires_licence", "active", "order"]
    search_fields = ["name", "authority"]


class IdentityDocumentInline(admin.TabularInline):
    model = IdentityDocument
    extra = 0
    fields = ["kind", "uploaded_at", "link"]
    readonly_fields = ["kind", "uploaded_at", "link"]
    can_delete = False

    @admin.display(description="فایل")
    def link(self, obj):
        return format_html('<a href="{}">مشاهده</a>', reverse("enamad:staff_document", args=[obj.pk]))

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Read-only: the identity (persona, names, national code, phones …) was verified, and a
    change goes through a service that audits it (N20), never through a bare admin save."""

    list_display = ["user", "persona", "first_name", "last_name", "national_code", "mobile_verified_at",
                    "landline_verified_at"]
    list_filter = ["persona"]
    search_fields = ["user__username", "national_code", "last_name", "company_name", "mobile"]
    readonly_fields = [f.name for f in Account._meta.fields if f.name != "id"]
    inlines = [IdentityDocumentInline]

    def has_add_permission(self, request):
        return False


def _run(modeladmin, request, queryset, service, done, **kwargs):
    count = 0
    for business in queryset:
        try:
            service(business_id=business.pk, actor=request.user, ctx=audit_context(request), **kwargs)
            count += 1
        except InvalidTransition as exc:
            modeladmin.message_user(request, f"{business}: {exc.message}", messages.ERROR)
        except PermissionDenied:
            modeladmin.message_user(request, "اجازه این کار را ندارید.", messages.ERROR)
            return
    if count:
        modeladmin.message_user(request, f"{count} کسب‌وکار: {done}", messages.SUCCESS)


@admin.action(description="ثبت دریافت و تأیید مدارک فیزیکی")
def accept_documents(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, business_services.business_accept_documents, "مدارک تأیید شد")


@admin.action(description="تأیید نهایی (مدیر) و صدور نماد")
def final_approve(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, seal_services.business_final_approve, "تأیید نهایی شد")


@admin.action(description="برداشتن تعلیق نماد")
def reinstate(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, seal_services.business_reinstate, "تعلیق برداشته شد")


@admin.action(description="آزادسازی تأییدیه فنی دامنه (ادعای رهاشده)")
def release_domain(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, business_services.business_release_domain, "تأییدیه فنی دامنه آزاد شد",
         reason="ادعای رهاشده؛ آزادسازی از صفحه مدیریت")


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["domain", "name", "account", "status", "activity_type", "domain_verified_at", "sent_at",
                    "desk"]
    list_filter = ["status", "activity_type", "domain_verified_method"]
    search_fields = ["domain", "name", "reference", "account__user__username", "account__national_code"]
    list_select_related = ["account"]
    readonly_fields = [f.name for f in Business._meta.fields if f.name not in {"id"}]
    actions = [accept_documents, final_approve, reinstate, release_domain]

    @admin.display(description="میز کار")
    def desk(self, obj):
        return format_html('<a href="{}">بررسی</a>', reverse("enamad:staff_business", args=[obj.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReviewItemInline(admin.TabularInline):
    model = ReviewItem
    extra = 0
    readonly_fields = ["item", "approved", "explanation", "reply", "replied_at"]
    can_delete = False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["business", "round", "expert", "outcome", "created_at"]
    list_filter = ["outcome"]
    readonly_fields = ["business", "round", "expert", "outcome", "note"]
    inlines = [ReviewItemInline]


@admin.register(Seal)
class SealAdmin(admin.ModelAdmin):
    list_display = ["number", "business", "stars", "granted_at", "expires_at", "monitored_at", "reachable",
                    "domain_failing_since"]
    list_filter = ["stars", "reachable", "suspended_by_monitor"]
    search_fields = ["number", "business__domain"]
    readonly_fields = [f.name for f in Seal._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False


@admin.register(PostalLetter)
class PostalLetterAdmin(admin.ModelAdmin):
    list_display = ["business", "recipient", "postal_code", "created_at", "posted_at"]
    readonly_fields = ["business", "recipient", "address", "postal_code", "body", "created_at"]


@admin.register(PhoneChallenge)
class PhoneChallengeAdmin(admin.ModelAdmin):
    list_display = ["account", "purpose", "channel", "phone", "created_at", "expires_at", "verified_at"]
    list_filter = ["purpose", "channel"]
    readonly_fields = ["account", "business", "purpose", "channel", "phone", "code", "created_at", "expires_at",
                      "verified_at"]


# --- after the seal: tickets and complaints (answers and decisions go through the staff desk) ---


class TicketMessageInline(admin.StackedInline):
    model = TicketMessage
    extra = 0
    fields = ["created_at", "author", "from_staff", "body"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["reference", "subject", "category", "account", "person", "status", "change_status",
                    "last_message_at", "desk"]
    list_filter = ["status", "category", "change_status"]
    search_fields = ["reference", "subject", "account__user__username", "account__national_code",
                     "person__national_code"]
    list_select_related = ["account", "person"]
    readonly_fields = [f.name for f in Ticket._meta.fields if f.name != "id"]
    inlines = [TicketMessageInline]

    @admin.display(description="میز کار")
    def desk(self, obj):
        return format_html('<a href="{}">پاسخ</a>', reverse("enamad:staff_ticket", args=[obj.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["tracking_code", "business", "complaint_type", "status", "created_at", "answer_due_at", "desk"]
    list_filter = ["status", "complaint_type"]
    search_fields = ["tracking_code", "business__domain", "contact_mobile", "payment_reference"]
    list_select_related = ["business"]
    readonly_fields = [f.name for f in Complaint._meta.fields if f.name != "id"]

    @admin.display(description="میز کار")
    def desk(self, obj):
        return format_html('<a href="{}">رسیدگی</a>', reverse("enamad:staff_complaint", args=[obj.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
