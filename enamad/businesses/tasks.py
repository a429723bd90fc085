"""The businesses room's Celery task, queued by its own services (the package's tasks.py re-exports
it for beat's fan-out); thin, it takes an id and calls a service (STYLE 11)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="enamad.tasks.verify_business_domain", ignore_result=True)
def verify_business_domain(business_id: int) -> bool:
    return services.business_verify_domain(business_id=business_id).ok
