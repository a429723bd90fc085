"""One state change, the same way in every room (STYLE 2, docs/developer/architecture.md, "The write path").

A service, inside its transaction, locks the row (:func:`lock`), then :func:`transition` checks
that the FSM allows the step (``can_proceed``) and that the actor may take it
(``has_transition_perm``), takes it, sets the fields that go with it, saves and appends the audit
entry. What a room does around that (an SMS, a signal, an OCSP refresh) stays in its service.

Callers that save and audit themselves (because more fields or a richer entry follow the step)
pass ``save=False`` and no ``event``: the helper then only checks and steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django_fsm import can_proceed, has_transition_perm

from . import audit
from .errors import InvalidTransition


def lock(model_or_queryset, *, of: tuple[str, ...] = (), **lookup) -> models.Model:
    """The row, locked until the end of the transaction (``SELECT … FOR UPDATE``). ``of``
    names what to lock (``("self",)``) when the queryset joins a nullable relation: PostgreSQL
    refuses to lock the nullable side of an outer join."""
    queryset = model_or_queryset if isinstance(model_or_queryset, models.QuerySet) else model_or_queryset.objects
    return queryset.select_for_update(of=of).get(**lookup)


def transition(
    obj: models.Model,
    name: str,
    *,
    actor,
    check_perm: bool = True,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    message: str | None = None,
    fields: Mapping[str, Any] | None = None,
    save: bool = False,
    event: str = "",
    reason: str = "",
    extra: dict[str, Any] | None = None,
    state_field: str = "status",
    ctx=None,
) -> str:
    """Take transition ``name`` on a locked ``obj``; returns the state it left.

    Refuses with :class:`InvalidTransition` (``message`` for the user, if given) when the FSM does
    not allow it from the current state, and with ``PermissionDenied`` when ``check_perm`` and the
    actor lacks the transition's permission. ``args``/``kwargs`` go to the transition method;
    ``fields`` are set on ``obj`` after it; ``save`` saves the row; ``event`` appends the audit
    entry (old → new state, ``reason``, ``extra``, the request's ``ctx``).
    """
    method = getattr(obj, name)
    if not can_proceed(method):
        raise InvalidTransition(obj, name, message)
    if check_perm and not has_transition_perm(method, actor):
        raise PermissionDenied
    old = getattr(obj, state_field)
    method(*args, **(kwargs or {}))
    for field, value in (fields or {}).items():
        setattr(obj, field, value)
    if save:
        obj.save()
    if event:
        audit.record(actor=actor, target=obj, event=event, old=old, new=getattr(obj, state_field), reason=reason,
                     extra=extra, ctx=ctx)
    return old
