from __future__ import annotations

import datetime as dt

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
