from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from ramis.common.homes import homes_for
from ramis.registry.models import Person, Role

from .models import SMSDevice


def person_for_identity(
    *, national_code: str, birth_date: dt.date, birth_certificate_number: str, mobile: str
) -> Person | None:
    """The person whose four identity fields all match and who has an approved role (R3)."""
    return (
        Person.objects.filter(
            national_code=national_code,
            birth_date=birth_date,
            birth_certificate_number=birth_certificate_number,
            mobile=mobile,
            roles__status=Role.Status.APPROVED,
        )
        .select_related("user")
        .first()
    )


def device_for_national_code(national_code: str) -> SMSDevice | None:
    return (
        SMSDevice.objects.filter(user__person__national_code=national_code, confirmed=True)
        .select_related("user")
        .first()
    )


def is_admin_user(user) -> bool:
    return user.is_superuser or user.has_perm("registry.review_role")


def staff_landing(user) -> str:
    """Where a staff member lands after login: their one desk (opened on their own tab), or the
    staff home listing each of their desks with its waiting work."""
    homes = homes_for(user)
    if len(homes) == 1 and not is_admin_user(user):
        return homes[0].url
    return reverse("certauth:staff_home")


def certificate_required(user) -> bool:
    """Staff who issue or review (an office clerk, the SEO reviewer) must log in with their
    certificate when CERTAUTH_REQUIRED_FOR_STAFF is on (as careful CAs require of their officers)."""
    if not settings.CERTAUTH_REQUIRED_FOR_STAFF or not user.is_staff:
        return False
    return hasattr(user, "clerk") or user.has_perm("registry.review_role")


def certificate_login_url(target: str, next_url: str = "") -> str:
    """The «ورود با گواهی الکترونیکی» button's address for a login page (CERTAUTH_LOGIN_URL)."""
    base = settings.CERTAUTH_LOGIN_URL or reverse("certauth:certificate_login")
    query = {"for": target, **({"next": next_url} if next_url else {})}
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"
