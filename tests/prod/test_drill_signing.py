"""Fault drill: the `signing` worker (the only process with the CA PINs) is down when the clerk
issues. The clerk is told in Persian that the CA did not answer in time; nothing is signed then
or when the worker comes back (the queued task finds the attempt given up and leaves it alone);
the request is still awaiting issuance, and issuing again once the worker is back issues exactly
one certificate."""

from __future__ import annotations

import time

from tests.e2e import steps
from tests.prod.conftest import db_fresh
from tests.prod.test_drills import wait_running
from tests.prod.test_ramis_journey import request_awaiting_issuance


def issued_for(request) -> list[str]:
    from ramis.ca.models import IssuedCertificate

    db_fresh()
    return list(IssuedCertificate.objects.filter(request_ref__startswith=f"{request.reference}/")
                .values_list("serial_hex", flat=True))


def test_drill_signing_worker_down_during_issuance(topology, new_context):
    from ramis.desk.models import IssuanceAttempt
    from ramis.requests.models import Certificate, CertificateRequest

    _page, desk, request = request_awaiting_issuance(new_context)
    steps.identity_check(desk, request.reference)
    topology.ctl("stop", "signing")
    try:
        desk.get_by_label("توکن نو (ePass 2003): راه‌اندازی با رمز تازهٔ متقاضی").check()
        desk.locator("#id_pin").fill("135790")
        desk.locator("#id_pin_again").fill("135790")
        desk.locator("#issue-button").click()
        desk.locator(".messages").wait_for()
        assert "مرکز صدور در زمان مقرر پاسخ نداد" in desk.locator(".messages").inner_text()
        assert issued_for(request) == []
    finally:
        topology.ctl("start", "signing")
    wait_running(topology, ("signing",))
    time.sleep(5)  # the queued task is consumed now: it finds the attempt failed and signs nothing
    assert issued_for(request) == []
    db_fresh()
    assert CertificateRequest.objects.get(pk=request.pk).status == "awaiting_issuance"
    assert not Certificate.objects.filter(request_id=request.pk).exists()
    assert IssuanceAttempt.objects.get(request_id=request.pk).status == "failed"

    desk.goto(f"/office/requests/{request.pk}/issue/")
    steps.issue_on_new_token(desk, request.pk, "135790")
    assert "صادر و روی توکن نوشته شد" in desk.locator(".messages").inner_text()
    assert len(issued_for(request)) == 1
    assert Certificate.objects.filter(request_id=request.pk).count() == 1
