"""Deployment checks of the desk (``manage.py check --deploy``)."""

from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def token_so_pins_in_production(app_configs, databases=None, **kwargs):
    """In production each office has its own SO PIN for the tokens it initialises
    (``OFFICE_TOKEN_SO_PINS``); the single ``OFFICE_TOKEN_SO_PIN`` is a development fallback and is
    refused (desk.E001). With ``--database default`` the active offices without one are named
    (desk.E002)."""
    from django.conf import settings

    if not settings.PRODUCTION:
        return []
    problems = []
    if settings.OFFICE_TOKEN_SO_PIN:
        problems.append(Error(
            "OFFICE_TOKEN_SO_PIN is set: one SO PIN for every office's tokens, given to every workstation's agent. "
            "Production uses only OFFICE_TOKEN_SO_PINS, one per office.",
            hint="Unset OFFICE_TOKEN_SO_PIN and set OFFICE_TOKEN_SO_PINS=TEH01=…,ISF01=… (office code=SO PIN).",
            id="desk.E001",
        ))
    if databases:
        from django.db import DatabaseError

        from ramis.offices.models import RegistrationOffice

        try:
            codes = list(RegistrationOffice.objects.filter(is_active=True).values_list("code", flat=True))
        except DatabaseError:  # not migrated yet: nothing to name
            codes = []
        missing = sorted(c for c in codes if not settings.OFFICE_TOKEN_SO_PINS.get(c))
        if missing:
            problems.append(Error(
                f"Active offices without an SO PIN in OFFICE_TOKEN_SO_PINS: {', '.join(missing)} "
                "(their clerks cannot initialise a new token).",
                hint="Add CODE=SO PIN for each of them to OFFICE_TOKEN_SO_PINS.",
                id="desk.E002",
            ))
    return problems
