"""Queue SMS and e-mail from a service: written to the outbox in the caller's transaction,
delivered by a Celery task after commit (X3, STYLE 2)."""

from __future__ import annotations

from django.db import transaction
from django.template import Context
from django.template.loader import get_template

from .models import OutboxMessage


def _schedule(message: OutboxMessage) -> None:
    from .tasks import deliver_message

    # robust: a broker outage must not turn the caller's page into an error; the message is in
    # the outbox and outbox_retry_pending sends it when the broker is back.
    transaction.on_commit(lambda: deliver_message.delay(message.pk), robust=True)


def _text(name: str, context: dict) -> str:
    """A message template rendered as plain text: no HTML escaping (an SMS or e-mail body shows a
    reviewer's «A & B» as written, not as ``A &amp; B``); the pages that show a message escape it there."""
    return get_template(name).template.render(Context(context, autoescape=False))


def _render(template: str, context: dict, secrets: tuple[str, ...]) -> tuple[str, str]:
    """The text, and (when ``secrets`` names context keys, e.g. a one-time code) the same text
    with them masked: the copy the outbox keeps once the message is sent."""
    body = _text(f"notifications/{template}.txt", context).strip()
    redacted = ""
    if secrets:
        masked = {**context, **dict.fromkeys(secrets, "••••••")}
        redacted = _text(f"notifications/{template}.txt", masked).strip()
    return body, redacted


def send_sms(*, to: str, template: str, context: dict | None = None, secrets: tuple[str, ...] = ()) -> OutboxMessage:
    """Render ``notifications/<template>.txt`` and queue it for ``to``. Context keys named in
    ``secrets`` (a login code) are masked in the copy the outbox keeps after sending."""
    body, redacted = _render(template, context or {}, secrets)
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.SMS, to=to, body=body, redacted_body=redacted, template=template
    )
    _schedule(message)
    return message


def _subject(template: str, context: dict, secrets: tuple[str, ...]) -> str:
    """``notifications/<template>_subject.txt`` on one line. Rendered with the secrets masked: the
    subject is kept in the outbox as it is, so it must never carry a code."""
    masked = {**context, **dict.fromkeys(secrets, "••••••")}
    text = _text(f"notifications/{template}_subject.txt", masked)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def send_email(*, to: str, template: str, context: dict | None = None,
               secrets: tuple[str, ...] = ()) -> OutboxMessage:
    """Like ``send_sms``, with the subject from ``notifications/<template>_subject.txt`` (same
    context); ``secrets`` (an e-mailed code) are masked likewise."""
    context = context or {}
    body, redacted = _render(template, context, secrets)
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL, to=to, subject=_subject(template, context, secrets), body=body,
        redacted_body=redacted, template=template,
    )
    _schedule(message)
    return message
