from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def applicant_required(view):
    """A logged-in applicant whose SMS code was verified in this session."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_verified()):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not hasattr(user, "person"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """Staff who logged in with password and TOTP in this session."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_staff and user.is_verified()):
            return redirect_to_login(request.get_full_path(), "certauth:staff_login")
        return view(request, *args, **kwargs)

    return wrapper
