"""Deployment checks of the CA (``manage.py check --deploy``)."""

from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def public_base_url_in_production(app_configs, **kwargs):
    """In production ``PUBLIC_BASE_URL`` is what every certificate names (CRL, OCSP, caIssuers)
    and every SMS links to: a public host name over HTTPS, never the loopback default."""
    from django.conf import settings

    from .builder import is_development_host

    if not settings.PRODUCTION:
        return []
    base = settings.PUBLIC_BASE_URL
    if base.startswith("https://") and not is_development_host(base):
        return []
    return [Error(
        f"PUBLIC_BASE_URL={base} is not a public https:// address (loopback, an IP address or plain HTTP); "
        "certificates would name it and the CA refuses to issue them.",
        hint="Set PUBLIC_BASE_URL to the portal's public address, e.g. https://ra.example.ir.",
        id="ca.E001",
    )]
