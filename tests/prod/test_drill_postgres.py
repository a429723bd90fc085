"""Fault drill: PostgreSQL restarted under the running portal. During the outage a page that needs
the database answers the portal's Persian 503 page (never a 500, a traceback or nginx's own page),
the liveness probe still answers and the readiness probe says in JSON that the database is not
ready; once PostgreSQL is back, /readyz is ready and the same session is served again within
seconds, without restarting any process. The time to recover is printed (drill_report)."""

from __future__ import annotations

import json
import time

from tests.prod.conftest import db_fresh
from tests.prod.test_drills import applicant_logged_in, panel_served_to_the_same_session, wait_running


def readiness(page) -> tuple[int, dict]:
    response = page.goto("/readyz")
    return response.status, json.loads(response.body())


def test_drill_postgres_restarted_error_page_then_the_same_session(topology, postgres, new_context, drill_report):
    page = applicant_logged_in(new_context)
    panel_served_to_the_same_session(page, times=2)
    postgres.stop()
    try:
        response = page.goto("/panel/")
        assert response.status == 503, response.status
        assert "سامانه موقتا در دسترس نیست" in page.locator("h1").inner_text()
        assert "دوباره تلاش کنید" in page.content()
        assert "Traceback" not in page.content() and "nginx" not in page.content()
        assert page.goto("/healthz").status == 200  # liveness: the process answers
        status, body = readiness(page)
        assert status == 503 and body["status"] == "not ready", (status, body)
        assert body["checks"]["database"]["ok"] is False, body
    finally:
        postgres.start()
        db_fresh()
    back_at = time.monotonic()
    while page.goto("/panel/").status != 200:
        assert time.monotonic() - back_at < 30, "the portal did not serve again within 30 s of PostgreSQL's return"
        time.sleep(0.25)
    recovered = time.monotonic() - back_at
    status, body = readiness(page)
    assert body["checks"]["database"]["ok"] is True, body
    panel_served_to_the_same_session(page, times=3)
    wait_running(topology, ("web1", "web2", "worker", "signing", "beat", "ocsp1", "ocsp2"))
    drill_report("the panel answered 503 'سامانه موقتا در دسترس نیست' (Persian page), /healthz 200, "
                 f"/readyz 503 'not ready' (database); then the same session served, /readyz database ok ({status})",
                 recovered_seconds=recovered)
