"""Deployment checks of the CA (``manage.py check --deploy``)."""

from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def public_urls_in_production(app_configs, **kwargs):
    """In production ``PUBLIC_BASE_URL`` is what every SMS, e-mail and seal snippet links to: a
    public host name over HTTPS. The certificates name ``signing.public_url()`` (``CA_PUBLIC_URL``,
    by default plain HTTP on the same host): a public host name, never loopback or an address."""
    from django.conf import settings

    from .builder import is_development_host
    from .signing import public_url

    if not settings.PRODUCTION:
        return []
    problems = []
    base = settings.PUBLIC_BASE_URL
    if not base.startswith("https://") or is_development_host(base):
        problems.append(Error(
            f"PUBLIC_BASE_URL={base} is not a public https:// address (loopback, an IP address or plain HTTP).",
            hint="Set PUBLIC_BASE_URL to the portal's public address, e.g. https://ra.example.ir.",
            id="ca.E001",
        ))
    ca_base = public_url()
    if is_development_host(ca_base) or not ca_base.startswith(("http://", "https://")):
        problems.append(Error(
            f"The certificates would name {ca_base} (CA_PUBLIC_URL, or PUBLIC_BASE_URL's host) for their CRL and "
            "OCSP: loopback or an IP address, which relying parties cannot reach by name; the CA refuses to issue.",
            hint="Set PUBLIC_BASE_URL (or CA_PUBLIC_URL) to a public host name, e.g. http://ra.example.ir.",
            id="ca.E002",
        ))
    elif ca_base.startswith("https://"):
        problems.append(Warning(
            f"CA_PUBLIC_URL={ca_base} is https://: relying parties fetch CRLs and OCSP over plain HTTP "
            "(RFC 5280 §4.2.1.13, RFC 6960 appendix A), and checking the TLS certificate of the CRL's own "
            "server would need revocation checking of its own.",
            hint="Leave CA_PUBLIC_URL empty (plain http:// on the portal's host) or give an http:// address.",
            id="ca.W001",
        ))
    return problems
