"""The clerk's workstation (remembered in their session) and what the issue page shows of it: its
agent's health and, through it, the tokens plugged in. Used by views.py and station_views.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from ramis.common.context import audit_context

from . import services, workstation
from .models import Workstation

SESSION_KEY = "desk_workstation"


@dataclass
class Station:
    """The workstation the clerk chose (if the backend needs one), its backend and health."""

    needed: bool
    workstation: Workstation | None
    backend: workstation.WorkstationTokens
    health: services.Health | None = None
    choices: list[Workstation] = field(default_factory=list)

    @property
    def pk(self) -> int | None:
        return self.workstation.pk if self.workstation else None


def chosen_workstation(request) -> Workstation | None:
    """The session's workstation if it is still an active one of the clerk's office."""
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    return Workstation.objects.active().select_related("office").filter(pk=pk, office=request.office).first()


def station_for(request, *, check: bool) -> Station:
    """The clerk's station; ``check`` pings the agent (time-bounded) for the page."""
    needed = workstation.backend_class().needs_workstation
    ws = chosen_workstation(request) if needed else None
    station = Station(needed=needed, workstation=ws, backend=workstation.get_backend(request.office, ws))
    if needed and ws is None:
        station.choices = list(Workstation.objects.active().filter(office=request.office))
    elif ws is not None and check:
        station.health = services.workstation_check(workstation_obj=ws, actor=request.user, ctx=audit_context(request))
    return station
