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
