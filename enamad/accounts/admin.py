"""The Django admin (OTP-protected) of the accounts room: accounts, read-only with their identity
documents, and phone challenges."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Account, IdentityDocument, PhoneChallenge


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


@admin.register(PhoneChallenge)
class PhoneChallengeAdmin(admin.ModelAdmin):
    list_display = ["account", "purpose", "channel", "phone", "created_at", "expires_at", "verified_at"]
    list_filter = ["purpose", "channel"]
    readonly_fields = ["account", "business", "purpose", "channel", "phone", "code", "created_at", "expires_at",
                      "verified_at"]
