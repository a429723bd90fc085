"""The applicant's PIN and a token's SO PIN are never stored (R13 "entered on the clerk's screen,
never stored") nor logged: after issuances through the clerk's page — a new token initialised
with the applicant's PIN, an existing token opened with its PIN (after a wrong one), and a
vendor token wiped with its SO PIN — no text or JSON column of any table (issuance attempts,
the audit trail, the SMS/e-mail outbox, …), no session's data, no cookie and no log record
holds any of them. The same search finds the token's label, so it does look where they would be."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django.urls import reverse

from ramis.desk.models import IssuanceAttempt
from ramis.requests.models import CertificateRequest
from tests.requests.conftest import advance, make_draft
from tokens.conf import get_manager

from .conftest import identity_ok

NEW_PIN = "nEw-pin-7Qx2"
EXISTING_PIN = "oLd-pin-5Kw8"
WRONG_PIN = "bad-pin-3Zr6"
VENDOR_SO_PIN = "vendor-So-9Hd4"
VENDOR_PIN = "vendor-pin-2Lm1"
REINIT_PIN = "wipe-pin-8Ty3"


def _stored_and_logged(client, caplog) -> str:
    """Every text and JSON value in the database, every session decoded, the client's cookies, the log."""
    parts = []
    for model in apps.get_models():
        columns = [f.attname for f in model._meta.concrete_fields
                   if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if columns:
            parts += [repr(row) for row in model.objects.values_list(*columns)]
    parts += [repr(session.get_decoded()) for session in Session.objects.all()]
    parts += [morsel.value for morsel in client.cookies.values()]
    parts += [caplog.text, *(repr(r.args) for r in caplog.records)]
    return "\n".join(parts)


def _assert_absent(haystack: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in haystack, secret


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_new_token_pin_never_stored_or_logged(ca, awaiting_issuance, clerk, clerk_client, logs):
    identity_ok(awaiting_issuance, clerk)
    response = clerk_client.post(reverse("desk:issue", args=[awaiting_issuance.pk]),
                                 {"token": "__new__", "pin": NEW_PIN, "pin_again": NEW_PIN})
    assert response.status_code == 302
    assert CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "issued"
    attempt = IssuanceAttempt.objects.get(request=awaiting_issuance, status="issued")
    token = get_manager().open(serial=attempt.token_serial, pin=NEW_PIN)  # the PIN is on the token...
    token.logout()
    clerk_client.get(reverse("desk:review", args=[awaiting_issuance.pk]))  # the success message is read

    haystack = _stored_and_logged(clerk_client, logs)
    assert attempt.token_label in haystack  # the search reaches the attempt's columns
    _assert_absent(haystack, NEW_PIN)  # ...and nowhere else


def test_existing_token_pin_never_stored_or_logged_even_when_wrong(ca, applicant_person, office, clerk, catalogue,
                                                                   clerk_client, logs):
    info = get_manager().init_token(f"own-{uuid.uuid4().hex[:8]}", VENDOR_SO_PIN, EXISTING_PIN)
    req = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue), "awaiting_issuance",
                  clerk=clerk)
    identity_ok(req, clerk)
    url = reverse("desk:issue", args=[req.pk])
    clerk_client.post(url, {"token": info.serial, "pin": WRONG_PIN})
    assert IssuanceAttempt.objects.get(request=req).error_code == "wrong_pin"
    response = clerk_client.post(url, {"token": info.serial, "pin": EXISTING_PIN})
    assert response.status_code == 302 and CertificateRequest.objects.get(pk=req.pk).status == "issued"
    clerk_client.get(reverse("desk:review", args=[req.pk]))

    haystack = _stored_and_logged(clerk_client, logs)
    assert info.label in haystack and "wrong_pin" in haystack
    _assert_absent(haystack, EXISTING_PIN, WRONG_PIN, VENDOR_SO_PIN)


def test_reinitialisation_so_pins_never_stored_or_logged(ca, awaiting_issuance, clerk, clerk_client, settings, logs):
    office_so_pin = "office-So-6Pv0"
    settings.OFFICE_TOKEN_SO_PINS = {"TEH01": office_so_pin}
    info = get_manager().init_token(f"ePass-{uuid.uuid4().hex[:8]}", VENDOR_SO_PIN, VENDOR_PIN)
    identity_ok(awaiting_issuance, clerk)
    url = reverse("desk:issue", args=[awaiting_issuance.pk])
    post = {"token": f"wipe:{info.serial}", "pin": REINIT_PIN, "pin_again": REINIT_PIN}
    clerk_client.post(url, {**post, "so_pin": "wrong-So-1Aa1"})  # refused by the token, audited
    response = clerk_client.post(url, {**post, "so_pin": VENDOR_SO_PIN})
    assert response.status_code == 302
    assert CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "issued"
    get_manager().rescan()
    token = get_manager().open(serial=info.serial, pin=REINIT_PIN)
    token.logout()
    clerk_client.get(reverse("desk:review", args=[awaiting_issuance.pk]))

    haystack = _stored_and_logged(clerk_client, logs)
    assert "issuance.token_reinitialised" in haystack and "wrong_so_pin" in haystack
    _assert_absent(haystack, REINIT_PIN, VENDOR_SO_PIN, "wrong-So-1Aa1", office_so_pin, VENDOR_PIN)
