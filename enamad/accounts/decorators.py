"""Who may open an e-Namad page: the applicant with an account, or staff of an e-Namad desk.

Every room's views take their guards from here (nothing imports from a views module); the rooms
after accounts may import it."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from . import selectors

LOGIN_URL = "enamad:login"


def account_required(view):
    """A logged-in e-Namad applicant (username + password)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = selectors.account_for_user(request.user)
        if account is None:
            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL))
        request.account = account
        return view(request, *args, **kwargs)

    return wrapper


def enamad_staff_required(view=None, *, role: str | None = None):
    """Staff who logged in with password + TOTP and hold at least one e-Namad permission; with
    ``role``, one of that part's permissions (``selectors.DESK_ROLES``). Otherwise 403. The page gets
    ``request.desk_roles`` to hide links its user cannot open."""
    if view is None:
        return lambda inner: enamad_staff_required(inner, role=role)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_staff and user.is_verified()):
            return redirect_to_login(request.get_full_path(), reverse("certauth:staff_login"))
        roles = selectors.desk_roles(user)
        if not any(roles.values()) or (role is not None and not roles[role]):
            raise PermissionDenied
        request.desk_roles = roles
        return view(request, *args, **kwargs)

    return wrapper
