from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from ramis.registry.models import Person, Role

from .models import SMSDevice


def person_for_identity(
    *, national_code: str, birth_date: dt.date, birth_certificate_number: str, mobile: str
) -> Person | None:
    """The person whose four identity fields all match and who has an approved role (R3)."""
    return (
        Person.objects.filter(
            national_code=national_code,
            birth_date=birth_date,
            birth_certificate_number=birth_certificate_number,
            mobile=mobile,
            roles__status=Role.Status.APPROVED,
        )
        .select_related("user")
        .first()
    )


def device_for_national_code(national_code: str) -> SMSDevice | None:
    return (
        SMSDevice.objects.filter(user__person__national_code=national_code, confirmed=True)
        .select_related("user")
        .first()
    )


def name_under_attack(username: str) -> bool:
    """Has ``username`` had, from all addresses together, as many failed logins within the
    cool-off as lock one address out? Lock-outs are per (name, address), so a guesser with many
    addresses is slowed by a captcha instead (the owner too, but never locked out)."""
    from axes.models import AccessAttempt
    from django.db.models import Sum

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
                .aggregate(total=Sum("failures_since_start"))["total"] or 0)
    return failures >= settings.AXES_FAILURE_LIMIT
