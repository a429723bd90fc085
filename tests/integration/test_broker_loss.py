"""Issue 11 drill: the default Celery worker survives losing its broker twice.

A real ``celery -A ramis worker -Q default`` (docker-compose's default worker) on a
redis-server of the test's own, holding unacknowledged countdown tasks; Redis is stopped and
started twice; the worker is still running, and an SMS queued afterwards is delivered. Before
ramis/broker.py the worker exited at the second loss ("Unrecoverable error: AttributeError(
"'NoneType' object has no attribute 'hostname'")").
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]

QUEUE_COUNTDOWNS = """
import django
django.setup()
from ramis.common.tasks import deliver_message
for i in range(12):  # held by the worker, unacknowledged, until their countdown
    deliver_message.apply_async(args=[10**6 + i], countdown=120)
"""

SEND_SMS = """
import django
django.setup()
from django.db import transaction
from ramis.common import notify
with transaction.atomic():
    message = notify.send_sms(to="09121234567", template="login_code", context={"code": "2468", "minutes": 2})
print(message.pk)
"""


def _wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.fixture
def worker_env(tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    env = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", REDIS_URL=redis.url, RAMIS_VAR_DIR=str(tmp_path),
               SOFTHSM_DIR=str(tmp_path / "hsm"), DJANGO_SETTINGS_MODULE="ramis.settings", CELERY_TASK_ALWAYS_EAGER="0")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "ramis", "worker", "-Q", "default",
                                   "--concurrency", "2", "-l", "INFO", "--without-mingle"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield redis, env, worker, log, tmp_path / "db.sqlite3"
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
        redis.stop()


def _status(db: Path, pk: int) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status FROM common_outboxmessage WHERE id = ?", (pk,)).fetchone()[0]


def test_default_worker_survives_two_broker_losses(worker_env):
    redis, env, worker, log, db = worker_env
    connected = lambda: log.read_text().count("Connected to")  # noqa: E731
    _wait_for(lambda: "ready." in log.read_text(), "the worker did not start")
    subprocess.run([sys.executable, "-c", QUEUE_COUNTDOWNS], cwd=ROOT, env=env, check=True, timeout=60)
    _wait_for(lambda: log.read_text().count("received") >= 12, "the worker did not take the countdown tasks")

    for loss in (1, 2):
        before = connected()
        redis.stop()
        _wait_for(lambda: "Connection to broker lost" in log.read_text().split("Connected to")[-1],
                  f"the worker did not notice broker loss {loss}")
        redis.start()
        _wait_for(lambda b=before: connected() > b or worker.poll() is not None, f"no reconnect after loss {loss}")
        assert worker.poll() is None, f"the worker exited after broker loss {loss}:\n{log.read_text()[-3000:]}"

    assert "Unrecoverable error" not in log.read_text()
    sent = subprocess.run([sys.executable, "-c", SEND_SMS], cwd=ROOT, env=env, check=True, timeout=60,
                          capture_output=True, text=True)
    pk = int(sent.stdout.strip().splitlines()[-1])
    _wait_for(lambda: _status(db, pk) == "sent", "the SMS queued after the outages was not delivered")
    assert worker.poll() is None
