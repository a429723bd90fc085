"""Reads about the CA that later rooms share: which tokens are the system's own (the root and
issuing CAs', the TSA's, the audit anchor's), so that no clerk is ever offered one of them as a
holder's token, nor can write a holder's key onto one."""

from __future__ import annotations

from django.conf import settings

from tokens import TokenInfo

from .models import AuditKey, CertificateAuthority


def system_token_labels() -> frozenset[str]:
    """The labels the configuration gives the system's own tokens (CA_ROOT, CA_ISSUING, CA_TSA,
    AUDIT_TOKEN), read from settings on every call so that a changed setting takes effect."""
    labels = {settings.CA_ROOT["token"], settings.CA_ISSUING["token"], settings.CA_TSA["token"],
              settings.AUDIT_TOKEN}
    return frozenset(label for label in labels if label)


def system_token_serials() -> frozenset[str]:
    """Serials of the tokens the CAs' and the audit anchor's keys were recorded on."""
    serials = set(CertificateAuthority.objects.values_list("token_serial", flat=True))
    serials.update(AuditKey.objects.values_list("token_serial", flat=True))
    return frozenset(serial for serial in serials if serial)


def without_system_tokens(tokens: list[TokenInfo]) -> list[TokenInfo]:
    """The tokens that are not the system's own (by label, or by a serial a CA or the audit
    anchor was recorded on): the only ones a clerk may pick for a holder."""
    labels, serials = system_token_labels(), system_token_serials()
    return [t for t in tokens if t.label not in labels and t.serial not in serials]


def is_system_token(info: TokenInfo) -> bool:
    """Whether this token is one the system itself uses (the same rule as :func:`without_system_tokens`)."""
    return not without_system_tokens([info])
