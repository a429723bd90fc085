"""A Persian 503 page, never a 500, when PostgreSQL or Redis is down (docs/operator/outages.md).

``OutageMiddleware.process_exception`` answers a view's ``OperationalError`` / ``InterfaceError``
(PostgreSQL gone, or its connection lost), a redis-py ``ConnectionError`` / ``TimeoutError`` or kombu's
``OperationalError`` (the broker);
:func:`server_error` (``handler500``) does the same for those raised outside a view (a session
saved by middleware, the user loaded by another). The page, ``templates/503.html``, is plain HTML:
rendering it needs neither the database nor the cache. A state change is one service call in one
``transaction.atomic`` (STYLE 2): one that failed on the database is rolled back. A broker error
after the commit leaves the change made: the page says the work *may* not be done, to check first.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("ramis.outage")

# PostgreSQL gone or its connection lost; Redis unreachable (cache or broker: kombu's error).
OUTAGE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, BrokerError)


def is_outage(exc: BaseException | None) -> bool:
    """A broken database or Redis connection, here or as the cause of ``exc``."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def unavailable_response() -> HttpResponse:
    body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class OutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_outage(exception):
            return None
        logger.error("%s %s: 503, a backing service is down (%s: %s)", request.method, request.path,
                     exception.__class__.__name__, exception)
        return unavailable_response()


def server_error(request, *args, **kwargs):
    """``handler500``: the 503 page for an outage raised outside a view, Django's 500 page otherwise."""
    if is_outage(sys.exc_info()[1]):
        return unavailable_response()
    body = loader.get_template("500.html").render()
    return HttpResponseServerError(body, content_type="text/html; charset=utf-8")
