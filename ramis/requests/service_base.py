"""What the requests room's services share: the domain errors, the request's lock, the applicant's
SMS and the audit entry (services.py, certificate_services.py). The FSM step itself is
``ramis.common.transitions.transition``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied

from ramis.common import audit, notify

from .models import (
    CertificateRequest,
)

logger = logging.getLogger(__name__)
Status = CertificateRequest.Status


class IncompleteRequest(Exception):
    """Final submit refused: ``missing`` lists what is missing, in Persian."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__("; ".join(missing))


class SlotUnavailable(Exception):
    def __init__(self, message: str = "این نوبت دیگر خالی نیست؛ نوبت دیگری انتخاب کنید."):
        self.message = message
        super().__init__(message)


class DomainError(Exception):
    """A refusal with a message for the person (Persian)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _lock_request(request_id: int) -> CertificateRequest:
    return CertificateRequest.objects.select_for_update(of=("self",)).select_related(
        "applicant", "role", "office", "token_model"
    ).get(pk=request_id)


def _sms_applicant(req: CertificateRequest, template: str, **context) -> None:
    notify.send_sms(to=req.applicant.mobile, template=template, context={
        "request": req, "reference": req.reference, "status": req.get_status_display(),
        "base_url": settings.PUBLIC_BASE_URL, **context,
    })


def _record(actor, req, event: str, old: str, *, reason: str = "", extra=None, ctx=None) -> None:
    audit.record(actor=actor, target=req, event=event, old=old, new=req.status, reason=reason, extra=extra,
                 ctx=ctx)


def _require_owner(req: CertificateRequest, actor) -> None:
    if not (actor and req.applicant.user_id == getattr(actor, "pk", None)):
        raise PermissionDenied
