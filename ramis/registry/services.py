from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from ramis.common import audit
from ramis.common.errors import InvalidTransition

from .models import Role


def _decide(*, role_id: int, actor, transition: str, event: str, reason: str = "", request=None) -> Role:
    role = Role.objects.select_for_update().get(pk=role_id)
    method = getattr(role, transition)
    if not can_proceed(method):
        raise InvalidTransition(role, transition)
    if not has_transition_perm(method, actor):
        raise PermissionDenied
    old = role.status
    method()
    role.decided_by = actor
    role.decided_at = timezone.now()
    role.decision_reason = reason
    role.save()
    audit.record(actor=actor, target=role, event=event, old=old, new=role.status, reason=reason, request=request)
    return role


@transaction.atomic
def role_approve(*, role_id: int, actor, request=None) -> Role:
    return _decide(role_id=role_id, actor=actor, transition="approve", event="role.approved", request=request)


@transaction.atomic
def role_reject(*, role_id: int, actor, reason: str, request=None) -> Role:
    if not reason.strip():
        raise InvalidTransition(None, "reject", "دلیل رد معرفی را بنویسید.")
    return _decide(role_id=role_id, actor=actor, transition="reject", event="role.rejected", reason=reason,
                   request=request)


@transaction.atomic
def role_end(*, role_id: int, actor, reason: str = "", request=None) -> Role:
    """End an approved role. The certificates bound to it are revoked by the caller's room
    (requests), which stands after the CA; the registry knows nothing of certificates."""
    return _decide(role_id=role_id, actor=actor, transition="end", event="role.ended", reason=reason,
                   request=request)
