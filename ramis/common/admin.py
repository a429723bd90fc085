from django.contrib import admin

from .admin_tools import audit_origin, request_entries_link
from .models import ENAMAD_AUDIT_PERMISSION, ENAMAD_EVENT_PREFIX, AuditEntry, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The whole trail, read-only. Each entry says where it came from (address, User-Agent, the
    request id of the log lines); ``?request_id=…`` (or the search box, exactly) lists what one
    request changed.

    Staff with ``common.view_auditentry`` (the SEO's reviewers) read all of it; staff with only
    ``common.view_enamad_auditentry`` (e-Namad's managers) read e-Namad's part — its events,
    ``enamad.*`` — and nothing of the CA's, the offices' or the applicants': the list, its filters,
    a request's entries and each entry's page are cut to that part."""

    @staticmethod
    def _whole_trail(request) -> bool:
        return request.user.has_perm("common.view_auditentry")

    def has_view_permission(self, request, obj=None):
        if super().has_view_permission(request, obj):
            return True
        return request.user.has_perm(f"common.{ENAMAD_AUDIT_PERMISSION}") and (
            obj is None or obj.event.startswith(ENAMAD_EVENT_PREFIX))

    def get_queryset(self, request):
        entries = super().get_queryset(request)
        return entries if self._whole_trail(request) else entries.filter(event__startswith=ENAMAD_EVENT_PREFIX)

    list_display = ["seq", "created_at", "event", "target_type", "target_id", "old", "new", "actor_repr", "origin"]
    list_filter = ["event", "target_type"]
    search_fields = ["target_id", "target_repr", "actor_repr", "event", "=request_id"]
    fields = ["seq", "created_at", "event", "target_type", "target_id", "target_repr", "old", "new", "reason",
              "extra", "actor", "actor_repr", "ip", "user_agent", "request_entries", "prev_hash", "entry_hash"]
    readonly_fields = ["request_entries"]

    @admin.display(description="از کجا")
    def origin(self, obj):
        return audit_origin(obj)

    @admin.display(description="شناسه درخواست")
    def request_entries(self, obj):
        return request_entries_link(obj.request_id, full=True)


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
