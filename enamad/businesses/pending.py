"""Corrections that wait on the file: a renewal's changes to the details and the services are
staged in ``Business.pending_changes`` and applied only at final approval (N18, N20)."""

from __future__ import annotations

from enamad.businesses.models import (
    CONTACT_VERIFICATION,
    RENEWAL_FIELDS,
    RENEWAL_SERVICE_FIELDS,
    Business,
    BusinessService,
)


def stage_renewal_changes(business: Business, data: dict) -> list[str]:
    """Put a renewal's corrections of the details aside until final approval (N18, N20): the
    seal page keeps showing what was reviewed. A changed e-mail, phone or address must be
    verified again; the verification of the value in force is kept aside and put back if the
    renewal ends without approval (``Business.suspend``). The caller saves the business."""
    values = dict(business.pending_changes.get("values", {}))
    kept = dict(business.pending_changes.get("kept", {}))
    changed = [name for name in RENEWAL_FIELDS if name in data and business.requested(name) != data[name]]
    for name in changed:
        if data[name] == getattr(business, name):
            values.pop(name, None)
        else:
            values[name] = data[name]
        flag = CONTACT_VERIFICATION.get(name)
        if flag:
            if flag not in kept:
                when = getattr(business, flag)
                kept[flag] = when.isoformat() if when else None
            setattr(business, flag, None)
            if flag == "address_verified_at":
                business.address_code_hash = ""
    business.set_pending(values=values, kept=kept)
    return changed


def stage_service_changes(business: Business, data: dict) -> list[str]:
    """A renewal's corrections of the services and licence wait with the details (README:
    renewal): the file in force keeps what was reviewed, final approval writes them to the
    ``BusinessService``, a renewal that ends without approval drops them. The caller saves."""
    in_force, requested = business.service_in_force(), business.requested_service()
    staged = dict(business.pending_changes.get("service", {}))
    changed = [name for name in RENEWAL_SERVICE_FIELDS if name in data and requested.get(name) != data[name]]
    for name in changed:
        if data[name] == in_force.get(name):
            staged.pop(name, None)
        else:
            staged[name] = data[name]
    business.set_pending(service=staged)
    return changed


def apply_service_changes(business: Business, changes: dict) -> None:
    """Final approval of a renewal: its corrected services and licence go on file."""
    service = BusinessService.objects.select_for_update().get(business=business)
    for name, value in changes.items():
        if name == "category":
            service.category_id = value
        elif name == "licence_file":
            service.licence_file.name = value
        else:
            setattr(service, name, value)
    service.save()
