"""The CA's part of an office issuance runs on the ``signing`` queue (DESIGN "PKI": only that
worker holds the CA token's PIN): through a real worker on Redis, and what happens when the
worker is late — the office gives up, nothing stays valid."""

from __future__ import annotations

import uuid

import pytest

from ramis.ca.models import IssuedCertificate
from ramis.celery import app
from ramis.common.models import AuditEntry
from ramis.desk import services, tasks
from ramis.desk.models import IssuanceAttempt
from ramis.requests.models import CertificateRequest
from tests.conftest import ca_ready
from tokens.conf import get_manager

from .conftest import TOKEN_PIN, identity_ok


def test_the_ca_task_is_routed_to_the_signing_queue(settings):
    assert settings.CELERY_TASK_ROUTES["ramis.desk.tasks.ca_sign"] == settings.CELERY_TASK_ROUTES["ramis.ca.tasks.*"]
    assert settings.CELERY_TASK_ROUTES["ramis.desk.tasks.ca_sign"]["queue"] == "signing"  # CA_SIGNING_QUEUE
    assert tasks.ca_sign.name == "ramis.desk.tasks.ca_sign"


def test_worker_never_answers_the_office_gives_up(ca, awaiting_issuance, clerk, applicant_token, settings,
                                                 monkeypatch):
    settings.OFFICE_SIGNING_TIMEOUT_SECONDS = 0
    monkeypatch.setattr(tasks.ca_sign, "delay", lambda attempt_id: None)  # the worker is down
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert exc.value.code == "ca_timeout"
    attempt = IssuanceAttempt.objects.get()
    assert attempt.status == "failed" and attempt.cleanup["token_objects_deleted"] == 2
    assert CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "awaiting_issuance"
    # the message is consumed later: the worker sees the attempt given up and signs nothing
    services.ca_sign_for_attempt(attempt_id=attempt.pk)
    assert not IssuedCertificate.objects.filter(request_ref__startswith=f"{awaiting_issuance.reference}/").exists()
    assert IssuanceAttempt.objects.get().status == "failed"


def test_a_certificate_signed_after_the_office_gave_up_is_revoked(ca, awaiting_issuance, clerk, applicant_token,
                                                                 settings, monkeypatch):
    settings.OFFICE_SIGNING_TIMEOUT_SECONDS = 0

    def claim_only(attempt_id):  # the worker claimed it, and is slow
        attempt = IssuanceAttempt.objects.get(pk=attempt_id)
        attempt.claim()
        attempt.save()

    monkeypatch.setattr(tasks.ca_sign, "delay", claim_only)
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError):
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    attempt = IssuanceAttempt.objects.get()
    assert attempt.status == "failed"
    services.ca_sign_claimed(attempt_id=attempt.pk)  # the worker finishes signing
    issued = IssuedCertificate.objects.get(request_ref=services._request_ref(awaiting_issuance, attempt))
    assert issued.status == "revoked" and issued.revocation_reason == "cessation_of_operation"
    assert AuditEntry.objects.for_object(attempt).filter(event="issuance.late_certificate_revoked").exists()


def test_a_worker_killed_between_signing_and_recording_leaves_nothing_valid(ca, awaiting_issuance, clerk,
                                                                             applicant_token, settings,
                                                                             monkeypatch):
    """SIGKILLed after the CA signed and before it noted the serial on the attempt (the prod-check
    drill): the office gives up, and the certificate nobody recorded is revoked all the same."""
    from ramis.ca import services as ca_services

    settings.OFFICE_SIGNING_TIMEOUT_SECONDS = 0

    def signed_then_killed(attempt_id):
        attempt = IssuanceAttempt.objects.select_related("request").get(pk=attempt_id)
        attempt.claim()
        attempt.save()
        req = attempt.request
        ca_services.certificate_issue(profile=req.cert_type, csr_pem=attempt.csr_pem,
                                      subject=services.selectors.certificate_subject(req), actor=clerk,
                                      request_ref=services._request_ref(req, attempt), validity_days=365)

    monkeypatch.setattr(tasks.ca_sign, "delay", signed_then_killed)
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial)
    assert exc.value.code == "ca_timeout"
    attempt = IssuanceAttempt.objects.get()
    assert attempt.status == "failed" and attempt.certificate_serial == ""
    issued = IssuedCertificate.objects.get(request_ref=services._request_ref(awaiting_issuance, attempt))
    assert issued.status == "revoked" and issued.revocation_reason == "cessation_of_operation"
    assert attempt.cleanup["ca_revoked"] == issued.serial_hex
    assert attempt.cleanup["token_objects_deleted"] == 2


@pytest.fixture
def signing_worker(settings):
    """A real worker consuming the signing task from Redis, on a queue of this run's own (the
    Redis database is shared with other runs: nothing may reach the real ``signing`` queue)."""
    from celery.contrib.testing.worker import start_worker
    from django.db import connection

    from tests.integration.test_celery_worker import _redis_url, _reset_connections

    if connection.vendor == "sqlite":
        pytest.skip("the worker thread and the office's polling share SQLite's in-memory test database, which "
                    "locks whole tables; CI runs this on PostgreSQL")
    url = _redis_url()
    queue = f"test-desk-signing-{uuid.uuid4().hex}"
    old = app.conf.broker_url, app.conf.task_default_queue, app.conf.task_routes

    def reset():
        _reset_connections()
        app.amqp.flush_routes()  # the router keeps the routes it was first built with
        app.amqp.router = app.amqp.Router()

    app.conf.broker_url = url
    app.conf.task_default_queue = queue
    app.conf.task_routes = {"ramis.desk.tasks.ca_sign": {"queue": queue}, "ramis.ca.tasks.*": {"queue": queue}}
    reset()
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING",
                          queues=[queue]):
            yield
    finally:
        app.conf.task_always_eager = True
        app.conf.broker_url, app.conf.task_default_queue, app.conf.task_routes = old
        import redis

        redis.Redis.from_url(url).delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")  # this run's own queue only
        reset()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_issuance_signed_by_a_worker_through_redis(signing_worker, awaiting_issuance, clerk, settings):
    ca_ready()
    settings.OFFICE_SIGNING_TIMEOUT_SECONDS = 30
    token = get_manager().init_token(f"app-{uuid.uuid4().hex[:12]}", "13579135", TOKEN_PIN)
    identity_ok(awaiting_issuance, clerk)
    certificate = services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                                  token_serial=token.serial)
    assert CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "issued"
    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).status == "active"
