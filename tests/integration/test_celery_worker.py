"""A real Celery worker consumes from a real Redis broker: the production path of X3."""

from __future__ import annotations

import os
import threading
import uuid

import kombu.pools
import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import transaction
from kombu import pools

from ramis.celery import app
from ramis.common import notify
from ramis.common.models import OutboxMessage
from tests import xdist_env


def _redis_url() -> str:
    url = xdist_env.redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Redis at {url}")
        pytest.skip(f"no Redis at {url}: set REDIS_URL to run the worker test")
    return url


def _reset_connections():
    """Forget every pooled broker connection and producer (Celery's and kombu's global ones),
    so the next task call connects to the broker now configured."""
    kombu.pools.reset()
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's global producer pools keep the closed pool for an equal connection


@pytest.fixture
def redis_worker(settings):
    url = _redis_url()
    old_broker, old_queue = app.conf.broker_url, app.conf.task_default_queue
    # A queue of this run's own, so that parallel runs on the same Redis never share messages.
    queue = f"test-{uuid.uuid4().hex}"
    _reset_connections()  # a pool made earlier for the in-memory broker must not be reused
    app.conf.broker_url = url
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING",
                          queues=[queue]):
            yield
    finally:
        app.conf.task_always_eager = True
        app.conf.broker_url, app.conf.task_default_queue = old_broker, old_queue
        _reset_connections()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sms_delivered_by_a_worker_through_redis(redis_worker):
    # Wait for the worker's signal instead of polling the table: with SQLite's shared-cache
    # in-memory test database a SELECT racing the worker's UPDATE fails that UPDATE at once
    # ("database table is locked").
    ran = threading.Event()

    def _ran(sender=None, **kwargs):
        ran.set()

    task_postrun.connect(_ran, weak=False)
    try:
        with transaction.atomic():
            message = notify.send_sms(to="09121234567", template="login_code",
                                      context={"code": "246810", "minutes": 2})
        assert ran.wait(15), "the worker did not run the task"
    finally:
        task_postrun.disconnect(_ran)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
