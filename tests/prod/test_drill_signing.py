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


LIST_TOKEN_OBJECTS = """
import json, sys
import django
django.setup()
from ramis.desk import workstation
from ramis.offices.models import RegistrationOffice
office = RegistrationOffice.objects.filter(pk=int(sys.argv[1])).first()
backend = workstation.get_backend(office, None)
token = backend.open(serial=sys.argv[2], pin=sys.argv[3])
try:
    print(json.dumps([repr(o) for o in token.objects()]))
finally:
    backend.close(token)
"""


def applicant_token_objects(office, serial: str, pin: str) -> list:
    """What the applicant's token holds, read over PKCS#11 by a fresh process as the office's
    process reads it (SoftHSM shows a process only the tokens present when it initialised)."""
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", LIST_TOKEN_OBJECTS, str(office.pk), serial, pin],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_drill_signing_worker_killed_during_issuance(topology, new_context, drill_report):
    """SIGKILL while the task runs: after the CA signed, before the worker recorded it (the drill
    delay, OFFICE_SIGNING_DRILL_DELAY_SECONDS, holds it there). The clerk is told why; the
    certificate nobody recorded is revoked; the key the office made is gone from the token."""
    from ramis.ca.models import IssuedCertificate
    from ramis.desk.models import IssuanceAttempt
    from ramis.requests.models import Certificate, CertificateRequest
    from tests.prod.test_drills import kill_hard

    _page, desk, request = request_awaiting_issuance(new_context)
    steps.identity_check(desk, request.reference)
    desk.get_by_label("توکن نو (ePass 2003): راه‌اندازی با رمز تازهٔ متقاضی").check()
    desk.locator("#id_pin").fill("246802")
    desk.locator("#id_pin_again").fill("246802")
    desk.locator("#issue-button").click(no_wait_after=True)
    deadline = time.monotonic() + 60
    while not issued_for(request):  # the CA has signed; the worker sits in the drill delay
        assert time.monotonic() < deadline, "the signing worker did not sign within 60 s"
        time.sleep(0.1)
    kill_hard(topology, "signing")
    killed_at = time.monotonic()
    desk.locator(".messages").wait_for()
    told = desk.locator(".messages").inner_text()
    assert "مرکز صدور در زمان مقرر پاسخ نداد" in told, told
    db_fresh()
    attempt = IssuanceAttempt.objects.filter(request_id=request.pk).order_by("-id").first()
    assert attempt.status == "failed"
    signed = IssuedCertificate.objects.filter(request_ref__startswith=f"{request.reference}/")
    assert signed.count() == 1  # signed once, never twice
    assert all(c.status == IssuedCertificate.Status.REVOKED for c in signed), "the certificate nobody recorded must be revoked"
    assert not Certificate.objects.filter(request_id=request.pk).exists()
    assert CertificateRequest.objects.get(pk=request.pk).status == "awaiting_issuance"
    office = CertificateRequest.objects.select_related("office").get(pk=request.pk).office
    assert applicant_token_objects(office, attempt.token_serial, "246802") == []  # no orphaned key

    wait_running(topology, ("signing",))  # supervisord restarted it
    back_at = time.monotonic()
    desk.goto(f"/office/requests/{request.pk}/issue/")
    steps.issue_on_new_token(desk, request.pk, "246802")
    assert "صادر و روی توکن نوشته شد" in desk.locator(".messages").inner_text()
    recovered = time.monotonic() - killed_at
    db_fresh()
    assert Certificate.objects.filter(request_id=request.pk).count() == 1
    valid = [c for c in IssuedCertificate.objects.filter(request_ref__startswith=f"{request.reference}/")
             if c.status == IssuedCertificate.Status.ACTIVE]
    assert len(valid) == 1
    drill_report("the clerk read 'مرکز صدور در زمان مقرر پاسخ نداد'; the certificate signed before the kill "
                 "revoked, the token empty, the request still awaiting issuance; issued once after the worker "
                 f"returned (issuing took {time.monotonic() - back_at:.0f} s)", recovered_seconds=recovered)
