"""The Django admin (OTP-protected) of the complaints room: complaints, read-only (decisions go
through the staff desk)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Complaint


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
