"""The Django admin (OTP-protected) of the seals room: business files with their state shown
read-only (changes go through the staff desk or the actions below, i.e. through services; some
of them are the seal's), and seals."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from enamad.businesses import services as business_services
from enamad.businesses.models import Business
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition

from . import services as seal_services
from .models import Seal


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


@admin.register(Seal)
class SealAdmin(admin.ModelAdmin):
    list_display = ["number", "business", "stars", "granted_at", "expires_at", "monitored_at", "reachable",
                    "domain_failing_since"]
    list_filter = ["stars", "reachable", "suspended_by_monitor"]
    search_fields = ["number", "business__domain"]
    readonly_fields = [f.name for f in Seal._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False
