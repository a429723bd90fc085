"""The clerk's issuing desk: which workstation they sit at (remembered in their session), and
what the issue page shows of it — its agent's health and, through it, the tokens plugged in."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from . import services, workstation
from .models import Workstation
from .views import clerk_required

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
        station.health = services.workstation_check(workstation_obj=ws, actor=request.user, request=request)
    return station


@clerk_required
def choose(request):
    """GET: the office's active workstations; POST: remember the one the clerk sits at."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    if request.method == "POST":
        try:
            ws = services.workstation_choose(actor=request.user, workstation_id=request.POST.get("workstation"),
                                             request=request)
        except services.DeskError as exc:
            messages.error(request, exc.message)
        else:
            request.session[SESSION_KEY] = ws.pk
            messages.success(request, f"باجهٔ شما: {ws.name}. توکن‌ها از رایانهٔ این باجه خوانده می‌شوند.")
            return redirect(next_url or "desk:queue")
    return render(request, "desk/workstation.html", {
        "office": request.office, "next": next_url, "current": chosen_workstation(request),
        "workstations": Workstation.objects.active().filter(office=request.office),
    })
