"""Who may use the clerk's desk: the decorator its views (views.py, station_views.py) share."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from certauth.decorators import staff_required
from ramis.offices.selectors import office_of_clerk


def clerk_required(view):
    """A clerk (staff, password + TOTP) of an office; ``request.office`` is that office."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        office = office_of_clerk(request.user)
        if office is None:
            raise PermissionDenied
        request.office = office
        return view(request, *args, **kwargs)

    return wrapper
