"""The write path for issuing desks: workstations and their token agents (issue 5) — registering
one, its agent's secret, the clerk's choice of desk and the agent's health check. services.py
re-exports these names."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ramis.common import audit
from tokens import TokenError

from .errors import DeskError
from .models import Workstation


def _require_perm(actor, perm: str) -> None:
    """``actor=None`` is the operator at ``manage.py workstation``; anyone else needs ``perm``."""
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied


def _new_agent_secret() -> str:
    return secrets.token_hex(32)


def _check_agent_url(url: str) -> str:
    from urllib.parse import urlsplit

    from django.core.validators import URLValidator

    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DeskError("نشانی نرم‌افزار توکن باید نشانی کامل https://… باشد.", "agent_url") from None
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        raise DeskError("نشانی نرم‌افزار توکن روی شبکه باید https باشد (رمز توکن از آن می‌گذرد).", "agent_url")
    return url


@transaction.atomic
def workstation_add(*, actor, office_id: int, name: str, agent_url: str, ctx=None) -> tuple[Workstation, str]:
    """Register an issuing desk and make its agent's secret; returns ``(workstation, secret)``.
    The secret is shown to the operator this once and stored sealed."""
    _require_perm(actor, "desk.add_workstation")
    name = name.strip()
    if not name:
        raise DeskError("نام باجه را بنویسید.", "name")
    if Workstation.objects.filter(office_id=office_id, name=name).exists():
        raise DeskError("باجه‌ای با این نام در این دفتر هست.", "name")
    ws = Workstation.objects.create(office_id=office_id, name=name, agent_url=_check_agent_url(agent_url))
    secret = _new_agent_secret()
    ws.seal_secret(secret)
    ws.save(update_fields=["secret_sealed", "secret_set_at"])
    audit.record(actor=actor, target=ws, event="workstation.added", new="active", ctx=ctx,
                 extra={"office": ws.office.code, "name": ws.name, "url": ws.agent_url})
    return ws, secret


@transaction.atomic
def workstation_rotate_secret(*, actor, workstation_id: int, ctx=None) -> str:
    """A new secret for the workstation's agent (the old one stops working at once)."""
    _require_perm(actor, "desk.change_workstation")
    ws = Workstation.objects.select_for_update().get(pk=workstation_id)
    secret = _new_agent_secret()
    ws.seal_secret(secret)
    ws.save(update_fields=["secret_sealed", "secret_set_at"])
    audit.record(actor=actor, target=ws, event="workstation.secret_rotated", ctx=ctx,
                 extra={"office": ws.office.code, "name": ws.name})
    return secret


@transaction.atomic
def workstation_update(*, actor, workstation_id: int, name: str | None = None, agent_url: str | None = None,
                       is_active: bool | None = None, ctx=None) -> Workstation:
    """Rename, move or (de)activate a workstation; audited with what changed."""
    _require_perm(actor, "desk.change_workstation")
    ws = Workstation.objects.select_for_update().get(pk=workstation_id)
    was_active, changes = ws.is_active, {}
    if name is not None and name.strip() != ws.name:
        if Workstation.objects.filter(office_id=ws.office_id, name=name.strip()).exclude(pk=ws.pk).exists():
            raise DeskError("باجه‌ای با این نام در این دفتر هست.", "name")
        changes["name"] = [ws.name, name.strip()]
        ws.name = name.strip()
    if agent_url is not None and agent_url.strip() != ws.agent_url:
        changes["agent_url"] = [ws.agent_url, _check_agent_url(agent_url)]
        ws.agent_url = agent_url.strip()
    if is_active is not None and is_active != ws.is_active:
        changes["is_active"] = [ws.is_active, is_active]
        ws.is_active = is_active
    if changes:
        ws.save(update_fields=["name", "agent_url", "is_active"])
        event = "workstation.disabled" if changes.get("is_active") == [True, False] else "workstation.changed"
        audit.record(actor=actor, target=ws, event=event, old="active" if was_active else "inactive",
                     new="active" if ws.is_active else "inactive", ctx=ctx,
                     extra={"office": ws.office.code, "changes": changes})
    return ws


def workstation_choose(*, actor, workstation_id, ctx=None) -> Workstation:
    """The clerk says which desk they sit at: an active workstation of their own office.
    (The view remembers it in the clerk's session.)"""
    from ramis.offices.selectors import office_of_clerk

    office = office_of_clerk(actor)
    if office is None:
        raise PermissionDenied
    try:
        ws = Workstation.objects.active().select_related("office").get(pk=int(workstation_id), office=office)
    except (Workstation.DoesNotExist, ValueError, TypeError):
        raise DeskError("این باجه از باجه‌های فعال دفتر شما نیست.", "workstation") from None
    audit.record(actor=actor, target=ws, event="workstation.chosen", ctx=ctx,
                 extra={"office": office.code, "name": ws.name})
    return ws


@dataclass
class Health:
    """What the issue page shows of the chosen workstation's agent."""

    ok: bool
    message: str
    detail: dict


def workstation_check(*, workstation_obj: Workstation, actor=None, ctx=None) -> Health:
    """Ping the workstation's agent (signed both ways, ``OFFICE_AGENT_PING_TIMEOUT_SECONDS``) and
    record when it was last seen. Audited only when the answer changes (answers ↔ does not), so a
    page view is not an audit row."""
    from .agent import AgentTokens  # a workstation is reached through its agent, whatever the backend

    backend = AgentTokens.for_office(workstation_obj.office, workstation_obj)
    started = time.monotonic()
    try:
        answer = backend.ping()
    except TokenError as exc:
        health = Health(False, exc.message_fa, {"error": str(exc)[:500]})
    else:
        rtt = round((time.monotonic() - started) * 1000)
        skew = round(float(answer.get("time", time.time())) - time.time(), 1)
        health = Health(True, "نرم‌افزار توکن این باجه پاسخ می‌دهد.",
                        {"rtt_ms": rtt, "clock_skew_s": skew, "module": str(answer.get("module", ""))})
    now = timezone.now()
    with transaction.atomic():
        ws = Workstation.objects.select_for_update().get(pk=workstation_obj.pk)
        was = ws.answers if ws.last_checked_at else None
        ws.last_checked_at = now
        if health.ok:
            ws.last_seen_at, ws.last_error = now, ""
        else:
            ws.last_error = health.detail["error"]
        ws.save(update_fields=["last_checked_at", "last_seen_at", "last_error"])
        if was is not health.ok:
            audit.record(actor=actor, target=ws, event="workstation.health", ctx=ctx,
                         old="" if was is None else ("answers" if was else "unreachable"),
                         new="answers" if health.ok else "unreachable", extra=health.detail)
    workstation_obj.last_checked_at, workstation_obj.last_seen_at = ws.last_checked_at, ws.last_seen_at
    workstation_obj.last_error = ws.last_error
    return health
