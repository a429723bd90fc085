"""The messages a person was sent (issue 13, item 10): one selector and one card per message, shared
by the RAMIS applicant's panel and the e-Namad owner's panel (templates/components/message_list.html).

A message belongs to a person when it went to an address that is theirs: the caller (each panel's
selector) passes only addresses the person proved to receive (the mobile the office registered or the
owner verified by SMS, the e-mail they activated or confirmed with a code), so typing someone else's
number or address never opens that person's messages here.

The page must not become a way to read a secret: a message that carried a one-time code shows the
outbox's masked copy (``redacted_body``), and, should that copy be missing, codes and links that act
on their own (activation, e-mail confirmation, password reset) are masked here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from .models import OutboxMessage

MASK = "••••••"
# Templates whose text carries a one-time code, and those whose link is itself the secret.
CODE_TEMPLATES = frozenset({"login_code", "request_email_code", "enamad_domain_code"})
LINK_TEMPLATES = frozenset({"enamad_activation", "enamad_business_email", "enamad_password_reset"})
LINK_MASK = "«پیوند محرمانه؛ فقط در خود پیام»"
_CODE = re.compile(r"(?<![\w/.-])[0-9۰-۹٠-٩]{4,8}(?![\w/.-])")
_LINK = re.compile(r"https?://\S+")
_SECRET_PATH = re.compile(r"/(activate|confirm-email|reset|password-reset)/", re.IGNORECASE)

STATE_WORDS = {
    OutboxMessage.Status.SENT: "ارسال شد",
    OutboxMessage.Status.QUEUED: "در انتظار ارسال",
    OutboxMessage.Status.SENDING: "در انتظار ارسال",
    OutboxMessage.Status.FAILED: "ارسال نشد",
}
EXPIRED = "expired before delivery"


def messages_to(*, mobiles: Iterable[str] = (), emails: Iterable[str] = ()) -> QuerySet[OutboxMessage]:
    """SMS sent to ``mobiles`` and e-mails sent to ``emails`` (case aside), newest first. No address,
    no messages."""
    mobiles = sorted({m.strip() for m in mobiles if m and m.strip()})
    emails = sorted({e.strip().lower() for e in emails if e and e.strip()})
    wanted = Q(pk__in=[])
    if mobiles:
        wanted |= Q(channel=OutboxMessage.Channel.SMS, to__in=mobiles)
    for address in emails:
        wanted |= Q(channel=OutboxMessage.Channel.EMAIL, to__iexact=address)
    return (OutboxMessage.objects.filter(wanted)
            .only("pk", "channel", "to", "subject", "body", "redacted_body", "template", "status",
                  "last_error", "created_at", "sent_at")
            .order_by("-created_at", "-pk"))


def safe_text(message: OutboxMessage) -> str:
    """The text as the person may read it again here: secrets masked."""
    text = message.redacted_body or message.body
    if message.template in CODE_TEMPLATES and not message.redacted_body:
        text = _CODE.sub(MASK, text)

    def _link(match: re.Match) -> str:
        url = match.group(0)
        secret = message.template in LINK_TEMPLATES or _SECRET_PATH.search(url)
        return LINK_MASK if secret else url

    return _LINK.sub(_link, text)


def state_words(message: OutboxMessage) -> str:
    words = STATE_WORDS.get(message.status, "در انتظار ارسال")
    if message.status == OutboxMessage.Status.FAILED:
        words += "؛ اعتبار کد پیش از ارسال گذشت" if message.last_error == EXPIRED else "؛ دوباره تلاش می‌کنیم"
    return words


@dataclass(frozen=True)
class MessageCard:
    """One message as its card shows it."""

    pk: int
    channel: str
    channel_label: str
    to: str
    subject: str
    text: str
    status: str
    state: str
    created_at: datetime
    sent_at: datetime | None


def cards(messages: Iterable[OutboxMessage]) -> list[MessageCard]:
    return [
        MessageCard(pk=m.pk, channel=m.channel, channel_label=m.get_channel_display(), to=m.to,
                    subject=m.subject, text=safe_text(m), status=m.status, state=state_words(m),
                    created_at=m.created_at, sent_at=m.sent_at)
        for m in messages
    ]
