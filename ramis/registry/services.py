from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ramis.common import transitions
from ramis.common.errors import InvalidTransition

from .models import Role


def _decide(*, role_id: int, actor, transition: str, event: str, reason: str = "", ctx=None) -> Role:
    role = transitions.lock(Role, pk=role_id)
    transitions.transition(role, transition, actor=actor, save=True, event=event, reason=reason, ctx=ctx,
                           fields={"decided_by": actor, "decided_at": timezone.now(), "decision_reason": reason})
    return role


@transaction.atomic
def role_approve(*, role_id: int, actor, ctx=None) -> Role:
    return _decide(role_id=role_id, actor=actor, transition="approve", event="role.approved", ctx=ctx)


@transaction.atomic
def role_reject(*, role_id: int, actor, reason: str, ctx=None) -> Role:
    if not reason.strip():
        raise InvalidTransition(None, "reject", "دلیل رد معرفی را بنویسید.")
    return _decide(role_id=role_id, actor=actor, transition="reject", event="role.rejected", reason=reason,
                   ctx=ctx)


@transaction.atomic
def role_end(*, role_id: int, actor, reason: str = "", ctx=None) -> Role:
    """End an approved role. The certificates bound to it are revoked by the caller's room
    (requests), which stands after the CA; the registry knows nothing of certificates."""
    return _decide(role_id=role_id, actor=actor, transition="end", event="role.ended", reason=reason,
                   ctx=ctx)
