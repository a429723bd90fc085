"""SMS/e-mail are written to the outbox and delivered after commit; a failing gateway keeps
the message for a retry and never breaks the caller."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.db import transaction

from ramis.common import notify
from ramis.common.models import OutboxMessage
from ramis.common.tasks import outbox_retry_pending


class _Gateway(BaseHTTPRequestHandler):
    status = 200
    received: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        self.received.append((self.path, self.rfile.read(length).decode()))
        body = json.dumps({"return": {"status": 200}, "entries": [{"messageid": 8765}]}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    """A stand-in for Kavenegar's REST API on 127.0.0.1 (the real backend code talks to it)."""
    _Gateway.received = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "ramis.common.sms.KavenegarSMSBackend"
    settings.SMS_OPTIONS = {"api_key": "TESTKEY", "sender": "1000", "timeout": 2}
    settings.SMS_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    yield _Gateway
    server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_sms_is_sent_after_commit_only(gateway):
    with transaction.atomic():
        message = notify.send_sms(to="09121234567", template="login_code", context={"code": "123456", "minutes": 2})
        assert gateway.received == []  # nothing leaves before the transaction commits
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.provider_ref == "8765"
    path, body = gateway.received[0]
    assert path == "/v1/TESTKEY/sms/send.json"
    assert "receptor=09121234567" in body


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing(gateway):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify.send_sms(to="09121234567", template="login_code", context={"code": "1", "minutes": 2})
        raise RuntimeError
    assert gateway.received == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_failing_gateway_keeps_message_for_retry(gateway):
    gateway.status = 500
    with transaction.atomic():
        message = notify.send_sms(to="09121234567", template="login_code", context={"code": "1", "minutes": 2})
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert "HTTP 500" in message.last_error
    assert message.attempts == 1
    # The gateway recovers; the beat task re-sends what failed.
    gateway.status = 200
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=message.created_at.replace(year=2020))
    assert outbox_retry_pending() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_unreachable_gateway(settings):
    settings.SMS_BACKEND = "ramis.common.sms.KavenegarSMSBackend"
    settings.SMS_OPTIONS = {"api_key": "K", "timeout": 1}
    settings.SMS_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    with transaction.atomic():
        message = notify.send_sms(to="09121234567", template="login_code", context={"code": "1", "minutes": 2})
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert "unreachable" in message.last_error


@pytest.mark.django_db(transaction=True)
def test_email_goes_through_outbox():
    with transaction.atomic():
        notify.send_email(to="a@example.com", template="request_email_code", secrets=("code",),
                          context={"req": {"reference": "R-1"}, "code": "654321", "minutes": 2})
    assert len(mail.outbox) == 1
    assert "654321" in mail.outbox[0].body
    assert mail.outbox[0].subject == "رمیس: کد تأیید رایانامه درخواست R-1"  # its template, beside the body
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


@pytest.mark.django_db
def test_message_text_is_plain_text_not_html_escaped():
    """A reviewer's reason with «&», quotes and «<» reaches the SMS and e-mail as written; the
    pages that show the message escape it there."""
    reason = 'نام «A & B» با "C" <D> نمی‌خواند'
    business = {"domain": "shop.example.ir", "reference": "EN-1"}
    with transaction.atomic():
        sms = notify.send_sms(to="09121234567", template="enamad_status",
                              context={"business": business, "status": "ناقص", "reason": reason})
        email = notify.send_email(to="a@example.com", template="enamad_status",
                                  context={"business": business, "status": "ناقص", "reason": reason,
                                           "subject_words": "ناقص"})
    for message in (sms, email):
        assert f"توضیح: {reason}" in message.body
        assert "&amp;" not in message.body and "&quot;" not in message.body and "&lt;" not in message.body


def test_dev_outbox_page_only_in_debug(client, settings, db):
    OutboxMessage.objects.create(channel="sms", to="09121234567", body="کد ورود 123456")
    settings.DEV_OUTBOX = True
    response = client.get("/dev/outbox/")
    assert response.status_code == 200
    assert "123456" in response.content.decode()
    settings.DEV_OUTBOX = False
    assert client.get("/dev/outbox/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_login_code_is_masked_in_the_outbox_once_sent(gateway, settings):
    settings.OUTBOX_KEEP_SECRETS = False
    with transaction.atomic():
        message = notify.send_sms(to="09121234567", template="login_code", secrets=("code",),
                                  context={"code": "864209", "minutes": 2})
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert "864209" in gateway.received[0][1]  # the person got the code ...
    assert "864209" not in message.body and "••••••" in message.body  # ... the database did not keep it


@pytest.mark.django_db(transaction=True)
def test_stale_unsent_login_code_is_masked_not_retried(gateway, settings):
    settings.OUTBOX_KEEP_SECRETS = False
    gateway.status = 500
    with transaction.atomic():
        message = notify.send_sms(to="09121234567", template="login_code", secrets=("code",),
                                  context={"code": "135790", "minutes": 2})
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=message.created_at.replace(year=2020))
    gateway.status = 200
    assert outbox_retry_pending() == 0
    message.refresh_from_db()
    assert "135790" not in message.body
    assert message.last_error == "expired before delivery"
    assert len(gateway.received) == 1  # only the first, failed attempt
