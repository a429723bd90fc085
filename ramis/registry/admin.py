from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from ramis.common import audit
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import validate_upload

from . import services
from .models import Company, Person, Role, SEODepartment


class ReasonForm(forms.Form):
    reason = forms.CharField(label="دلیل", widget=forms.Textarea(attrs={"rows": 3}))


def _run(modeladmin, request, queryset, service, label, **kwargs):
    done = 0
    for role in queryset:
        try:
            service(role_id=role.pk, actor=request.user, ctx=audit_context(request), **kwargs)
            done += 1
        except InvalidTransition as exc:
            modeladmin.message_user(request, f"{role}: {exc.message}", messages.ERROR)
        except PermissionDenied:
            modeladmin.message_user(request, "اجازه این کار را ندارید.", messages.ERROR)
            return
    if done:
        modeladmin.message_user(request, f"{done} معرفی {label}.", messages.SUCCESS)


def _with_reason(modeladmin, request, queryset, service, label, title):
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        if form.is_valid():
            _run(modeladmin, request, queryset, service, label, reason=form.cleaned_data["reason"])
            return None
    else:
        form = ReasonForm()
    return render(request, "admin/registry/role/reason.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "form": form, "queryset": queryset,
        "action": request.POST.get("action"), "opts": modeladmin.model._meta,
    })


@admin.action(description="تأیید معرفی‌های انتخاب‌شده", permissions=["review"])
def approve_roles(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.role_approve, "تأیید شد")


@admin.action(description="رد معرفی‌های انتخاب‌شده", permissions=["review"])
def reject_roles(modeladmin, request, queryset):
    return _with_reason(modeladmin, request, queryset, services.role_reject, "رد شد", "رد معرفی")


@admin.action(description="پایان نقش", permissions=["review"])
def end_roles(modeladmin, request, queryset):
    return _with_reason(modeladmin, request, queryset, services.role_end, "پایان یافت", "پایان نقش")


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["person", "company", "position", "has_signing_authority", "introduction_letter", "letter_number"]

    def clean_introduction_letter(self):
        letter = self.cleaned_data.get("introduction_letter")
        if letter and hasattr(letter, "content_type"):  # a new upload, not the stored file
            validate_upload(letter)
        return letter


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["person", "company", "position", "has_signing_authority", "status", "created_at"]
    list_filter = ["status", "position", "company__seo_department"]
    search_fields = ["person__national_code", "person__last_name", "company__name", "company__national_id"]
    list_select_related = ["person", "company"]
    autocomplete_fields = ["person", "company"]
    readonly_fields = ["status", "decided_by", "decided_at", "decision_reason", "letter_link"]
    actions = [approve_roles, reject_roles, end_roles]
    # Once reviewed, who the role is for and what it allows can no longer be edited: a change of
    # role is a new introduction (R21), reviewed again.
    frozen_after_review = ["person", "company", "position", "has_signing_authority", "introduction_letter",
                           "letter_number"]

    def has_review_permission(self, request):
        return request.user.has_perm("registry.review_role")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Role.Status.PENDING:
            fields += self.frozen_after_review
        return fields

    @admin.display(description="معرفی‌نامه")
    def letter_link(self, obj):
        if not obj.pk or not obj.introduction_letter:
            return "—"
        return format_html('<a href="{}" target="_blank">مشاهده</a>',
                           reverse("registry:introduction_letter", args=[obj.pk]))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, target=obj, event="role.edited" if change else "role.introduced",
                     new=obj.status, extra={"fields": sorted(form.changed_data)}, ctx=audit_context(request))


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["national_code", "first_name", "last_name", "mobile"]
    search_fields = ["national_code", "first_name", "last_name", "mobile"]
    readonly_fields = ["user"]

    def save_model(self, request, obj, form, change):
        """Identity fields decide who may log in (R3): every change is audited, old and new."""
        old = {}
        if change:
            before = Person.objects.get(pk=obj.pk)
            old = {name: str(getattr(before, name)) for name in form.changed_data}
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, target=obj, event="person.edited" if change else "person.created",
                     extra={"changes": {name: [old.get(name, ""), str(getattr(obj, name))]
                                        for name in form.changed_data}}, ctx=audit_context(request))


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "national_id", "seo_department"]
    search_fields = ["name", "national_id"]
    list_filter = ["seo_department"]


@admin.register(SEODepartment)
class SEODepartmentAdmin(admin.ModelAdmin):
    search_fields = ["name"]
