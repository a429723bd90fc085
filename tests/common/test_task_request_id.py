"""A Celery task queued while a request is served runs under that request's id (issue 15): its log
lines carry it, and an audit entry it writes without a context stores it (no address, no
User-Agent: those are the request's client, not the task's). In-process (eager, the tests' and
the embedded default) and on a real worker through a real Redis broker. A task beat sends runs
under a fresh id of its own, one per run, the id beat's own line about it carries."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading

import pytest
from celery import shared_task
from celery.beat import ScheduleEntry
from celery.signals import task_postrun
from django.http import HttpResponse
from django.test import RequestFactory
from kombu.utils.imports import symbol_by_name

from ramis.celery import app
from ramis.common import audit, observability
from ramis.common.models import AuditEntry
from ramis.common.observability import RequestIdFilter, RequestIdMiddleware
from ramis.registry.models import Company
from tests.integration.test_celery_worker import redis_worker  # noqa: F401 - fixture

log = logging.getLogger("tests.common.task_request_id")


@shared_task(name="tests.common.audit_probe", ignore_result=True)
def audit_probe(company_id: int, event: str) -> None:
    """What a task does: load by id, log a line, write an audit entry with no context."""
    company = Company.objects.get(pk=company_id)
    log.warning("probe %s ran", event)
    audit.record(actor=None, target=company, event=event)


class Lines(logging.Handler):
    """The log's own filter (settings.LOGGING) on a handler of the probe's logger: the request id
    each line would be written with."""

    def __init__(self):
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.seen: dict[str, str] = {}

    def emit(self, record):
        self.seen[record.getMessage()] = record.request_id


@pytest.fixture
def lines():
    handler = Lines()
    log.addHandler(handler)
    yield handler.seen
    log.removeHandler(handler)


def serve(queue, *, proxy_id: str = ""):
    """One request through the real RequestIdMiddleware whose view queues the task; the response."""
    def view(request):
        queue()
        return HttpResponse("queued")

    meta = {"HTTP_X_REQUEST_ID": proxy_id, "HTTP_X_FORWARDED_FOR": "203.0.113.7"} if proxy_id else {}
    try:
        return RequestIdMiddleware(view)(RequestFactory().post("/", REMOTE_ADDR="127.0.0.1", **meta))
    finally:
        observability._clear()  # request_finished's receiver: the server is done with the response


def entry(event: str) -> AuditEntry:
    return AuditEntry.objects.get(event=event)


@pytest.mark.django_db
def test_an_eager_task_queued_in_a_request_runs_under_its_id(company, lines):
    response = serve(lambda: audit_probe.delay(company.pk, "probe.in_request"))
    rid = response[observability.HEADER]
    written = entry("probe.in_request")
    assert (written.request_id, written.ip, written.user_agent) == (rid, None, "")
    assert lines["probe probe.in_request ran"] == rid


@pytest.mark.django_db
def test_a_task_queued_outside_a_request_runs_under_none(company, lines):
    serve(lambda: None)  # a request before it leaves nothing behind
    audit_probe.delay(company.pk, "probe.from_command")
    assert entry("probe.from_command").request_id == ""
    assert lines["probe probe.from_command ran"] == "-"


class Sent(logging.Handler):
    """Beat's *Sending due task* lines, each with the request id it is written with."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.addFilter(RequestIdFilter())
        self.ids: list[str] = []

    def emit(self, record):
        if record.getMessage().startswith("Scheduler: Sending due task probe"):
            self.ids.append(record.request_id)


@pytest.fixture
def beat(tmp_path):
    """The scheduler beat runs (CELERY_BEAT_SCHEDULER), with one entry for the probe; beat's lines."""
    scheduler = symbol_by_name(app.conf.beat_scheduler)(
        app=app, schedule_filename=str(tmp_path / "celerybeat-schedule"), lazy=True)
    sent, logger = Sent(), logging.getLogger("celery.beat")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(sent)
    yield scheduler, sent.ids
    logger.removeHandler(sent)
    logger.setLevel(old_level)


def probe_entry(company, event: str) -> ScheduleEntry:
    return ScheduleEntry(name="probe", task=audit_probe.name, schedule=dt.timedelta(minutes=5),
                         args=(company.pk, event), app=app)


BEAT_ID = re.compile(r"beat-[0-9a-f]{32}")


@pytest.mark.django_db
def test_each_beat_run_runs_under_a_fresh_id_of_its_own(company, lines, beat):
    scheduler, sent = beat
    probe = probe_entry(company, "probe.beat")
    scheduler.apply_entry(probe, producer=None)
    first = AuditEntry.objects.get(event="probe.beat").request_id
    assert lines["probe probe.beat ran"] == first
    scheduler.apply_entry(probe, producer=None)
    ids = list(AuditEntry.objects.filter(event="probe.beat").order_by("pk").values_list("request_id", flat=True))
    assert len(ids) == 2 and all(BEAT_ID.fullmatch(rid) for rid in ids), ids
    assert ids[0] == first != ids[1]  # each run its own
    assert sent == ids  # beat's line about each run carries that run's id
    assert lines["probe probe.beat ran"] == ids[1]
    assert observability.current_request_id() == ""  # beat itself is left without one


@pytest.mark.django_db
def test_the_publish_header_is_the_requests_id_and_only_inside_one():
    headers = {}
    observability._task_header(headers=headers)
    assert headers == {}
    token = observability.request_id.set("nginx-4f2a.17")
    try:
        observability._task_header(headers=headers)
        given = {observability.TASK_HEADER: "chosen-by-the-caller"}
        observability._task_header(headers=given)
    finally:
        observability.request_id.reset(token)
    assert headers == {observability.TASK_HEADER: "nginx-4f2a.17"}
    assert given == {observability.TASK_HEADER: "chosen-by-the-caller"}  # an explicit header is kept


# --- a real worker, a real Redis broker ------------------------------------------------------------


def run_on_the_worker(publish, event: str) -> None:
    ran = threading.Event()

    def _ran(sender=None, args=None, **kwargs):
        if args and args[1] == event:
            ran.set()

    task_postrun.connect(_ran, weak=False)
    try:
        publish()
        assert ran.wait(20), "the worker did not run the task"
    finally:
        task_postrun.disconnect(_ran)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_task_under_the_id_of_the_request_that_queued_it(redis_worker, settings,  # noqa: F811
                                                                              company, lines):
    settings.TRUSTED_PROXY_COUNT = 1  # nginx's id, as in production
    response = {}

    def request_then_run():
        response["r"] = serve(lambda: audit_probe.delay(company.pk, "probe.worker"), proxy_id="nginx-9c1e.3")

    run_on_the_worker(request_then_run, "probe.worker")
    assert response["r"][observability.HEADER] == "nginx-9c1e.3"
    written = entry("probe.worker")
    assert (written.request_id, written.ip, written.user_agent) == ("nginx-9c1e.3", None, "")
    assert lines["probe probe.worker ran"] == "nginx-9c1e.3"  # logged in the worker's thread

    # The worker's next task, queued by no request, does not inherit the id of the one before.
    run_on_the_worker(lambda: audit_probe.delay(company.pk, "probe.worker_next"), "probe.worker_next")
    assert entry("probe.worker_next").request_id == ""
    assert lines["probe probe.worker_next ran"] == "-"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_drops_a_header_that_is_not_a_sane_id(redis_worker, company, lines):  # noqa: F811
    forged = {observability.TASK_HEADER: "bad id\r\nX-Evil: 1"}
    run_on_the_worker(lambda: audit_probe.apply_async((company.pk, "probe.forged"), headers=forged), "probe.forged")
    assert entry("probe.forged").request_id == ""
    assert lines["probe probe.forged ran"] == "-"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_each_beat_run_under_the_id_beat_sent_it_with(redis_worker, company, lines,  # noqa: F811
                                                                     beat):
    scheduler, sent = beat
    for run in (1, 2):
        run_on_the_worker(lambda run=run: scheduler.apply_entry(probe_entry(company, f"probe.beat_{run}")),
                          f"probe.beat_{run}")
    ids = [entry(f"probe.beat_{run}").request_id for run in (1, 2)]
    assert all(BEAT_ID.fullmatch(rid) for rid in ids) and ids[0] != ids[1], ids
    assert sent == ids  # the id in beat's log is the one the worker ran the task under
    assert [lines[f"probe probe.beat_{run} ran"] for run in (1, 2)] == ids  # logged in the worker's thread
