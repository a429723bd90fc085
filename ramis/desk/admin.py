"""The desk's records in the admin: read-only, with their audit trail (SEO reviewers see what the
offices did at each visit); the request page shows its identity checks and issuance attempts."""

from django.contrib import admin

from ramis.common.admin import ReadOnlyAdmin
from ramis.common.admin_tools import AuditTrailMixin
from ramis.requests import admin as requests_admin
from ramis.requests.models import CertificateRequest

from .models import IdentityCheck, IssuanceAttempt, OfficeRevocation


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IdentityCheckInline(_ReadOnlyInline):
    model = IdentityCheck
    fields = ["created_at", "checked_by", "presenter", "attorney_name", "power_kind", "power_number", "passed"]
    readonly_fields = fields


class IssuanceAttemptInline(_ReadOnlyInline):
    model = IssuanceAttempt
    fields = ["started_at", "clerk", "status", "token_serial", "certificate_serial", "error_code"]
    readonly_fields = fields


admin.site.unregister(CertificateRequest)


@admin.register(CertificateRequest)
class CertificateRequestAdmin(requests_admin.CertificateRequestAdmin):
    inlines = [IdentityCheckInline, IssuanceAttemptInline]


@admin.register(IdentityCheck)
class IdentityCheckAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["request", "created_at", "checked_by", "presenter", "power_kind", "passed"]
    list_filter = ["passed", "presenter", "power_kind", "request__office"]
    list_select_related = ["request", "checked_by"]
    search_fields = ["request__applicant__national_code", "attorney_national_code", "power_number"]


@admin.register(IssuanceAttempt)
class IssuanceAttemptAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["request", "started_at", "clerk", "status", "token_serial", "certificate_serial", "error_code"]
    list_filter = ["status", "error_code", "request__office"]
    list_select_related = ["request", "clerk"]
    search_fields = ["certificate_serial", "token_serial", "request__applicant__national_code"]


@admin.register(OfficeRevocation)
class OfficeRevocationAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["certificate", "reason", "revoked_by", "created_at"]
    list_filter = ["reason"]
    list_select_related = ["certificate", "revoked_by"]
