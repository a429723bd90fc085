"""Celery tasks: thin, they take ids and call a service (STYLE 11)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Business, BusinessStatus, Seal


@shared_task(ignore_result=True)
def verify_business_domain(business_id: int) -> bool:
    return services.business_verify_domain(business_id=business_id).ok


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
    return services.seals_expire_due()


@shared_task(ignore_result=True)
def refresh_seal_tls(seal_id: int) -> int:
    return services.seal_refresh_tls(seal_id=seal_id).stars


@shared_task(ignore_result=True)
def refresh_all_seal_tls() -> int:
    ids = list(Seal.objects.public().values_list("pk", flat=True))
    for seal_id in ids:
        refresh_seal_tls.delay(seal_id)
    return len(ids)
