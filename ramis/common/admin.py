from django.contrib import admin

from .models import AuditEntry, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "event", "target_type", "target_id", "old", "new", "actor_repr"]
    list_filter = ["event", "target_type"]
    search_fields = ["target_id", "target_repr", "actor_repr", "event"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "to", "status", "attempts", "template"]
    exclude = ["body", "redacted_body"]
    readonly_fields = ["text"]

    @admin.display(description="متن")
    def text(self, obj):
        return obj.redacted_body or obj.body  # staff never read a login code
    list_filter = ["channel", "status"]
    search_fields = ["to"]
