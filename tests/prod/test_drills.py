"""Fault drills on the running topology (issue 11): each breaks one part the way production
breaks, then asserts what the user sees and that nothing is lost or done twice."""

from __future__ import annotations

import os
import signal
import time

from ramis.requests.management.commands.seed_demo import APPLICANT
from tests.e2e import steps
from tests.prod.conftest import db_fresh, sms_code_for


def wait_running(topology, names: tuple[str, ...], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = topology.ctl("status", *names).stdout
        if status.count("RUNNING") == len(names):
            return
        time.sleep(0.5)
    raise AssertionError(f"not RUNNING again within {timeout:.0f} s: {status}")


def kill_hard(topology, name: str) -> None:
    """SIGKILL the program's whole process group (gunicorn's master and its workers): a crash."""
    pid = int(topology.ctl("pid", name).stdout.strip())
    os.killpg(os.getpgid(pid), signal.SIGKILL)


def latest_outbox_id() -> int:
    from ramis.common.models import OutboxMessage

    db_fresh()
    return OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0


def applicant_logged_in(new_context):
    page = new_context().new_page()
    after = latest_outbox_id()
    steps.applicant_login(page, code_for=lambda _page: sms_code_for(APPLICANT["mobile"], after_id=after))
    return page


def panel_served_to_the_same_session(page, times: int = 6) -> None:
    """Each load of the panel comes back 200 with the applicant still logged in (no login page)."""
    for _ in range(times):
        response = page.goto("/panel/")
        assert response.status == 200, response.status
        assert "/auth/login/" not in page.url
        assert page.locator("#roles").count() == 1


def test_drill_one_web_process_killed_the_other_serves_the_same_session(topology, new_context):
    page = applicant_logged_in(new_context)
    panel_served_to_the_same_session(page)
    kill_hard(topology, "web1")  # crashed: supervisord restarts it, nginx sends requests to web2 meanwhile
    panel_served_to_the_same_session(page)
    wait_running(topology, ("web1",))
    time.sleep(2.5)  # nginx tries a failed server again after fail_timeout (2 s, scripts/prod.py)
    topology.ctl("stop", "web2")  # down for longer: web1, restarted, serves the same session
    try:
        panel_served_to_the_same_session(page)
        # a form post on the surviving process: the session's CSRF token is shared too
        page.goto("/panel/")
        page.locator("#roles").get_by_role("link", name="درخواست جدید").click()
        page.get_by_role("button", name="درخواست گواهی امضا").click()
        page.wait_for_url("**/step/details/")
        assert page.url.endswith("/step/details/") and "/auth/login/" not in page.url
    finally:
        topology.ctl("start", "web2")
    wait_running(topology, ("web2",))


def test_drill_broker_lost_twice_workers_come_back_and_an_sms_is_delivered(topology, redis, new_context):
    from ramis.common.models import OutboxMessage

    for _ in range(2):
        redis.stop()
        time.sleep(3)
        redis.start()
        time.sleep(3)
    wait_running(topology, ("worker", "signing", "beat"))
    after = latest_outbox_id()
    page = new_context().new_page()
    steps.applicant_login(page, code_for=lambda _page: sms_code_for(APPLICANT["mobile"], after_id=after))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        db_fresh()
        message = OutboxMessage.objects.filter(id__gt=after, to=APPLICANT["mobile"]).order_by("id").first()
        if message and message.status == OutboxMessage.Status.SENT:
            break
        time.sleep(1)
    assert message is not None and message.status == OutboxMessage.Status.SENT, message and message.status
    assert message.attempts == 1


def any_seal_logo_path() -> str:
    """The logo URL of a seal the e-Namad journey made (or of none: the "invalid" logo, still an image)."""
    from enamad.models import Seal

    db_fresh()
    seal = Seal.objects.order_by("id").first()
    return f"/trustseal/logo/?id={seal.number}&Code={seal.code}" if seal else "/trustseal/logo/?id=1&Code=x"


def test_drill_redis_stopped_pages_still_answer(topology, redis, new_context, sms_gateway, drill_report):
    from django.db import transaction

    from ramis.common import notify
    from ramis.common.models import OutboxMessage

    page = new_context().new_page()
    logo = any_seal_logo_path()
    redis.stop()
    try:
        for path in ("/", "/auth/login/", "/auth/staff/login/", "/enamad/", "/faq/"):
            response = page.goto(path)
            assert response.status < 500, (path, response.status)
        # the seal logo on shops' pages: its cache is Redis, the answer comes from PostgreSQL
        response = page.goto(logo)
        assert response.status == 200 and response.headers["content-type"].startswith("image/"), response.status
        # the identity step: the throttle cannot count without Redis, so it refuses (fails closed)
        page.goto("/auth/login/")
        page.get_by_label("کد ملی").fill(APPLICANT["national_code"])
        page.get_by_label("تاریخ تولد").fill("۱۳۶۵/۰۴/۱۲")
        page.get_by_label("شماره شناسنامه").fill(APPLICANT["birth_certificate_number"])
        page.get_by_label("تلفن همراه").fill(APPLICANT["mobile"])
        page.get_by_label("کد امنیتی").fill(steps.captcha_from_db(page))
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="ارسال کد یک‌بارمصرف").click()
        assert posted.value.status == 503, posted.value.status
        said = page.locator("main").inner_text()
        assert "چند لحظه دیگر دوباره تلاش کنید" in said, said
        # a message the portal queues meanwhile: kept in the outbox (the broker is down)
        with transaction.atomic():
            queued = notify.send_sms(to="09120000911", template="login_code", context={"code": "424242", "minutes": 5})
        db_fresh()
        assert OutboxMessage.objects.get(pk=queued.pk).status == OutboxMessage.Status.QUEUED
    finally:
        redis.start()
    back_at = time.monotonic()
    wait_running(topology, ("worker", "signing", "beat"))
    assert page.goto("/auth/login/").status == 200
    # beat's outbox sweep (every 10 s here) sends it once the message is a minute old
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        db_fresh()
        message = OutboxMessage.objects.get(pk=queued.pk)
        if message.status == OutboxMessage.Status.SENT:
            break
        time.sleep(1)
    assert message.status == OutboxMessage.Status.SENT, (message.status, message.last_error)
    delivered_at = time.monotonic() - back_at
    time.sleep(3)  # a second delivery, were there one, would show here
    assert sms_gateway.delivered_for(queued.pk) == 1
    drill_report("pages 200/4xx, seal logo 200 image, login 503 'چند لحظه دیگر دوباره تلاش کنید'; "
                 f"the SMS queued meanwhile delivered once {delivered_at:.0f} s after Redis returned",
                 recovered_seconds=delivered_at)
