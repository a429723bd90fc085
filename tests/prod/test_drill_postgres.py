"""Fault drill: PostgreSQL restarted under the running portal. During the outage a page that needs
the database answers the portal's Persian error page (never a traceback or nginx's own page) and
the liveness probe still answers; once PostgreSQL is back the same session is served again
within seconds, without restarting any process."""

from __future__ import annotations

import time

from tests.prod.conftest import db_fresh
from tests.prod.test_drills import applicant_logged_in, panel_served_to_the_same_session, wait_running


def test_drill_postgres_restarted_error_page_then_the_same_session(topology, postgres, new_context):
    page = applicant_logged_in(new_context)
    panel_served_to_the_same_session(page, times=2)
    postgres.stop()
    try:
        response = page.goto("/panel/")
        assert response.status == 500, response.status
        assert "خطای سامانه" in page.locator("h1").inner_text()
        assert "دوباره تلاش کنید" in page.content()
        assert "Traceback" not in page.content() and "nginx" not in page.content()
        assert page.goto("/healthz").status == 200  # liveness: the process answers
    finally:
        postgres.start()
        db_fresh()
    back_at = time.monotonic()
    while page.goto("/panel/").status != 200:
        assert time.monotonic() - back_at < 30, "the portal did not serve again within 30 s of PostgreSQL's return"
        time.sleep(0.5)
    panel_served_to_the_same_session(page, times=3)
    wait_running(topology, ("web1", "web2", "worker", "signing", "beat", "ocsp1", "ocsp2"))
