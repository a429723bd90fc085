"""Fault drill: the SMS gateway (the stand-in Kavenegar on loopback that the topology reaches
through SMS_BASE_URL, tests/prod/conftest.py) refuses connections, then hangs: the message stays in
the outbox (not sent, the error kept), the default worker retries it, and it is delivered exactly
once when the gateway answers again."""

from __future__ import annotations

import time

from tests.prod.conftest import db_fresh


def wait_for(what, condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def outbox(pk: int):
    from ramis.common.models import OutboxMessage

    db_fresh()
    return OutboxMessage.objects.get(pk=pk)


def test_drill_sms_gateway_refusing_then_hanging_delivered_once(sms_gateway, drill_report):
    from django.db import transaction

    from ramis.common import notify
    from ramis.common.models import OutboxMessage

    sms_gateway.stop()  # refuses connections
    try:
        with transaction.atomic():
            queued = notify.send_sms(to="09120000922", template="login_code", context={"code": "515151", "minutes": 5})
        refused = wait_for("two refused attempts", lambda: (m := outbox(queued.pk)).attempts >= 2 and m)
        assert refused.status != OutboxMessage.Status.SENT
        assert "unreachable" in refused.last_error, refused.last_error
        sms_gateway.hang = True
        hung_from = len(sms_gateway.requests)
        sms_gateway.start()  # accepts, never answers: the worker's read timeout gives up
        wait_for("a hung attempt", lambda: any(r.get("localid") == str(queued.pk) for r in sms_gateway.requests[hung_from:])
                 and "in time" in outbox(queued.pk).last_error, timeout=90)
        assert outbox(queued.pk).status == OutboxMessage.Status.FAILED
        assert sms_gateway.delivered_for(queued.pk) == 0
    finally:
        sms_gateway.stop()
        sms_gateway.hang = False
        sms_gateway.start()
    back_at = time.monotonic()
    sent = wait_for("delivered", lambda: (m := outbox(queued.pk)).status == OutboxMessage.Status.SENT and m, timeout=120)
    recovered = time.monotonic() - back_at
    time.sleep(3)  # a second delivery, were there one, would show here
    assert sms_gateway.delivered_for(queued.pk) == 1
    assert outbox(queued.pk).status == OutboxMessage.Status.SENT
    assert sent.attempts >= 3  # refused twice, hung at least once, then delivered
    drill_report(f"the SMS stayed in the outbox (refused, then hung: {sent.attempts} attempts in all), "
                 f"delivered once {recovered:.0f} s after the gateway answered again", recovered_seconds=recovered)
