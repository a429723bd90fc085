"""The business row's write path shared by every e-Namad room: lock in one order, check,
transition, audit, then tell the holder (STYLE 2)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from enamad.businesses.models import Business
from enamad.businesses.presentation import NEXT_STEP, STATUS_WORDS
from enamad.common import absolute_url
from ramis.common import audit, notify
from ramis.common.transitions import transition


def lock_business(business_id: int) -> Business:
    return Business.objects.select_for_update().select_related("account__user").get(pk=business_id)


def lock_own_business(business_id: int, actor) -> Business:
    business = lock_business(business_id)
    if business.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    return business


def notify_holder(business: Business, *, event: str, reason: str = "", words: str | None = None) -> None:
    account = business.account
    headline, subject, next_step = "", business.get_status_display(), NEXT_STEP.get(business.status, "")
    if (words or event) in STATUS_WORDS:
        headline, subject, next_step = STATUS_WORDS[words or event]
        headline = headline.format(domain=business.domain, reference=business.reference)
    context = {
        "business": business, "status": business.get_status_display(), "next_step": next_step, "headline": headline,
        "reason": reason, "url": absolute_url(reverse("enamad:business", args=[business.pk])), "event": event,
        "subject_words": subject,
    }
    notify.send_sms(to=account.mobile, template="enamad_status", context=context)
    if account.user.email:
        notify.send_email(to=account.user.email, template="enamad_status", context=context)


def business_transition(business: Business, name: str, *, actor, event: str, reason: str = "", ctx=None,
                args: tuple = (), extra: dict | None = None, message: str | None = None,
                words: str | None = None) -> Business:
    pending = {field: [getattr(business, field), value]
               for field, value in business.pending_changes.get("values", {}).items()}
    if business.pending_changes.get("service"):
        in_force = business.service_in_force()
        pending.update({f"service.{field}": [in_force.get(field), value]
                        for field, value in business.pending_changes["service"].items()})
    transition(business, name, actor=actor, check_perm=actor is not None, args=args, message=message,
               fields={"status_changed_at": timezone.now()}, save=True, event=event, reason=reason, extra=extra,
               ctx=ctx)
    if pending and not business.pending_changes:
        # A renewal's corrections were applied (final approval) or dropped (the renewal ended).
        applied = name == "final_approve"
        audit.record(actor=actor, target=business, ctx=ctx,
                     event=f"enamad.business.renewal_changes_{'applied' if applied else 'dropped'}",
                     extra={"changes": pending})
    notify_holder(business, event=event, reason=reason, words=words)
    return business
