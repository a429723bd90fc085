"""Issue 11: /healthz (liveness) and /readyz (database, cache, broker, the signing worker's
heartbeat with the CA tokens it reached), 503 when a required check fails."""

import pytest
from django.core.cache import cache

from ramis.ca import services as ca_services
from ramis.ca import signing
from ramis.ca.tasks import signing_heartbeat
from ramis.common import health

pytestmark = pytest.mark.django_db


def test_healthz_is_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_embedded_default_is_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "cache": True, "broker": True, "signing": True}
    assert "eager" in body["checks"]["signing"]["detail"]


@pytest.fixture
def deployed(settings, redis_cache):
    """Celery on a broker (this test's own Redis, which is also the cache), as in production."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_cache.url
    return redis_cache


def beat(*, age=0, tokens=None):
    health.write_heartbeat(tokens={"issuing": "ok"} if tokens is None else tokens)
    if age:
        stored = cache.get(health.HEARTBEAT_KEY)
        cache.set(health.HEARTBEAT_KEY, {**stored, "at": stored["at"] - age}, 600)


def test_no_signing_heartbeat_is_not_ready(client, deployed):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["signing"]["ok"] is False and "no heartbeat" in checks["signing"]["detail"]
    assert checks["broker"]["ok"] is True and checks["cache"]["ok"] is True


def test_fresh_heartbeat_with_reachable_tokens_is_ready(client, deployed):
    beat()
    assert client.get("/readyz").status_code == 200


def test_stale_heartbeat_is_not_ready(client, deployed, settings):
    beat(age=settings.SIGNING_HEARTBEAT_MAX_AGE_SECONDS + 5)
    response = client.get("/readyz")
    assert response.status_code == 503 and "last heartbeat" in response.json()["checks"]["signing"]["detail"]


def test_unreachable_ca_token_is_not_ready(client, deployed):
    beat(tokens={"issuing": "TokenNotFound: no such token"})
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "TokenNotFound" in response.json()["checks"]["signing"]["detail"]


def test_redis_down_is_not_ready_and_the_checks_say_why(client, deployed):
    beat()
    deployed.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"]["ok"] is False and checks["broker"]["ok"] is False
    assert checks["database"]["ok"] is True


def test_only_required_checks_decide(client, deployed, settings):
    settings.READINESS_CHECKS = ["database", "cache", "broker"]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["signing"] == {
        "ok": False, "required": False, "detail": "no heartbeat from the signing worker (is it running, and beat?)"}


def test_signing_heartbeat_task_reaches_the_ca_tokens(deployed):
    ca_services.ca_init(actor=None)
    signing.clear_caches()
    result = signing_heartbeat()
    assert result["tokens"] == {"root": "ok", "issuing": "ok"}
    assert cache.get(health.HEARTBEAT_KEY) == result


def test_signing_heartbeat_reports_a_wrong_pin(deployed, settings):
    ca_services.ca_init(actor=None)
    settings.CA_ISSUING = {**settings.CA_ISSUING, "pin": "0000"}
    settings.CA_ROOT = {**settings.CA_ROOT, "pin": ""}  # an offline root is not this worker's to reach
    signing.clear_caches()
    tokens = signing_heartbeat()["tokens"]
    assert list(tokens) == ["issuing"] and tokens["issuing"] != "ok"
