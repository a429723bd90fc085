from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def certificates_expiry() -> dict[str, int]:
    """Beat task (hourly): expire what has passed its end date, then remind at 30 and 7 days."""
    expired = services.certificates_expire()
    reminded = services.certificates_remind_expiring()
    return {"expired": expired, "reminded": reminded}
