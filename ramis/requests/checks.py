from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def sandbox_payments_in_production(app_configs, **kwargs):
    from .payments import sandbox_refused

    if sandbox_refused():
        return [Error(
            "PAYMENT_BACKEND is the sandbox gateway, which lets anyone mark an invoice paid.",
            hint="Set PAYMENT_BACKEND to the bank backend (or PAYMENT_ALLOW_SANDBOX=1 on a staging server).",
            id="ramis.E001",
        )]
    return []


@register(Tags.security, deploy=True)
def bank_gateway_configured(app_configs, **kwargs):
    """The bank backend needs its package, a merchant code, and a bank it can reach over HTTPS
    (``BANK_BASE_URL`` is for the development stand-in bank only); the further hosts its forms
    may reach (``BANK_FORM_ACTION``) are HTTPS origins."""
    from urllib.parse import urlsplit

    from django.conf import settings

    from ramis.common.csp import origin

    if not settings.PAYMENT_BACKEND.endswith("AzBankGatewaysBackend"):
        return []
    errors = []
    gateway = getattr(settings, "AZ_IRANIAN_BANK_GATEWAYS", {}).get("GATEWAYS", {}).get(settings.BANK_GATEWAY)
    if "azbankgateways" not in settings.INSTALLED_APPS or gateway is None:
        return [Error("PAYMENT_BACKEND is the bank backend but az-iranian-bank-gateways is not installed.",
                      hint="pip install '.[bank]'", id="ramis.E002")]
    if not gateway.get("MERCHANT_CODE"):
        errors.append(Error(f"BANK_MERCHANT_CODE is empty for the {settings.BANK_GATEWAY} gateway.",
                            hint="Set BANK_MERCHANT_CODE (and the other BANK_* values the bank asks for).",
                            id="ramis.E003"))
    base = settings.BANK_BASE_URL
    if base:
        parts = urlsplit(base)
        if parts.scheme != "https" or parts.hostname in {"127.0.0.1", "localhost", "::1"}:
            errors.append(Error(f"BANK_BASE_URL={base} is not a bank reached over HTTPS (the stand-in bank?).",
                                hint="Leave BANK_BASE_URL unset in production: the gateway's own address is used.",
                                id="ramis.E004"))
    for entry in settings.BANK_FORM_ACTION:  # form-action sources: https origins, nothing wider
        if not entry.startswith("https://") or "*" in entry or origin(entry) != entry:
            errors.append(Error(f"BANK_FORM_ACTION entry {entry!r} is not an HTTPS origin.",
                                hint="List origins only, e.g. https://ipg.bank.example (no path, no wildcard).",
                                id="ramis.E005"))
    return errors
