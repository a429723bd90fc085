"""Issue 11 drill: the SMS gateway (a stand-in on 127.0.0.1 at SMS_BASE_URL) refuses connections,
then hangs, then accepts: the message stays in the outbox, is retried, and is delivered once."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.db import transaction

from ramis.common import notify
from ramis.common.models import OutboxMessage
from ramis.common.tasks import outbox_retry_pending
from tests.servers import free_port


class StandInGateway:
    """Kavenegar's send API on a fixed port, started and stopped by the test: ``hang`` keeps the
    connection open without an answer; otherwise the message is delivered (recorded) and answered."""

    def __init__(self):
        self.port = free_port()
        self.requests: list[dict] = []
        self.delivered: list[dict] = []
        self.hang = False
        self._release = threading.Event()
        self._server = None
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                gateway.requests.append(form)
                if gateway.hang:
                    gateway._release.wait(10)  # the client gives up first (its read timeout)
                    return
                gateway.delivered.append(form)
                body = json.dumps({"return": {"status": 200},
                                   "entries": [{"messageid": 7000 + len(gateway.delivered)}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._handler = Handler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def gateway(settings):
    stand_in = StandInGateway()
    settings.SMS_BACKEND = "ramis.common.sms.KavenegarSMSBackend"
    settings.SMS_OPTIONS = {"api_key": "TESTKEY", "sender": "1000", "connect_timeout": 1, "timeout": 1}
    settings.SMS_BASE_URL = stand_in.url
    yield stand_in
    stand_in.stop()


def _age(message):  # the beat task retries what is older than a minute
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=message.created_at.replace(year=2020))


@pytest.mark.django_db(transaction=True)
def test_refused_then_hung_then_accepted_is_delivered_once(gateway):
    with socket.socket() as probe:  # nothing listens: the gateway refuses connections
        assert probe.connect_ex(("127.0.0.1", gateway.port)) != 0
    with transaction.atomic():
        message = notify.send_sms(to="09121234567", template="login_code", context={"code": "1357", "minutes": 2})
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 1)
    assert "unreachable" in message.last_error

    gateway.hang = True
    gateway.start()
    _age(message)
    assert outbox_retry_pending() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 2)
    assert "did not answer in time" in message.last_error
    assert len(gateway.requests) == 1 and gateway.delivered == []

    gateway.hang = False
    assert outbox_retry_pending() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.SENT, 3)
    assert message.provider_ref == "7001"

    assert outbox_retry_pending() == 0  # sent: never again
    assert len(gateway.delivered) == 1
    assert gateway.delivered[0]["receptor"] == "09121234567" and "1357" in gateway.delivered[0]["message"]
    # every attempt carried the same id of ours, for the gateway to match a retry to the first call
    assert {r["localid"] for r in gateway.requests} == {str(message.pk)}


def test_sms_gateway_settings_come_from_the_environment(monkeypatch):
    import importlib.util
    from pathlib import Path

    from django.conf import settings

    monkeypatch.setenv("SMS_BASE_URL", "http://127.0.0.1:18299/")
    monkeypatch.setenv("SMS_CONNECT_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("SMS_READ_TIMEOUT_SECONDS", "7")
    spec = importlib.util.spec_from_file_location("ramis._settings_probe", Path(settings.BASE_DIR) / "ramis/settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SMS_BASE_URL == "http://127.0.0.1:18299"
    assert (module.SMS_OPTIONS["connect_timeout"], module.SMS_OPTIONS["timeout"]) == (3, 7)
