from __future__ import annotations

from .models import Clerk, RegistrationOffice


def office_of_clerk(user) -> RegistrationOffice | None:
    """The office a staff user works at as a clerk, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    clerk = Clerk.objects.filter(user=user).select_related("office").first()
    return clerk.office if clerk else None


def is_clerk_of(user, office_id: int | None) -> bool:
    if office_id is None or not getattr(user, "is_authenticated", False) or not user.is_staff:
        return False
    return Clerk.objects.filter(user=user, office_id=office_id).exists()
