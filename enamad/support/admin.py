"""The Django admin (OTP-protected) of the support room: tickets with their messages, read-only
(answers and decisions go through the staff desk)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Ticket, TicketMessage


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
