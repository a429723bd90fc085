"""Issue 11 drill: PostgreSQL stopped under a running portal (gunicorn) and started again.

During the outage a page answers the Persian 503 page with Retry-After, /readyz says not ready
(database), /healthz stays alive; after the restart the same process serves again. The server is
one of the test's own (initdb under a temporary directory), never the shared one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.servers import PostgresServer, free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
PERSIAN = "سامانه موقتا در دسترس نیست"


@pytest.fixture(params=["0", "600"], ids=["new-connection-per-request", "persistent-connections"])
def portal_on_own_postgres(tmp_path, request):
    pg = PostgresServer()
    web = None
    try:
        pg.start()
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update(DATABASE_URL=pg.url, DEBUG="0", RAMIS_VAR_DIR=str(tmp_path), SOFTHSM_DIR=str(tmp_path / "hsm"),
                   DJANGO_SETTINGS_MODULE="ramis.settings",
                   DB_CONN_MAX_AGE=request.param, DB_CONN_HEALTH_CHECKS="1")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=300)
        port = free_port()
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "ramis.wsgi:application", "--bind",
                                f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(port, up=True, timeout=60)
        yield pg, f"http://127.0.0.1:{port}"
    finally:
        if web is not None:
            web.terminate()
            web.wait(20)
        pg.remove()


def _get(url: str) -> requests.Response:
    return requests.get(url, timeout=15, allow_redirects=False)


def test_postgres_restart_gives_a_persian_503_then_serves_again(portal_on_own_postgres):
    pg, base = portal_on_own_postgres
    assert _get(f"{base}/offices/").status_code == 200
    ready = _get(f"{base}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"] is True

    pg.stop()
    page = _get(f"{base}/offices/")
    assert page.status_code == 503
    assert PERSIAN in page.text
    assert int(page.headers["Retry-After"]) > 0
    ready = _get(f"{base}/readyz")
    assert ready.status_code == 503
    body = json.loads(ready.text)
    assert body["status"] == "not ready" and body["checks"]["database"]["ok"] is False
    assert _get(f"{base}/healthz").json() == {"status": "ok"}

    pg.start()
    deadline = time.monotonic() + 30
    # A new connection per request, or the kept one found dead by the health check (or by the
    # failed request, which closes it): a following request connects again.
    while _get(f"{base}/offices/").status_code != 200:
        assert time.monotonic() < deadline, "the portal did not serve again after PostgreSQL returned"
        time.sleep(0.2)
    assert _get(f"{base}/readyz").status_code == 200


def test_a_kept_connection_dropped_by_a_restart_is_replaced_before_the_request_uses_it(portal_on_own_postgres):
    """PostgreSQL restarted between two requests: the process's kept connection is dead. The health
    check (DB_CONN_HEALTH_CHECKS) finds it before the request's first query and connects again, so
    even the first request after the restart is served (without it that request would be a 503)."""
    pg, base = portal_on_own_postgres
    assert _get(f"{base}/offices/").status_code == 200
    pg.stop()
    pg.start()
    page = _get(f"{base}/offices/")
    assert page.status_code == 200, page.text[:300]
    assert _get(f"{base}/readyz").status_code == 200
