"""Production's split: the web tier holds no TSA PIN; a Celery worker on the TSA queue — another
process, given only the TSA token's PIN — signs, and the reply comes back through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from ramis.ca import responder, services, tsa, tsa_services
from ramis.ca.models import TimestampToken
from ramis.celery import app
from tests.integration.test_celery_worker import _redis_url, _reset_connections

QUERY = "application/timestamp-query"


def _request(nonce: int) -> bytes:
    from asn1crypto import tsp

    return tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x42" * 32},
        "nonce": nonce, "cert_req": True,
    }).dump()


def _database_url() -> str:
    conf = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the test database on PostgreSQL (DATABASE_URL)")
    return f"postgres://{conf['USER']}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@pytest.fixture
def tsa_worker(transactional_db, settings, tmp_path):
    url = _redis_url()
    db_url = _database_url()
    responder.clear_cache()
    tsa_services.clear_cache()
    services.ca_init(actor=None)  # `ca init`, run by an operator holding every PIN
    queue = f"test-tsa-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url, "REDIS_URL": url, "CELERY_TASK_ALWAYS_EAGER": "0",
        "SOFTHSM_DIR": str(django_settings.SOFTHSM_DIR),
        "CA_TSA_TOKEN": settings.CA_TSA["token"], "CA_TSA_PIN": settings.CA_TSA["pin"], "CA_TSA_QUEUE": queue,
        "CA_ROOT_PIN": "", "CA_ISSUING_PIN": "",  # the TSA worker holds the TSA's PIN and no other
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ramis", "worker", "-Q", queue, "--pool", "solo",
         "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=Path(django_settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    # this process is the web tier now: a Redis broker, no eager tasks, and no TSA PIN
    _reset_connections()
    old_broker = app.conf.broker_url
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = url
    settings.CA_TSA_QUEUE = queue
    settings.CA_TSA_WAIT_SECONDS = 2
    settings.CA_TSA = {**settings.CA_TSA, "pin": ""}
    tsa_services.clear_cache()
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)
        log.close()
        app.conf.task_always_eager = True
        app.conf.broker_url = old_broker
        _reset_connections()
        tsa_services.clear_cache()


@pytest.mark.redis
@pytest.mark.pg
def test_the_tsa_worker_signs_and_the_web_tier_holds_no_pin(tsa_worker, client, tmp_path):
    with pytest.raises(tsa_services.KeyNotFound):  # the web tier cannot sign by itself
        tsa_services.stamper()
    granted = None
    for attempt in range(30):  # until the worker is up (a few seconds), each wait bounded by 2 s
        raw = client.post("/ca/tsa/", data=_request(attempt + 1), content_type=QUERY).content
        status, fail, info = tsa.parse_reply(raw)
        if status == "granted":
            granted = info
            break
        assert fail == {"system_failure"}, (status, fail)
    assert granted is not None, (tmp_path / "worker.log").read_text()[-2000:]
    assert granted["nonce"].native == attempt + 1
    assert TimestampToken.objects.filter(pk=granted["serial_number"].native).exists()  # recorded by the worker
    # several in a row, each answered by the worker with its own serial
    serials = {tsa.parse_reply(client.post("/ca/tsa/", data=_request(100 + i), content_type=QUERY).content)[2]
               ["serial_number"].native for i in range(5)}
    assert len(serials) == 5
    # the worker gone, the web tier says systemFailure within its wait, never a 500
    tsa_worker.terminate()
    tsa_worker.wait(timeout=20)
    resp = client.post("/ca/tsa/", data=_request(999), content_type=QUERY)
    assert resp.status_code == 200
    assert tsa.parse_reply(resp.content)[:2] == ("rejection", {"system_failure"})
