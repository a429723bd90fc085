from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage
from .sms import DeliveryError, get_backend

logger = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=5)  # a "sending" claim older than this was lost with its worker


def outbox_deliver(*, message_id: int) -> OutboxMessage:
    """Send one queued message. Safe to call twice: a sent message is not sent again.

    The message is claimed with one conditional UPDATE, sent with no transaction open
    (the gateway is network I/O), then marked SENT, or FAILED with the error, to be retried:
    ``DeliveryError`` is raised for the caller's retry policy.
    """
    now = timezone.now()
    claimable = Q(status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED]) | Q(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    )
    claimed = OutboxMessage.objects.filter(claimable, pk=message_id).update(
        status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    message = OutboxMessage.objects.get(pk=message_id)
    if not claimed:
        return message
    try:
        if message.channel == OutboxMessage.Channel.SMS:
            ref = get_backend().send(to=message.to, text=message.body, ref=str(message.pk))
        else:
            EmailMessage(
                subject=message.subject, body=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to],
            ).send()
            ref = ""
    except Exception as exc:  # gateways raise DeliveryError; e-mail backends smtplib/OSError
        error = str(exc) if isinstance(exc, DeliveryError) else f"{exc.__class__.__name__}: {exc}"
        OutboxMessage.objects.filter(pk=message_id).update(
            status=OutboxMessage.Status.FAILED, last_error=error[:500]
        )
        logger.warning("delivery of outbox message %s failed: %s", message_id, error)
        raise DeliveryError(error) from exc
    done = {"status": OutboxMessage.Status.SENT, "sent_at": timezone.now(), "last_error": "", "provider_ref": ref}
    if message.redacted_body and not settings.OUTBOX_KEEP_SECRETS:
        done["body"] = message.redacted_body  # the secret left with the SMS; the outbox forgets it
    OutboxMessage.objects.filter(pk=message_id).update(**done)
    message.refresh_from_db()
    return message


def outbox_redact_stale(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """A login code that could not be sent in time is useless: mask it and stop retrying."""
    stale = OutboxMessage.objects.filter(created_at__lt=timezone.now() - older_than).exclude(redacted_body="")
    stale = stale.exclude(status=OutboxMessage.Status.SENT).exclude(last_error="expired before delivery")
    count = 0
    for message in stale.only("pk", "redacted_body"):
        count += OutboxMessage.objects.filter(pk=message.pk).update(
            body=message.redacted_body, status=OutboxMessage.Status.FAILED, last_error="expired before delivery",
        )
    return count
