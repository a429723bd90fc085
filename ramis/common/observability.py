"""A request id on every request and every log line (docs/operator/logs.md).

``RequestIdMiddleware`` takes the ``X-Request-ID`` the proxy sent (nginx's ``$request_id``), when
the request came through our proxies (``client_ip.through_proxies``: ``TRUSTED_PROXY_COUNT`` > 0)
and it is a sane token, or makes one, keeps it for the request (``request.request_id``, and a
context variable the log filter reads), and returns it in the response's ``X-Request-ID``. With
``LOG_FORMAT=json`` (the production default) every log line is one JSON object that carries it.
The audit entries the request writes carry it too (``AuditContext.request_id``): a client
reaching the portal without a proxy cannot choose the id its entries are found by.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished

from .client_ip import through_proxies
from .context import REQUEST_ID_MAX

HEADER = "X-Request-ID"
_META = "HTTP_X_REQUEST_ID"
_SANE = re.compile(rf"[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX}}}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get(_META, "") if through_proxies(request) else ""
        rid = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        request.request_id = rid
        request_id.set(rid)  # cleared when the response is finished: Django logs a 4xx/5xx after us
        response = self.get_response(request)
        response[HEADER] = rid
        return response


def _clear(**kwargs) -> None:
    request_id.set("-")


request_finished.connect(_clear, dispatch_uid="ramis.observability.clear_request_id")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` ("-" outside a request) to every record, for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request and django.server pass the request itself
            record.request_id = getattr(getattr(record, "request", None), "request_id", None) or request_id.get()
        return True
