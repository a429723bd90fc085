"""The desk's records in the admin: read-only, with their audit trail (SEO reviewers see what the
offices did at each visit); the request page shows its identity checks and issuance attempts."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_POST

from ramis.common.admin import ReadOnlyAdmin
from ramis.common.admin_tools import AuditTrailMixin, private_file_link
from ramis.common.context import audit_context
from ramis.requests import admin as requests_admin
from ramis.requests.models import CertificateRequest

from . import services
from .models import Handover, IdentityCheck, IssuanceAttempt, OfficeRevocation, Workstation


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
    fields = ["started_at", "clerk", "workstation", "status", "token_serial", "certificate_serial", "error_code"]
    readonly_fields = fields


class HandoverInline(_ReadOnlyInline):
    model = Handover
    fields = ["handed_over_at", "handed_over_by", "recipient", "recipient_name", "certificate"]
    readonly_fields = fields


admin.site.unregister(CertificateRequest)


@admin.register(CertificateRequest)
class CertificateRequestAdmin(requests_admin.CertificateRequestAdmin):
    inlines = [IdentityCheckInline, IssuanceAttemptInline, HandoverInline]


@admin.register(IdentityCheck)
class IdentityCheckAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["request", "created_at", "checked_by", "presenter", "power_kind", "passed"]
    list_filter = ["passed", "presenter", "power_kind", "request__office"]
    list_select_related = ["request", "checked_by"]
    search_fields = ["request__applicant__national_code", "attorney_national_code", "power_number"]
    exclude = ["power_file", "power_file_kind"]
    readonly_fields = ["power_of_attorney"]
    power_of_attorney = private_file_link("power_file", "power_file_kind", "desk:power_of_attorney",
                                          "تصویر وکالت‌نامه")


@admin.register(IssuanceAttempt)
class IssuanceAttemptAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["request", "started_at", "clerk", "workstation", "status", "token_serial", "certificate_serial",
                    "error_code"]
    list_filter = ["status", "error_code", "request__office"]
    list_select_related = ["request", "clerk", "workstation"]
    search_fields = ["certificate_serial", "token_serial", "request__applicant__national_code"]


@admin.register(Handover)
class HandoverAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["request", "handed_over_at", "handed_over_by", "recipient", "recipient_name"]
    list_filter = ["recipient", "request__office"]
    list_select_related = ["request", "handed_over_by"]
    search_fields = ["request__applicant__national_code", "certificate__serial", "recipient_name"]
    exclude = ["sheet_file", "sheet_kind"]
    readonly_fields = ["signed_sheet"]
    signed_sheet = private_file_link("sheet_file", "sheet_kind", "desk:handover_sheet", "برگه تحویل امضاشده")

    def _audit_entries(self, obj):
        return super()._audit_entries(obj.request).filter(event="request.handed_over", extra__handover=obj.pk)


@admin.register(OfficeRevocation)
class OfficeRevocationAdmin(AuditTrailMixin, ReadOnlyAdmin):
    list_display = ["certificate", "reason", "revoked_by", "created_at"]
    list_filter = ["reason"]
    list_select_related = ["certificate", "revoked_by"]
    exclude = ["form_file", "form_kind"]
    readonly_fields = ["signed_form"]
    signed_form = private_file_link("form_file", "form_kind", "desk:revocation_form", "فرم ابطال امضاشده")


class WorkstationForm(forms.ModelForm):
    class Meta:
        model = Workstation
        fields = ["office", "name", "agent_url", "is_active"]

    def clean_agent_url(self):
        try:
            return services._check_agent_url(self.cleaned_data["agent_url"])
        except services.DeskError as exc:
            raise ValidationError(exc.message) from None


@admin.register(Workstation)
class WorkstationAdmin(AuditTrailMixin, admin.ModelAdmin):
    """Issuing desks and their token agents. Saving calls the desk's services; the agent's
    secret is made by the server and shown once (on creation and on "new secret")."""

    form = WorkstationForm
    change_form_template = "admin/desk/workstation_change_form.html"
    list_display = ["name", "office", "agent_url", "is_active", "last_seen_at", "secret_set_at"]
    list_filter = ["is_active", "office"]
    list_select_related = ["office"]
    search_fields = ["name", "agent_url", "office__code"]
    readonly_fields = ["secret_set_at", "created_at", "last_checked_at", "last_seen_at", "last_error"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "office") if obj is not None else fields

    def has_delete_permission(self, request, obj=None):
        return False  # issuance attempts name it: deactivate instead

    def save_model(self, request, obj, form, change):
        if change:
            data = form.cleaned_data
            services.workstation_update(actor=request.user, workstation_id=obj.pk, name=data["name"],
                                        agent_url=data["agent_url"], is_active=data["is_active"], ctx=audit_context(request))
            obj.refresh_from_db()
            return
        ws, secret = services.workstation_add(actor=request.user, office_id=obj.office_id, name=obj.name,
                                              agent_url=obj.agent_url, ctx=audit_context(request))
        if not obj.is_active:
            services.workstation_update(actor=request.user, workstation_id=ws.pk, is_active=False, ctx=audit_context(request))
        obj.pk = ws.pk
        obj.refresh_from_db()
        request._workstation_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, obj, request._workstation_secret)

    def get_urls(self):
        return [path("<int:pk>/rotate-secret/", self.admin_site.admin_view(require_POST(self.rotate_view)),
                     name="desk_workstation_rotate"), *super().get_urls()]

    def rotate_view(self, request, pk: int):
        ws = get_object_or_404(Workstation, pk=pk)
        if not self.has_change_permission(request, ws):
            raise PermissionDenied
        secret = services.workstation_rotate_secret(actor=request.user, workstation_id=ws.pk, ctx=audit_context(request))
        return self._secret_page(request, ws, secret)

    def _secret_page(self, request, ws, secret: str):
        response = TemplateResponse(request, "admin/desk/workstation_secret.html", {
            **self.admin_site.each_context(request), "workstation": ws, "secret": secret, "opts": self.model._meta,
        })
        response["Cache-Control"] = "no-store"
        return response
