"""Who asked, from where: what a service needs of the HTTP request for its audit entry, and no more.

Views build it once (``ctx=audit_context(request)``) and pass it to the service; a service never
sees the ``HttpRequest`` (nor its session, files or body) and can be called the same way from a
view, the admin, a command or a task (``ctx=None``: the system, no address).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client_ip import client_ip

USER_AGENT_MAX = 300
REQUEST_ID_MAX = 128  # the longest X-Request-ID taken from the proxy (observability.RequestIdMiddleware)


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""


def audit_context(request) -> AuditContext | None:
    """The context of ``request`` (``None`` for none): the signed-in user, the client's address as
    the throttles see it (``client_ip``), its User-Agent and the request id of the log lines."""
    if request is None:
        return None
    user = getattr(request, "user", None)
    return AuditContext(
        actor=user if getattr(user, "is_authenticated", False) else None,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        request_id=getattr(request, "request_id", "") or "",
    )


def context_ip(ctx: AuditContext | None) -> str | None:
    return ctx.ip if ctx is not None else None
