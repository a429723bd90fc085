from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models

from .context import REQUEST_ID_MAX, USER_AGENT_MAX


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> AuditEntryQuerySet:
        return self.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))

    def update(self, **kwargs):  # noqa: ARG002
        raise PermissionDenied("the audit trail is append-only")

    def delete(self):
        raise PermissionDenied("the audit trail is append-only")


ENAMAD_AUDIT_PERMISSION = "view_enamad_auditentry"
ENAMAD_EVENT_PREFIX = "enamad."  # every event e-Namad records (enamad/event_words.py names them)


class AuditEntry(models.Model):
    """One state change: who, what, from, to, why. Append-only and hash-chained (X2).

    A writer inserts the row *unsealed* (no ``seq``, no hashes: no lock, so audited
    transactions never wait on each other). After commit, the sealer
    (:func:`ramis.common.audit.seal`) gives committed rows, in order, their place ``seq``
    in the chain, the previous row's hash and ``entry_hash``, once; nothing changes a sealed
    row. ``entry_hash`` covers the previous hash and this row's content, so editing or
    deleting any sealed row breaks the chain from that row on (``manage.py audit verify``),
    and signed checkpoints of the chain's length and head (``ramis/ca/audit_anchor.py``)
    reveal a truncation or a rewrite with every later hash recomputed.
    """

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # PROTECT: a user with audit entries is deactivated, never deleted
    actor_repr = models.CharField(max_length=200, blank=True)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=300, blank=True)
    event = models.CharField(max_length=100, db_index=True)
    old = models.CharField(max_length=50, blank=True)
    new = models.CharField(max_length=50, blank=True)
    reason = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Where the change came from, besides the address: the client's User-Agent (cut to 300) and the id
    # of the HTTP request, the one its log lines and nginx's access log carry (ramis/common/observability.py).
    # Empty for a task, a command, the system. The database's own default ("") lets a process of the
    # previous release, which does not know them, go on inserting during an upgrade.
    user_agent = models.CharField("مرورگر (User-Agent)", max_length=USER_AGENT_MAX, blank=True, default="",
                                  db_default="")
    request_id = models.CharField("شناسه درخواست", max_length=REQUEST_ID_MAX, blank=True, default="",
                                  db_default="")
    # Set once by the sealer: the place in the chain (1, 2, …), the previous entry's hash and this one's.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            # What the sealer looks for after every commit: the rows not sealed yet.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="common_audit_unsealed"),
            # From a log line to what its request changed (the admin's «every entry of this request»).
            models.Index(fields=["request_id"], condition=~models.Q(request_id=""), name="common_audit_request_id"),
        ]
        verbose_name = "رویداد ممیزی"
        verbose_name_plural = "رد ممیزی"
        # e-Namad's managers read e-Namad's part of the trail (its events, ``enamad.*``), not the CA's
        # and the offices' (applicants, certificates): ramis/common/admin.py scopes the list to it.
        permissions = [(ENAMAD_AUDIT_PERMISSION, "دیدن رد ممیزی اینماد (رویدادهای اینماد)")]

    def __str__(self) -> str:
        return f"{self.event} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("the audit trail is append-only")

    def canonical(self) -> bytes:
        """The bytes ``entry_hash`` is the SHA-256 of: sorted, compact JSON of the previous hash and
        every column of the content.

        ``user_agent`` and ``request_id`` came later (migration 0004) and enter the payload **only
        when not empty**. So an entry without them (every entry sealed before they existed, and a
        task's or command's today) hashes to exactly the bytes it always did, and the chain sealed
        before the migration verifies unchanged, with no version column; an entry with them has them
        in its hash (its keys ``ua`` and ``rid`` are in no older payload, so no two contents share
        bytes). Changing, adding or blanking either on a sealed row breaks its hash like any other
        column. A later optional column follows the same rule."""
        payload = {
            "prev": self.prev_hash,
            "at": self.created_at.isoformat(),
            "actor": self.actor_id,
            "actor_repr": self.actor_repr,
            "target": [self.target_type, self.target_id, self.target_repr],
            "event": self.event,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "extra": self.extra,
            "ip": self.ip,
        }
        if self.user_agent:
            payload["ua"] = self.user_agent
        if self.request_id:
            payload["rid"] = self.request_id
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class OutboxMessage(models.Model):
    """Every SMS and e-mail is written here first, in the caller's transaction, then sent by
    a Celery task after commit; a failing gateway leaves it queued for the retry task (X3)."""

    class Channel(models.TextChoices):
        SMS = "sms", "پیامک"
        EMAIL = "email", "رایانامه"

    class Status(models.TextChoices):
        QUEUED = "queued", "در صف"
        SENDING = "sending", "در حال ارسال"
        SENT = "sent", "ارسال شد"
        FAILED = "failed", "ناموفق"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254, db_index=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # For messages that carry a secret (a login code): the same text with the secret masked.
    # It replaces ``body`` once the message is sent or stale, unless OUTBOX_KEEP_SECRETS.
    redacted_body = models.TextField(blank=True)
    template = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_ref = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "پیام خروجی"
        verbose_name_plural = "صندوق پیام‌های خروجی"

    def __str__(self) -> str:
        return f"{self.channel} → {self.to} ({self.status})"
