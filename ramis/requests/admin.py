"""Admin: document requirements are data (R6); requests, invoices and certificates are read here,
changed only through services (an SEO reviewer ending a role revokes its certificates, R19)."""

from django import forms
from django.contrib import admin
from django_fsm import has_transition_perm

from ramis.common.admin_tools import (
    AuditedAdminMixin,
    AuditTrailMixin,
    ReasonForm,
    TransitionButton,
    TransitionButtonsMixin,
)
from ramis.registry import admin as registry_admin
from ramis.registry import services as registry_services
from ramis.registry.models import Role

from . import services
from .models import (
    Appointment,
    Certificate,
    CertificateRequest,
    DocumentRequirement,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    RevocationReason,
    RevocationRequest,
)


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(AuditedAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    """The documents each type asks for are data an SEO reviewer edits (R6): a new or changed
    requirement applies to the drafts' next submit, and every edit is audited (old → new)."""

    list_display = ["title", "code", "applies_to", "required", "on_renewal", "order", "is_active"]
    list_editable = ["required", "on_renewal", "order", "is_active"]
    list_filter = ["applies_to", "required", "is_active"]
    prepopulated_fields = {"code": ["title"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label="دلیل ابطال", choices=RevocationReason.choices)
    note = forms.CharField(label="توضیح", required=False, widget=forms.Textarea(attrs={"rows": 3}))


# FSM transitions as buttons on the admin pages: shown only to a user the transition allows
# (django-fsm's ``permission``), each calling the same service as the staff views.
REQUEST_BUTTONS = (
    TransitionButton("approve", "تأیید درخواست",
                     lambda obj, user, data, ctx: services.request_approve(request_id=obj.pk, actor=user, ctx=ctx)),
    TransitionButton("reject", "رد درخواست",
                     lambda obj, user, data, ctx: services.request_reject(request_id=obj.pk, actor=user,
                                                                          reason=data["reason"], ctx=ctx),
                     form=ReasonForm),
)
CERTIFICATE_BUTTONS = (
    TransitionButton("revoke", "ابطال گواهی",
                     lambda obj, user, data, ctx: services.certificate_revoke(
                         certificate_id=obj.pk, actor=user, reason=data["reason"], note=data["note"], ctx=ctx),
                     form=RevokeForm),
)
REVOCATION_BUTTONS = (
    TransitionButton("confirm", "تأیید و ابطال گواهی",
                     lambda obj, user, data, ctx: services.revocation_confirm(revocation_id=obj.pk, actor=user,
                                                                              ctx=ctx),
                     allowed=lambda obj, user: has_transition_perm(obj.certificate.revoke, user)),
    TransitionButton("reject", "رد درخواست ابطال",
                     lambda obj, user, data, ctx: services.revocation_reject(revocation_id=obj.pk, actor=user,
                                                                             reason=data["reason"], ctx=ctx),
                     form=ReasonForm),
)
class RefundPaidForm(forms.Form):
    bank_ref = forms.CharField(label="شماره پیگیری واریز به متقاضی", max_length=100)


REFUND_BUTTONS = (
    TransitionButton("mark_paid", "ثبت واریز بازپرداخت",
                     lambda obj, user, data, ctx: services.refund_mark_paid(refund_id=obj.pk, actor=user,
                                                                            bank_ref=data["bank_ref"], ctx=ctx),
                     form=RefundPaidForm),
)
ROLE_BUTTONS = (
    TransitionButton("approve", "تأیید معرفی",
                     lambda obj, user, data, ctx: registry_services.role_approve(role_id=obj.pk, actor=user,
                                                                                 ctx=ctx)),
    TransitionButton("reject", "رد معرفی",
                     lambda obj, user, data, ctx: registry_services.role_reject(role_id=obj.pk, actor=user,
                                                                                reason=data["reason"], ctx=ctx),
                     form=ReasonForm),
    TransitionButton("end", "پایان نقش و ابطال گواهی‌های آن",
                     lambda obj, user, data, ctx: services.role_end_with_revocation(role_id=obj.pk, actor=user,
                                                                                    reason=data["reason"], ctx=ctx),
                     form=ReasonForm),
)


@admin.register(CertificateRequest)
class CertificateRequestAdmin(AuditTrailMixin, TransitionButtonsMixin, ReadOnlyAdmin):
    list_display = ["reference", "applicant", "kind", "cert_type", "office", "service_type", "status", "submitted_at"]
    list_filter = ["status", "kind", "cert_type", "office"]
    search_fields = ["applicant__national_code", "applicant__last_name", "role__company__name"]
    list_select_related = ["applicant", "office"]
    transition_buttons = REQUEST_BUTTONS


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "request", "total_rials", "status", "paid_at"]
    list_filter = ["status"]
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "invoice", "backend", "amount_rials", "status", "bank_ref", "created_at"]
    list_filter = ["status", "backend"]


@admin.register(Refund)
class RefundAdmin(AuditTrailMixin, TransitionButtonsMixin, ReadOnlyAdmin):
    """Refunds of cancelled, paid requests: an operator pays them back and records the transfer."""

    list_display = ["pk", "request", "invoice", "amount_rials", "treasury_rials", "office_rials", "status",
                    "created_at", "paid_at"]
    list_filter = ["status"]
    list_select_related = ["request", "invoice"]
    transition_buttons = REFUND_BUTTONS


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["request", "office", "kind", "starts_at", "is_active"]
    list_filter = ["office", "kind", "is_active"]


@admin.register(Certificate)
class CertificateAdmin(AuditTrailMixin, TransitionButtonsMixin, ReadOnlyAdmin):
    list_display = ["serial", "cert_type", "holder", "office", "not_after", "status"]
    list_filter = ["status", "cert_type", "office"]
    search_fields = ["serial", "holder__national_code", "holder__last_name"]
    list_select_related = ["holder", "office"]
    transition_buttons = CERTIFICATE_BUTTONS


@admin.register(RevocationRequest)
class RevocationRequestAdmin(AuditTrailMixin, TransitionButtonsMixin, ReadOnlyAdmin):
    list_display = ["certificate", "reason", "status", "created_at", "decided_at"]
    list_filter = ["status", "reason"]
    list_select_related = ["certificate"]
    transition_buttons = REVOCATION_BUTTONS


# Ending a role revokes the role's certificates: the registry stands before this room and knows
# nothing of certificates, so this room swaps the registry's "end role" action for its own.
@admin.action(description="پایان نقش و ابطال گواهی‌های آن", permissions=["review"])
def end_roles_and_revoke(modeladmin, request, queryset):
    return registry_admin._with_reason(
        modeladmin, request, queryset, services.role_end_with_revocation, "پایان یافت (گواهی‌ها ابطال شد)",
        "پایان نقش و ابطال گواهی‌ها",
    )


admin.site.unregister(Role)


@admin.register(Role)
class RoleAdmin(AuditTrailMixin, TransitionButtonsMixin, registry_admin.RoleAdmin):
    actions = [registry_admin.approve_roles, registry_admin.reject_roles, end_roles_and_revoke]
    transition_buttons = ROLE_BUTTONS
