"""Issuance through the token agent on the clerk's workstation: the real agent process
(``python -m tokens.agent``) on 127.0.0.1 over TLS with a self-signed certificate made here, on the
test session's SoftHSM token directory; the desk's ``request_issue_on_token`` unchanged, through
``AgentTokens``. And the agent's authentication: bad HMAC, replayed nonce, stale time refused."""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings

from ramis.ca.models import CertificateAuthority, IssuedCertificate
from ramis.common.models import AuditEntry
from ramis.desk import services
from ramis.desk.agent import AgentTokens
from ramis.desk.models import IssuanceAttempt, Workstation
from ramis.requests.models import Certificate, CertificateRequest
from tokens import OperationNotAllowed, WrongPin, wire
from tokens.conf import get_manager
from tokens.errors import AgentRefused, AgentUnavailable

from .conftest import TOKEN_PIN, identity_ok

ROOT = Path(__file__).resolve().parents[2]
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
PEM = serialization.Encoding.PEM


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token agent test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "agent.crt", directory / "agent.key"
    cert_path.write_bytes(cert.public_bytes(PEM))
    key_path.write_bytes(key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class Agent:
    def __init__(self, proc: subprocess.Popen, url: str, secret: str, cert: Path, log: Path):
        self.proc, self.url, self.secret, self.cert, self.log = proc, url, secret, cert, log

    def log_text(self) -> str:
        return self.log.read_text()


def _start_agent(directory: Path) -> Agent:
    """The agent in a process of its own, on the test session's SoftHSM directory, over TLS."""
    cert, key = _self_signed(directory)
    secret_file = directory / "secret"
    wire.new_secret(secret_file)
    log = directory / "agent.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokens.agent", "serve", "--listen", "127.0.0.1:0", "--module", SOFTHSM,
             "--softhsm-dir", str(django_settings.SOFTHSM_DIR), "--secret-file", str(secret_file),
             "--cert", str(cert), "--key", str(key), "--max-skew", "30"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    line = proc.stdout.readline()
    assert line.startswith("token agent listening on https://127.0.0.1:"), (line, log.read_text())
    return Agent(proc, line.split()[4], secret_file.read_text().strip(), cert, log)


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    started = _start_agent(tmp_path_factory.mktemp("agent"))
    yield started
    started.proc.terminate()
    started.proc.wait(timeout=10)


def workstation_of(agent: Agent, office, name: str = "desk 1") -> Workstation:
    """The office's workstation row for a running agent. (The server makes a workstation's secret
    in ``workstation_add``; the test agent was started with its own, so the row takes that one.)"""
    ws = Workstation.objects.create(office=office, name=name, agent_url=agent.url)
    ws.seal_secret(agent.secret)
    ws.save()
    return ws


@pytest.fixture
def via_agent(settings, agent, office):
    """Issuance through the agent, at the office's workstation ``via_agent.ws``."""
    settings.OFFICE_TOKEN_BACKEND = "ramis.desk.agent.AgentTokens"
    settings.OFFICE_AGENT_CA_FILE = str(agent.cert)
    settings.OFFICE_AGENT_TIMEOUT_SECONDS = 30
    agent.ws = workstation_of(agent, office)
    return agent


def _assert_unchanged(req, code):
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
    assert not Certificate.objects.filter(request=req).exists()
    attempt = IssuanceAttempt.objects.filter(request=req).latest("id")
    assert attempt.status == "failed" and attempt.error_code == code
    assert AuditEntry.objects.for_object(attempt).get(event="issuance.failed").extra["code"] == code
    return attempt


def test_full_issuance_through_the_agent(ca, awaiting_issuance, clerk, applicant_token, via_agent, tmp_path):
    req = awaiting_issuance
    identity_ok(req, clerk)
    calls_before = via_agent.log_text().count("/v1/keys/sign")

    certificate = services.request_issue_on_token(request_id=req.pk, actor=clerk, pin=TOKEN_PIN,
                                                  token_serial=applicant_token.serial, workstation_id=via_agent.ws.pk)

    assert CertificateRequest.objects.get(pk=req.pk).status == "issued"
    assert certificate.token_serial == applicant_token.serial
    attempt = IssuanceAttempt.objects.get(request=req)
    assert attempt.status == "issued" and attempt.workstation == via_agent.ws
    # the audit rows of the issuance name the workstation it ran at
    station = {"id": via_agent.ws.pk, "name": "desk 1", "url": via_agent.url}
    for event in ("issuance.started", "issuance.completed"):
        assert AuditEntry.objects.for_object(attempt).get(event=event).extra["workstation"] == station
    # the CSR was signed by the agent (the web process never opened the token)
    log = via_agent.log_text()
    assert log.count('"POST /v1/keys/sign HTTP/1.1" 200') > calls_before
    assert '"POST /v1/sessions/close HTTP/1.1" 200' in log
    assert TOKEN_PIN not in log  # the PIN is never logged

    # on the token, read here in-process: the key is sensitive and never extractable, the
    # certificate beside it is the issued one and matches the key
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    key_id = bytes.fromhex(attempt.key_id)
    attrs = token.key_attributes(key_id)
    assert attrs["SENSITIVE"] and attrs["NEVER_EXTRACTABLE"] and attrs["LOCAL"] and not attrs["EXTRACTABLE"]
    on_token = token.certificate(key_id)
    issued = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    assert on_token.public_bytes(serialization.Encoding.DER) == bytes(issued.der)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert (on_token.public_key().public_bytes(serialization.Encoding.DER, spki)
            == token.private_key(id=key_id).public_key().public_bytes(serialization.Encoding.DER, spki))
    token.logout()

    # openssl accepts the chain
    for slug in ("root", "issuing"):
        ca_cert = x509.load_der_x509_certificate(bytes(CertificateAuthority.objects.get(slug=slug).certificate_der))
        (tmp_path / f"{slug}.pem").write_bytes(ca_cert.public_bytes(PEM))
    (tmp_path / "leaf.pem").write_bytes(on_token.public_bytes(PEM))
    proc = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted",
                           str(tmp_path / "issuing.pem"), str(tmp_path / "leaf.pem")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "leaf.pem: OK" in proc.stdout, proc.stderr


def test_new_token_initialised_by_the_agent(ca, awaiting_issuance, clerk, via_agent, settings):
    settings.OFFICE_TOKEN_SO_PINS = {"TEH01": "teh-SO-pin-41", "ISF01": "isf-SO-pin-73"}
    identity_ok(awaiting_issuance, clerk)
    certificate = services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310",
                                                  new_token=True, workstation_id=via_agent.ws.pk)
    manager = get_manager()
    manager.rescan()  # the agent process created it
    info = manager.token_info(serial=certificate.token_serial)
    assert info.label.startswith("RAMIS-0499370899-")
    token = manager.open(serial=info.serial, pin="975310")
    assert any(o.object_class == "certificate" for o in token.objects())
    token.logout()
    assert "975310" not in via_agent.log_text()
    # the agent was given this office's SO PIN, not another office's nor the global fallback
    for other in ("isf-SO-pin-73", settings.OFFICE_TOKEN_SO_PIN):
        with pytest.raises(WrongPin):
            manager.init_token("probe", other, "222222", serial=info.serial)
    manager.init_token(f"probe-{uuid.uuid4().hex[:6]}", "teh-SO-pin-41", "222222", serial=info.serial)


def test_wrong_pin_through_the_agent(ca, awaiting_issuance, clerk, applicant_token, via_agent):
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="000000",
                                        token_serial=applicant_token.serial, workstation_id=via_agent.ws.pk)
    assert exc.value.code == "wrong_pin" and "نادرست" in exc.value.message
    _assert_unchanged(awaiting_issuance, "wrong_pin")


def test_agent_down_is_a_clear_error_and_changes_nothing(ca, awaiting_issuance, clerk, applicant_token, via_agent,
                                                         settings, office):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Workstation.objects.filter(pk=via_agent.ws.pk).update(agent_url=f"https://127.0.0.1:{port}")
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial, workstation_id=via_agent.ws.pk)
    assert exc.value.message == AgentUnavailable.message_fa
    attempt = _assert_unchanged(awaiting_issuance, "token")
    assert "token agent unavailable" in attempt.error
    # and the issue page says so instead of listing tokens
    backend = AgentTokens.for_office(office, Workstation.objects.get(pk=via_agent.ws.pk))
    with pytest.raises(AgentUnavailable):
        backend.list_tokens()


def test_lint_failure_deletes_the_key_through_the_agent(ca, awaiting_issuance, clerk, applicant_token, via_agent,
                                                       pkilint_refuses):
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial, workstation_id=via_agent.ws.pk)
    assert exc.value.code == "lint"
    attempt = _assert_unchanged(awaiting_issuance, "lint")
    assert attempt.cleanup["token_objects_deleted"] == 2
    assert '"POST /v1/keys/delete HTTP/1.1" 200' in via_agent.log_text()
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == []
    token.logout()


def test_agent_gone_after_the_ca_signed_the_certificate_is_revoked(ca, awaiting_issuance, clerk, applicant_token,
                                                                   settings, office, tmp_path, monkeypatch):
    """The workstation's agent dies between the CA's signature and the write: no valid certificate
    stays without its key on the token and its record."""
    doomed = _start_agent(tmp_path)
    settings.OFFICE_TOKEN_BACKEND = "ramis.desk.agent.AgentTokens"
    settings.OFFICE_AGENT_CA_FILE = str(doomed.cert)
    ws = workstation_of(doomed, office)
    wait_for_ca = services._wait_for_ca

    def then_the_agent_dies(attempt):
        attempt = wait_for_ca(attempt)
        doomed.proc.kill()
        doomed.proc.wait(timeout=10)
        return attempt

    monkeypatch.setattr(services, "_wait_for_ca", then_the_agent_dies)
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin=TOKEN_PIN,
                                        token_serial=applicant_token.serial, workstation_id=ws.pk)
    assert exc.value.code == "write_failed" and "ابطال" in exc.value.message
    attempt = _assert_unchanged(awaiting_issuance, "write_failed")
    assert "token agent unavailable" in attempt.error
    issued = IssuedCertificate.objects.exclude(profile="tsa").get()
    assert issued.status == "revoked" and issued.revocation_reason == "cessation_of_operation"
    assert attempt.cleanup["ca_revoked"] == issued.serial_hex
    # the key could not be deleted (the agent is gone): the attempt says which one
    assert attempt.cleanup["key_delete_failed"] == attempt.key_id


def test_a_wrong_secret_or_an_untrusted_certificate_is_refused(via_agent, office, tmp_path):
    with pytest.raises(AgentRefused) as exc:
        AgentTokens(url=via_agent.url, secret="x" * 64, ca_file=str(via_agent.cert)).list_tokens()
    assert "HTTP 401" in str(exc.value) and "secret" in str(exc.value) and exc.value.message_fa
    assert "refused /v1/tokens/list from 127.0.0.1: bad signature" in via_agent.log_text()
    other_cert, _ = _self_signed(tmp_path)
    with pytest.raises(AgentUnavailable) as exc:
        AgentTokens(url=via_agent.url, secret=via_agent.secret, ca_file=str(other_cert)).list_tokens()
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value)
    # plain HTTP to a workstation on the network is refused before anything is sent
    backend = AgentTokens(url="http://10.1.2.3:8765", secret=via_agent.secret)
    with pytest.raises(AgentUnavailable, match="must be https"):
        backend.list_tokens()
    # a missing CA file is the same kind of error, raised at use (never when the desk builds the backend)
    backend = AgentTokens(url=via_agent.url, secret=via_agent.secret, ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(AgentUnavailable, match="cannot load the CA file"):
        backend.info(serial="0")


def _post(agent, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    context = ssl.create_default_context(cafile=str(agent.cert))
    host, port = agent.url.removeprefix("https://").split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_the_agent_refuses_bad_hmac_replays_and_stale_requests(agent):
    secret = agent.secret.encode()
    body = b"{}"
    headers = wire.request_headers(secret, "POST", "/v1/tokens/list", body)
    status, answer = _post(agent, "/v1/tokens/list", body, headers)
    assert status == 200 and isinstance(answer["tokens"], list)
    # the same request again: the nonce was used
    status, answer = _post(agent, "/v1/tokens/list", body, headers)
    assert status == 401 and "replayed nonce" in answer["error"]["message"]
    # a signature made with another secret, or over another body or path
    status, answer = _post(agent, "/v1/tokens/list", body,
                           wire.request_headers(b"y" * 64, "POST", "/v1/tokens/list", body))
    assert status == 401 and "bad signature" in answer["error"]["message"]
    tampered = wire.request_headers(secret, "POST", "/v1/tokens/list", body)
    status, _ = _post(agent, "/v1/tokens/info", body, tampered)
    assert status == 401
    # a time outside the agent's window (30 s here), correctly signed
    status, answer = _post(agent, "/v1/tokens/list", body,
                           wire.request_headers(secret, "POST", "/v1/tokens/list", body, now=time.time() - 120))
    assert status == 401 and "stale" in answer["error"]["message"]
    # no headers at all
    status, _ = _post(agent, "/v1/tokens/list", body, {})
    assert status == 401
    # an authentic request for something the agent does not offer (there is no export call)
    for path in ("/v1/keys/export", "/v1/keys/private_bytes"):
        status, _ = _post(agent, path, body, wire.request_headers(secret, "POST", path, body))
        assert status == 404
    assert agent.proc.poll() is None


def test_the_agent_signs_digests_only_and_its_keys_never_export(agent, applicant_token):
    from tokens.remote import AgentClient, RemoteTokens

    client = AgentClient(agent.url, agent.secret.encode(), ca_file=str(agent.cert))
    token = RemoteTokens(client).open(serial=applicant_token.serial, pin=TOKEN_PIN)
    try:
        key = token.generate_keypair("rsa2048", label="oracle-test")
        with pytest.raises(OperationNotAllowed):
            key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        # raw RSA over arbitrary bytes is refused: only a SHA-2 DigestInfo is signed
        from tokens.errors import TokenError

        with pytest.raises(TokenError, match="DigestInfo"):
            token._call("/v1/keys/sign", {"id": key.key_id.hex(), "mechanism": "RSA_PKCS",
                                          "data": "AAECAwQF"})
        with pytest.raises(TokenError, match="not offered"):
            token._call("/v1/keys/sign", {"id": key.key_id.hex(), "mechanism": "RSA_X_509", "data": "AAEC"})
        assert token.delete_key(key.key_id) == 2
    finally:
        token.logout()


def test_the_agent_needs_tls_off_loopback_and_a_private_secret(tmp_path):
    secret = tmp_path / "secret"
    wire.new_secret(secret)
    base = [sys.executable, "-m", "tokens.agent", "serve", "--module", SOFTHSM, "--secret-file", str(secret)]
    env = {**os.environ, "SOFTHSM2_CONF": str(Path(django_settings.SOFTHSM_DIR) / "softhsm2.conf")}
    out = subprocess.run([*base, "--listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode != 0 and "loopback only" in out.stderr.strip().splitlines()[-1]
    secret.chmod(0o644)
    out = subprocess.run([*base, "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode != 0 and "chmod 600" in out.stderr.strip().splitlines()[-1]


def test_the_issue_page_lists_the_workstations_tokens_through_the_agent(ca, applicant_person, office, catalogue, clerk,
                                                                        clerk_client, applicant_token, via_agent,
                                                                        settings):
    from django.urls import reverse

    from tests.requests.conftest import advance, make_draft

    # the applicant brings a token (a bought one is initialised, not picked from a list)
    reusing = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                      "awaiting_issuance", clerk=clerk)
    identity_ok(reusing, clerk)
    url = reverse("desk:issue", args=[reusing.pk])
    # no workstation chosen yet: a Persian prompt, and no token listed
    html = clerk_client.get(url).content.decode()
    assert 'id="choose-workstation-prompt"' in html and applicant_token.serial not in html
    clerk_client.post(reverse("desk:workstation"), {"workstation": via_agent.ws.pk, "next": url})
    before = via_agent.log_text().count("/v1/tokens/list")
    pings = via_agent.log_text().count("/v1/ping")
    html = clerk_client.get(url).content.decode()
    assert applicant_token.serial in html and "ramis-issuing" not in html
    assert via_agent.log_text().count("/v1/tokens/list") == before + 1
    # the page pinged the agent (signed) and shows that it answers; the row remembers when
    assert via_agent.log_text().count('"POST /v1/ping HTTP/1.1" 200') == pings + 1
    assert 'id="agent-health" data-ok="1"' in html and "پاسخ می‌دهد" in html
    ws = Workstation.objects.get(pk=via_agent.ws.pk)
    assert ws.last_seen_at is not None and ws.answers and ws.last_error == ""
    assert AuditEntry.objects.for_object(ws).filter(event="workstation.health", new="answers").count() == 1
    # a second view is no new audit row (only changes of health are)
    clerk_client.get(url)
    assert AuditEntry.objects.for_object(ws).filter(event="workstation.health").count() == 1


def test_a_vendor_initialised_token_is_reinitialised_through_the_agent(ca, awaiting_issuance, clerk, via_agent,
                                                                         settings):
    """A bought token that arrived initialised by its vendor, at the workstation: a wrong SO PIN
    changes nothing; the vendor's wipes it, the applicant's PIN and the office's SO PIN are set."""
    manager = get_manager()
    vendor = manager.init_token(f"ePass-{uuid.uuid4().hex[:8]}", "87654321", "111111")
    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310",
                                        reinit_serial=vendor.serial, so_pin="00000000", workstation_id=via_agent.ws.pk)
    assert exc.value.code == "wrong_so_pin"
    manager.rescan()
    assert manager.token_info(serial=vendor.serial).label == vendor.label
    _assert_unchanged(awaiting_issuance, "wrong_so_pin")

    certificate = services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310",
                                                  reinit_serial=vendor.serial, so_pin="87654321",
                                                  workstation_id=via_agent.ws.pk)
    assert certificate.token_serial == vendor.serial
    assert '"POST /v1/tokens/init HTTP/1.1" 200' in via_agent.log_text()
    assert "87654321" not in via_agent.log_text() and "975310" not in via_agent.log_text()
    manager.rescan()
    assert manager.token_info(serial=vendor.serial).label.startswith("RAMIS-")
    token = manager.open(serial=vendor.serial, pin="975310")
    assert any(o.object_class == "certificate" for o in token.objects())
    token.logout()
    with pytest.raises(WrongPin):  # the vendor's SO PIN no longer opens it; the office's does
        manager.init_token("probe", "87654321", "222222", serial=vendor.serial)
    manager.init_token(f"probe-{uuid.uuid4().hex[:6]}", settings.OFFICE_TOKEN_SO_PIN, "222222", serial=vendor.serial)
