"""Celery tasks: thin, they take ids and call a service (STYLE 11)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .businesses.tasks import verify_business_domain
from .complaints import services as complaint_services
from .models import Business, BusinessStatus
from .seals import control as seal_control
from .seals import monitoring
from .seals import services as seal_services
from .support import services as support_services


@shared_task(ignore_result=True)
def verify_pending_domains() -> int:
    """Beat: check every business with the applicant (draft or deficient) whose domain is not
    verified yet and was entered or changed in the last week (N7)."""
    since = timezone.now() - timedelta(days=7)
    ids = list(Business.objects.filter(status__in=(BusinessStatus.DRAFT, BusinessStatus.DEFICIENT), domain_verified_at__isnull=True,
                                       domain_changed_at__gte=since)
               .order_by("-domain_changed_at").values_list("pk", flat=True)[:200])
    for business_id in ids:
        verify_business_domain.delay(business_id)
    return len(ids)


@shared_task(ignore_result=True)
def expire_seals() -> int:
    return seal_services.seals_expire_due()


@shared_task(ignore_result=True)
def monitor_dispatch() -> int:
    """Beat: claim the seals whose re-check is due (N21) and queue them in bounded batches
    (``monitor_batch``); returns how many were queued."""
    ids = seal_control.seals_claim_due(settings.ENAMAD_MONITOR_DISPATCH_LIMIT)
    size = settings.ENAMAD_MONITOR_BATCH_SIZE
    for start in range(0, len(ids), size):
        monitor_batch.delay(ids[start:start + size])
    return len(ids)


@shared_task(ignore_result=True)
def monitor_batch(seal_ids: list[int]) -> int:
    return monitoring.run_batch(seal_ids).checked


@shared_task(ignore_result=True)
def expiry_reminders() -> int:
    return seal_services.seals_remind_expiry()


@shared_task(ignore_result=True)
def flag_overdue_complaints() -> int:
    return complaint_services.complaints_flag_overdue()


@shared_task(ignore_result=True)
def close_idle_tickets() -> int:
    return support_services.tickets_close_idle()
