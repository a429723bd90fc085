from django.contrib import admin

from .models import CRL, AuditCheckpoint, AuditKey, CertificateAuthority, IssuedCertificate


class _ReadOnly(admin.ModelAdmin):
    """The CA's rows change only through services (manage.py ca, the request rooms)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CertificateAuthority)
class CertificateAuthorityAdmin(_ReadOnly):
    list_display = ["slug", "subject", "key_type", "not_after", "crl_number"]
    exclude = ["certificate_der", "ocsp_certificate_der"]


@admin.register(IssuedCertificate)
class IssuedCertificateAdmin(_ReadOnly):
    list_display = ["serial_hex", "profile", "subject", "status", "not_after", "revocation_reason"]
    list_filter = ["profile", "status", "revocation_reason"]
    search_fields = ["serial_hex", "subject", "sha256", "request_ref"]
    list_select_related = ["ca"]
    exclude = ["der"]


@admin.register(CRL)
class CRLAdmin(_ReadOnly):
    list_display = ["ca", "number", "this_update", "next_update", "entries"]
    list_select_related = ["ca"]
    exclude = ["der"]


@admin.register(AuditKey)
class AuditKeyAdmin(_ReadOnly):
    list_display = ["key_label", "token_label", "sha256", "created_at"]
    exclude = ["public_key_der"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(_ReadOnly):
    list_display = ["length", "head_hash", "created_at", "key"]
    list_select_related = ["key"]
    exclude = ["signature"]
