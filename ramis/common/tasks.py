from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import audit, services
from .models import OutboxMessage
from .sms import DeliveryError

MAX_ATTEMPTS = 8


@shared_task(bind=True, max_retries=5, ignore_result=True)
def deliver_message(self, message_id: int) -> None:
    try:
        services.outbox_deliver(message_id=message_id)
    except DeliveryError as exc:
        if self.request.is_eager:
            return  # in-process: never block the page; outbox_retry_pending picks it up
        countdown = min(600, settings.OUTBOX_RETRY_BASE_SECONDS * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(ignore_result=True)
def outbox_retry_pending() -> int:
    """Beat task: re-send what is still queued or failed (a message is never lost); login codes
    too old to be of use are masked instead."""
    if not settings.OUTBOX_KEEP_SECRETS:
        services.outbox_redact_stale()
    cutoff = timezone.now() - timedelta(minutes=1)
    ids = list(
        OutboxMessage.objects.filter(
            status__in=[
                OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED, OutboxMessage.Status.SENDING,
            ],
            attempts__lt=MAX_ATTEMPTS,
            created_at__lt=cutoff,
        ).exclude(last_error="expired before delivery").values_list("id", flat=True)[:500]
    )
    for message_id in ids:
        deliver_message.delay(message_id)
    return len(ids)


@shared_task(ignore_result=True)
def audit_seal() -> int:
    """Beat: seal the audit entries no writer's after-commit hook sealed (docs/operator/audit.md)."""
    return audit.seal(wait=True)
