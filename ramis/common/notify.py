"""Queue SMS and e-mail from a service: written to the outbox in the caller's transaction,
delivered by a Celery task after commit (X3, STYLE 2)."""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string

from .models import OutboxMessage


def _schedule(message: OutboxMessage) -> None:
    from .tasks import deliver_message

    transaction.on_commit(lambda: deliver_message.delay(message.pk))


def send_sms(*, to: str, template: str, context: dict | None = None) -> OutboxMessage:
    """Render ``notifications/<template>.txt`` and queue it for ``to``."""
    body = render_to_string(f"notifications/{template}.txt", context or {}).strip()
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.SMS, to=to, body=body, template=template
    )
    _schedule(message)
    return message


def send_email(*, to: str, subject: str, template: str, context: dict | None = None) -> OutboxMessage:
    body = render_to_string(f"notifications/{template}.txt", context or {}).strip()
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL, to=to, subject=subject, body=body, template=template
    )
    _schedule(message)
    return message
