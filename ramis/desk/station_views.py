"""The clerk's issuing desk: the page where they choose the workstation they sit at (remembered in
their session; station.py reads it back for the issue page)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from ramis.common.context import audit_context

from . import services
from .decorators import clerk_required
from .models import Workstation
from .station import SESSION_KEY, chosen_workstation


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
                                             ctx=audit_context(request))
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
