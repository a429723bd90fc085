"""Issue 11: Prometheus metrics at /metrics (loopback or a token only) and a request id on every
response and every JSON log line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from ramis.common import notify
from ramis.common.models import OutboxMessage

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def sample(text: str, name: str, **labels) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_from_the_machine_itself(client, settings):
    settings.SMS_BACKEND = "ramis.common.sms.KavenegarSMSBackend"  # no API key: the message stays queued
    settings.SMS_OPTIONS = {"api_key": ""}
    client.get("/faq/")
    notify.send_sms(to="09121234567", template="login_code", context={"code": "1", "minutes": 2})
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.QUEUED  # on_commit: not run in this test
    text = client.get("/metrics").content.decode()
    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="public:faq"}' in text
    assert sample(text, "ramis_outbox_backlog", status="queued") == 1
    assert sample(text, "ramis_outbox_backlog", status="failed") == 0
    assert sample(text, "ramis_certificates_issued_total", profile="signature") == 0


def test_ocsp_answers_are_counted_per_status(client):
    before = sample(client.get("/metrics").content.decode(), "ramis_ocsp_answers_total",
                    status="malformed_request") or 0
    client.post("/ca/ocsp/issuing/", b"not an OCSP request", content_type="application/ocsp-request")
    after = sample(client.get("/metrics").content.decode(), "ramis_ocsp_answers_total", status="malformed_request")
    assert after == before + 1


@pytest.mark.parametrize("meta", [
    {"REMOTE_ADDR": "10.0.0.5"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # through the proxy
    {"REMOTE_ADDR": "10.0.0.5", "HTTP_AUTHORIZATION": "Bearer wrong"},
])
def test_metrics_hidden_from_others(client, settings, meta):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics", **meta).status_code == 404


def test_metrics_with_the_token_from_elsewhere(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    response = client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200 and "ramis_outbox_backlog" in response.content.decode()


def test_queue_depth_read_from_the_broker(client, settings, redis_cache):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_cache.url
    broker = redis.Redis.from_url(redis_cache.url)
    broker.lpush("default", "a", "b", "c")  # kombu's Redis queue is a list named after the queue
    broker.lpush("signing\x06\x163", "d")  # a priority step of the signing queue
    text = client.get("/metrics").content.decode()
    assert sample(text, "ramis_celery_queue_depth", queue="default") == 3
    assert sample(text, "ramis_celery_queue_depth", queue="signing") == 1


def test_request_id_generated_or_passed_through_from_the_proxy(client, settings):
    generated = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # no proxy (the embedded default): a client's own X-Request-ID is not taken (the audit stores the id)
    assert client.get("/faq/", HTTP_X_REQUEST_ID="nginx-4f2a.17")["X-Request-ID"] != "nginx-4f2a.17"
    settings.TRUSTED_PROXY_COUNT = 1
    proxied = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert client.get("/faq/", HTTP_X_REQUEST_ID="nginx-4f2a.17", **proxied)["X-Request-ID"] == "nginx-4f2a.17"
    assert client.get("/faq/", HTTP_X_REQUEST_ID="nginx-4f2a.17")["X-Request-ID"] != "nginx-4f2a.17"  # not via it
    bad = "bad id\r\nX-Evil: 1"
    assert client.get("/faq/", HTTP_X_REQUEST_ID=bad, **proxied)["X-Request-ID"] != bad
    assert client.get("/faq/", HTTP_X_REQUEST_ID="x" * 129, **proxied)["X-Request-ID"] != "x" * 129


LOG_SCRIPT = """
import django
django.setup()
from django.test import Client
response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="drill-42", HTTP_X_FORWARDED_FOR="203.0.113.7")
print("STATUS", response.status_code, response["X-Request-ID"])
"""


def test_json_log_lines_carry_the_request_id(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="ramis.settings", LOG_FORMAT="json", RAMIS_VAR_DIR=str(tmp_path), TRUSTED_PROXY_COUNT="1",
               DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", SOFTHSM_DIR=str(tmp_path / "hsm"))
    result = subprocess.run([sys.executable, "-c", LOG_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert "STATUS 404 drill-42" in result.stdout, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    not_found = [line for line in lines if line.get("logger") == "django.request"]
    assert not_found and not_found[0]["request_id"] == "drill-42"
    assert not_found[0]["level"] == "WARNING" and "/no-such-page/" in not_found[0]["message"]


MULTIPROCESS_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
Client().get("/faq/")
print(Client().get("/metrics").content.decode())
"""


def test_metrics_in_multiprocess_mode_keep_the_portal_gauges(tmp_path):
    """Several gunicorn workers share PROMETHEUS_MULTIPROC_DIR: one scrape sums them, gauges included."""
    (tmp_path / "prom").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "CACHE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="ramis.settings", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
               RAMIS_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
               SOFTHSM_DIR=str(tmp_path / "hsm"))
    result = subprocess.run([sys.executable, "-c", MULTIPROCESS_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sample(result.stdout, "ramis_outbox_backlog", status="queued") == 0
    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="public:faq"}' in result.stdout



def test_the_embedded_broker_names_its_host(tmp_path):
    """Without REDIS_URL the broker is kombu's in-memory one, with a host in its URL: reading the
    queues (``/metrics``, the benchmarks) logs no "No hostname was supplied" warning."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env.update(RAMIS_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="ramis.settings", LOG_LEVEL="WARNING")
    code = ("import django; django.setup()\n"
            "from ramis.celery import app\n"
            "print(app.connection_for_write().as_uri())")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("memory://")
    assert "No hostname" not in done.stdout + done.stderr
