"""The one way to write the audit trail (X2)."""

from __future__ import annotations

from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from .client_ip import client_ip
from .models import AuditEntry

GENESIS = "0" * 64
_PG_LOCK_KEY = 7_201_447  # advisory lock that serialises appends so the chain never forks


def record(
    *,
    actor,
    target: models.Model,
    event: str,
    old: str = "",
    new: str = "",
    reason: str = "",
    extra: dict[str, Any] | None = None,
    request=None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        user = actor if getattr(actor, "pk", None) else None
        entry = AuditEntry(
            created_at=timezone.now(),
            actor=user,
            actor_repr=str(actor) if actor is not None else "system",
            target_type=target._meta.label_lower,
            target_id=str(target.pk),
            target_repr=str(target)[:300],
            event=event,
            old=str(old or ""),
            new=str(new or ""),
            reason=reason or "",
            extra=extra or {},
            ip=client_ip(request),
            prev_hash=last or GENESIS,
        )
        entry.entry_hash = entry.compute_hash()
        entry.save()
    return entry


def verify_chain() -> tuple[int, list[str]]:
    """Walk the whole trail; return (entries checked, problems found)."""
    problems: list[str] = []
    expected_prev = GENESIS
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if entry.prev_hash != expected_prev:
            problems.append(f"entry {entry.pk}: previous-hash link broken (a row before it was changed or removed)")
        if entry.compute_hash() != entry.entry_hash:
            problems.append(f"entry {entry.pk}: content does not match its hash (the row was changed)")
        expected_prev = entry.entry_hash
    return count, problems
