"""A request id on every request and every log line (docs/operator/logs.md).

``RequestIdMiddleware`` takes the ``X-Request-ID`` the proxy sent (nginx's ``$request_id``), when
the request came through our proxies (``client_ip.through_proxies``: ``TRUSTED_PROXY_COUNT`` > 0)
and it is a sane token, or makes one, keeps it for the request (``request.request_id``, and a
context variable the log filter reads), and returns it in the response's ``X-Request-ID``. With
``LOG_FORMAT=json`` (the production default) every log line is one JSON object that carries it.
The audit entries the request writes carry it too (``AuditContext.request_id``): a client
reaching the portal without a proxy cannot choose the id its entries are found by.

A Celery task queued while a request is served carries that request's id in its message (the
``request_id`` header, added on publish); the worker runs the task under it, so the task's log
lines and the audit entries it writes without a context (``ctx=None``) carry it too. In-process
(eager) tasks run inside the request and simply keep its id. Beat's scheduler
(:class:`BeatScheduler`, ``CELERY_BEAT_SCHEDULER``) sends each due task under a fresh id of its own,
``beat-<hex>``, so one run's lines (beat's *Sending due task*, the worker's) and audit entries are
found together, and two runs are told apart. ``manage.py`` runs each command under a fresh
``cmd-<hex>`` (:func:`fresh_request_id`): its lines, its audit entries and the tasks it queues share
it. A task published outside all of these gets a fresh ``task-<hex>`` in its message, and a task
that starts without a sane id (eager outside any, or a foreign or forged header) gets one then: every
task runs under an id.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid

from celery.beat import PersistentScheduler
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished

from .client_ip import through_proxies
from .context import REQUEST_ID_MAX

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"  # the Celery message header that takes the id to the worker
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


def current_request_id() -> str:
    """The id of the request, task or command being served (a task's is the one it was queued or
    started under); "" outside any."""
    rid = request_id.get()
    return "" if rid == "-" else rid


def new_request_id(kind: str) -> str:
    """A fresh id for what no request started: ``<kind>-`` and 32 hex digits (``beat``, ``task``, ``cmd``)."""
    return f"{kind}-{uuid.uuid4().hex}"


@contextlib.contextmanager
def fresh_request_id(kind: str):
    """Run the block under a fresh id of its own (:func:`new_request_id`); the one before is back after it."""
    token = request_id.set(new_request_id(kind))
    try:
        yield
    finally:
        request_id.reset(token)


def _task_header(headers=None, **kwargs) -> None:
    """The message takes the current id to the worker; published under none, a fresh ``task-<hex>``."""
    if headers is not None:
        headers.setdefault(TASK_HEADER, current_request_id() or new_request_id("task"))


def _task_started(task=None, **kwargs) -> None:
    """The worker runs the task under the id its message carries (checked again: what is not a sane
    token is dropped, and the task gets a fresh ``task-<hex>`` instead). An eager task without the
    header keeps the id it runs under (a request's, a command's, the task's that queued it), or gets a
    fresh one outside any."""
    context = task.request
    given = getattr(context, TASK_HEADER, None) or (getattr(context, "headers", None) or {}).get(TASK_HEADER)
    rid = given if isinstance(given, str) and _SANE.fullmatch(given) else None
    if rid is None and context.is_eager and current_request_id():
        return
    context.ramis_request_id_token = request_id.set(rid or new_request_id("task"))


def _task_finished(task=None, **kwargs) -> None:
    token = getattr(task.request, "ramis_request_id_token", None)
    if token is not None:
        try:
            request_id.reset(token)  # the worker's next task starts without it
        except ValueError:  # finished in another context than it started in
            request_id.set("-")
        task.request.ramis_request_id_token = None


before_task_publish.connect(_task_header, weak=False, dispatch_uid="ramis.observability.task_header")
task_prerun.connect(_task_started, weak=False, dispatch_uid="ramis.observability.task_started")
task_postrun.connect(_task_finished, weak=False, dispatch_uid="ramis.observability.task_finished")


class BeatScheduler(PersistentScheduler):
    """Beat's scheduler: the task of each due entry is sent under a fresh request id, ``beat-<hex>``
    (beat's own line about it carries the id too); the publish header takes it to the worker."""

    def apply_entry(self, entry, producer=None):
        with fresh_request_id("beat"):
            return super().apply_entry(entry, producer=producer)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` ("-" outside a request) to every record, for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request and django.server pass the request itself
            record.request_id = getattr(getattr(record, "request", None), "request_id", None) or request_id.get()
        return True
