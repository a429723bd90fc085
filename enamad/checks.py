from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def loopback_verification_in_production(app_configs, **kwargs):
    """The domain checks may reach this machine's own services only in tests and a local demo."""
    from django.conf import settings

    if settings.ENAMAD_VERIFY_ALLOW_LOOPBACK:
        return [Error("ENAMAD_VERIFY_ALLOW_LOOPBACK is on: a shop's domain could make the verifier fetch this "
                      "machine's own services.", hint="Unset ENAMAD_VERIFY_ALLOW_LOOPBACK (and its old name "
                      "ENAMAD_VERIFY_ALLOW_PRIVATE).", id="enamad.E001")]
    return []
