"""A Celery task queued while a request is served runs under that request's id (issue 15): its log
lines carry it, and an audit entry it writes without a context stores it (no address, no
User-Agent: those are the request's client, not the task's). In-process (eager, the tests' and
the embedded default) and on a real worker through a real Redis broker. A task beat sends runs
under a fresh id of its own, one per run, the id beat's own line about it carries; a task queued
outside both runs under a fresh id of its own too (``task-<hex>``), given when it is published; a
command run by manage.py runs under one (``cmd-<hex>``), and so do the tasks it queues."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from celery import shared_task
from celery.beat import ScheduleEntry
from celery.signals import before_task_publish, task_postrun
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


TASK_ID = re.compile(r"task-[0-9a-f]{32}")


@pytest.mark.django_db
def test_an_eager_task_queued_outside_a_request_runs_under_a_fresh_id_of_its_own(company, lines):
    serve(lambda: None)  # a request before it leaves nothing behind
    audit_probe.delay(company.pk, "probe.outside")
    first = entry("probe.outside").request_id
    assert TASK_ID.fullmatch(first), first
    assert lines["probe probe.outside ran"] == first
    audit_probe.delay(company.pk, "probe.outside_again")
    again = entry("probe.outside_again").request_id
    assert TASK_ID.fullmatch(again) and again != first  # each task its own
    assert lines["probe probe.outside_again ran"] == again
    assert observability.current_request_id() == ""  # the caller is left without one


@shared_task(name="tests.common.audit_probe_fan_out", ignore_result=True)
def audit_probe_fan_out(company_id: int) -> None:
    """A task that queues another, as the fan-out tasks do."""
    audit_probe.delay(company_id, "probe.fanned_out")
    audit.record(actor=None, target=Company.objects.get(pk=company_id), event="probe.fan_out")


@pytest.mark.django_db
def test_a_task_queued_by_a_task_runs_under_the_id_of_the_one_that_queued_it(company, lines):
    audit_probe_fan_out.delay(company.pk)
    rid = entry("probe.fan_out").request_id
    assert TASK_ID.fullmatch(rid), rid
    assert entry("probe.fanned_out").request_id == rid == lines["probe probe.fanned_out ran"]


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
def test_the_publish_header_is_the_current_id_or_a_fresh_one_of_the_tasks_own():
    outside, again = {}, {}
    observability._task_header(headers=outside)
    observability._task_header(headers=again)
    assert TASK_ID.fullmatch(outside[observability.TASK_HEADER]), outside
    assert again[observability.TASK_HEADER] != outside[observability.TASK_HEADER]  # one each
    inside = {}
    token = observability.request_id.set("nginx-4f2a.17")
    try:
        observability._task_header(headers=inside)
        given = {observability.TASK_HEADER: "chosen-by-the-caller"}
        observability._task_header(headers=given)
    finally:
        observability.request_id.reset(token)
    assert inside == {observability.TASK_HEADER: "nginx-4f2a.17"}
    assert given == {observability.TASK_HEADER: "chosen-by-the-caller"}  # an explicit header is kept
    assert observability.current_request_id() == ""  # making one for the message sets none here


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

    # The worker's next task, queued by no request, runs under the fresh id its message was given when
    # it was published, not the id of the one before.
    published = []

    def _published(headers=None, **kwargs):
        published.append(headers[observability.TASK_HEADER])  # after the project's receiver set it

    before_task_publish.connect(_published, weak=False)
    try:
        run_on_the_worker(lambda: audit_probe.delay(company.pk, "probe.worker_next"), "probe.worker_next")
    finally:
        before_task_publish.disconnect(_published)
    assert len(published) == 1 and TASK_ID.fullmatch(published[0]), published
    assert entry("probe.worker_next").request_id == published[0]
    assert lines["probe probe.worker_next ran"] == published[0]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_drops_a_header_that_is_not_a_sane_id(redis_worker, company, lines):  # noqa: F811
    forged = {observability.TASK_HEADER: "bad id\r\nX-Evil: 1"}
    run_on_the_worker(lambda: audit_probe.apply_async((company.pk, "probe.forged"), headers=forged), "probe.forged")
    rid = entry("probe.forged").request_id
    assert TASK_ID.fullmatch(rid), rid  # a fresh id of the task's own instead
    assert lines["probe probe.forged ran"] == rid


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


# --- a command, as an operator runs it -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CMD_ID = re.compile(r"cmd-[0-9a-f]{32}")
# What a command does: log a line, write an audit entry itself, queue a task (eager, the embedded
# default) that logs and writes one too; then say which ids the entries of this run carry.
COMMAND = """
import json, logging
from celery import shared_task
from django.contrib.auth.models import Group
from ramis.common import audit
from ramis.common.models import AuditEntry
from ramis.common.observability import current_request_id

log = logging.getLogger("ramis.command_probe")

@shared_task(name="tests.common.command_probe")
def command_probe(pk):
    log.warning("task ran")
    audit.record(actor=None, target=Group.objects.get(pk=pk), event="probe.command_task")

group, _ = Group.objects.get_or_create(name="probe")
log.warning("command ran")
audit.record(actor=None, target=group, event="probe.command")
command_probe.delay(group.pk)
rows = AuditEntry.objects.order_by("-pk")[:2].values_list("event", "request_id")
print(json.dumps({"current": current_request_id(), "entries": dict(rows)}))
"""


def test_a_command_runs_under_an_id_of_its_own_and_so_do_the_tasks_it_queues(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL")}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), SOFTHSM_DIR=str(tmp_path / "softhsm"), LOG_FORMAT="json")

    def manage(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        return done

    manage("migrate", "-v", "0")
    runs = []
    for _ in range(2):
        done = manage("shell", "-v", "0", "-c", COMMAND)
        said = json.loads(done.stdout.strip().splitlines()[-1])
        lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
        logged = {line["message"]: line["request_id"] for line in lines if line["logger"] == "ramis.command_probe"}
        rid = said["current"]
        assert CMD_ID.fullmatch(rid), said
        assert said["entries"] == {"probe.command": rid, "probe.command_task": rid}  # written by it, by its task
        assert logged == {"command ran": rid, "task ran": rid}
        runs.append(rid)
    assert runs[0] != runs[1]  # each run its own
