"""The OCSP tier's answers: "unknown" signed by the signing queue, never by the responder; the tier as deployed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp

from ramis.ca import builder, ocsp, responder, services, signing, tasks
from ramis.ca.models import CertificateAuthority
from ramis.celery import app as celery_app
from tests import xdist_env

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def issuing(db):
    responder.clear_cache()
    _root, issuing = services.ca_init(actor=None)
    yield issuing
    responder.clear_cache()


def issue(profile="signature"):
    _key, csr = make_csr()
    subject = SIGNATURE_SUBJECT if profile == "signature" else SEAL_SUBJECT
    return services.certificate_issue(profile=profile, csr_pem=csr, subject=subject, actor=None)


def issuer_cert(ca: CertificateAuthority) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(ca.certificate_der))


def request_for(ca: CertificateAuthority, serial: int, alg=None) -> bytes:
    name_hash, key_hash = builder.issuer_hashes(issuer_cert(ca))["sha1" if alg is None else "sha256"]
    return (c_ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(name_hash, key_hash, serial, alg or hashes.SHA1())  # noqa: S303
            .build().public_bytes(serialization.Encoding.DER))


def status_of(raw: bytes):
    resp = c_ocsp.load_der_ocsp_response(raw)
    if resp.response_status != c_ocsp.OCSPResponseStatus.SUCCESSFUL:
        return resp.response_status
    return resp.certificate_status


# -- unknown serials -----------------------------------------------------------------------------------


def test_unissued_serial_is_unknown_and_signed_once(issuing, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.ocsp_sign_unissued, "delay", lambda *a: calls.append(a) or tasks.ocsp_sign_unissued(*a))
    req = request_for(issuing, 0x1234ABCD)
    raw = responder.answer(req)
    assert status_of(raw) == c_ocsp.OCSPCertStatus.UNKNOWN
    resp = c_ocsp.load_der_ocsp_response(raw)
    assert resp.serial_number == 0x1234ABCD
    assert dt_minutes(resp.next_update_utc - resp.this_update_utc) == responder.UNISSUED_VALIDITY
    responder.clear_cache()  # another process: finds it in the shared cache, signs nothing
    assert responder.answer(req) == raw
    assert calls == [("issuing", "sha1", "1234abcd")]


def dt_minutes(delta) -> int:
    return int(delta.total_seconds() // 60)


def test_other_issuer_is_unauthorized_and_nothing_is_queued(issuing, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.ocsp_sign_unissued, "delay", lambda *a: calls.append(a))
    req = (c_ocsp.OCSPRequestBuilder()
           .add_certificate_by_hash(b"\x01" * 20, b"\x02" * 20, 5, hashes.SHA1())  # noqa: S303
           .build().public_bytes(serialization.Encoding.DER))
    assert responder.answer(req) == ocsp.UNAUTHORIZED
    assert calls == []


def test_too_many_new_serials_get_try_later(issuing, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.ocsp_sign_unissued, "delay", lambda *a: calls.append(a))
    monkeypatch.setattr(responder, "_take_unknown_budget", lambda: False)
    assert responder.answer(request_for(issuing, 77)) == ocsp.TRY_LATER
    assert calls == []


def test_a_queue_that_never_answers_gives_try_later(issuing, monkeypatch, settings):
    monkeypatch.setattr(tasks.ocsp_sign_unissued, "delay", lambda *a: None)  # queued, never consumed
    settings.CA_OCSP_UNKNOWN_WAIT_SECONDS = 0.2
    celery_app.conf.task_always_eager = False
    try:
        t0 = time.monotonic()
        assert responder.answer(request_for(issuing, 78)) == ocsp.TRY_LATER
        assert 0.2 <= time.monotonic() - t0 < 2
    finally:
        celery_app.conf.task_always_eager = True


def test_issuing_a_serial_forgets_its_unknown_answer(issuing, monkeypatch):
    serial = builder.random_serial()
    req = request_for(issuing, serial)
    assert status_of(responder.answer(req)) == c_ocsp.OCSPCertStatus.UNKNOWN
    monkeypatch.setattr(builder, "random_serial", lambda: serial)
    issue()
    responder.clear_cache()
    assert status_of(responder.answer(req)) == c_ocsp.OCSPCertStatus.GOOD


def _ca_token_unavailable(ca: CertificateAuthority, label: str) -> None:
    CertificateAuthority.objects.filter(pk=ca.pk).update(token_label=label)
    signing.clear_caches()


def test_a_revocation_while_the_ca_token_is_unavailable_never_leaves_good_in_ocsp(
        issuing, django_capture_on_commit_callbacks):
    cert = issue()
    req = request_for(issuing, int(cert.serial_hex, 16))
    assert status_of(responder.answer(req)) == c_ocsp.OCSPCertStatus.GOOD

    label = issuing.token_label
    _ca_token_unavailable(issuing, "no-such-token")
    with django_capture_on_commit_callbacks(execute=True):  # re-signing after commit fails (logged)
        services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
    responder.clear_cache()  # another process, or this one after CA_OCSP_CACHE_SECONDS
    assert responder.answer(req) == ocsp.TRY_LATER  # not the stale "good"
    assert not cert.ocsp_responses.exists()

    _ca_token_unavailable(issuing, label)  # the token is back: the next question gets a fresh answer
    raw = responder.answer(req)
    assert status_of(raw) == c_ocsp.OCSPCertStatus.REVOKED
    assert c_ocsp.load_der_ocsp_response(raw).revocation_reason == x509.ReasonFlags.key_compromise
    assert set(cert.ocsp_responses.values_list("hash_algorithm", "cert_status")) == {
        ("sha1", "revoked"), ("sha256", "revoked")}
    responder.clear_cache()
    assert status_of(responder.answer(request_for(issuing, int(cert.serial_hex, 16), hashes.SHA256()))) == \
        c_ocsp.OCSPCertStatus.REVOKED


def test_a_release_forgets_the_revoked_answer_signed_on_demand(issuing, django_capture_on_commit_callbacks):
    cert = issue()
    req = request_for(issuing, int(cert.serial_hex, 16))
    label = issuing.token_label
    _ca_token_unavailable(issuing, "no-such-token")
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_hold(serial=cert.serial_hex, actor=None)
    _ca_token_unavailable(issuing, label)
    assert status_of(responder.answer(req)) == c_ocsp.OCSPCertStatus.REVOKED  # on hold, signed on demand
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_release(serial=cert.serial_hex, actor=None)
    responder.clear_cache()
    assert status_of(responder.answer(req)) == c_ocsp.OCSPCertStatus.GOOD


def _revoked_while_the_token_was_away(issuing, django_capture_on_commit_callbacks):
    """A certificate revoked while the CA token was unavailable: its answers dropped, none signed."""
    cert = issue()
    label = issuing.token_label
    _ca_token_unavailable(issuing, "no-such-token")
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
    _ca_token_unavailable(issuing, label)
    responder.clear_cache()
    assert not cert.ocsp_responses.exists()
    return cert


def test_answers_re_signed_by_another_process_reach_the_waiting_responder(
        issuing, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cert = _revoked_while_the_token_was_away(issuing, django_capture_on_commit_callbacks)
    task = tasks.ocsp_sign_unissued.delay

    def beat_first(*args):  # the beat (another process) re-signs just before the queued task runs
        services.ocsp_refresh(ca_slug="issuing", certificate_ids=[cert.pk])
        return task(*args)

    monkeypatch.setattr(tasks.ocsp_sign_unissued, "delay", beat_first)
    req = request_for(issuing, int(cert.serial_hex, 16))
    raw = responder.answer(req)
    assert status_of(raw) == c_ocsp.OCSPCertStatus.REVOKED  # not tryLater
    stored = cert.ocsp_responses.get(hash_algorithm="sha1")
    assert raw == bytes(stored.der)
    key = signing.responder(issuing).key(int(cert.serial_hex, 16), "sha1")
    assert cache.get(responder.unissued_cache_key(key)) == bytes(stored.der)


def test_a_status_change_in_between_keeps_the_old_answer_out_of_the_cache(
        issuing, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cert = issue()
    services.ocsp_refresh(ca_slug="issuing", certificate_ids=[cert.pk])  # stored: good
    assert set(cert.ocsp_responses.values_list("cert_status", flat=True)) == {"good"}
    real = signing.responder

    def hold_meanwhile(ca):  # after the stored answer was read, a hold commits (its re-signing not yet run)
        services.certificate_hold(serial=cert.serial_hex, actor=None)
        return real(ca)

    monkeypatch.setattr(signing, "responder", hold_meanwhile)
    assert services.ocsp_sign_unissued(ca_slug="issuing", hash_name="sha1", serial=int(cert.serial_hex, 16)) is None
    monkeypatch.setattr(signing, "responder", real)
    key = real(issuing).key(int(cert.serial_hex, 16), "sha1")
    assert cache.get(responder.unissued_cache_key(key)) is None  # never the stale "good"
    responder.clear_cache()
    assert status_of(responder.answer(request_for(issuing, int(cert.serial_hex, 16)))) == \
        c_ocsp.OCSPCertStatus.REVOKED  # the hold's answer, signed on demand


# -- a real worker: the answer is signed in the worker, not where the request is answered ---------------


def _redis_url() -> str:
    import redis

    url = xdist_env.redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Redis at {url}")
        pytest.skip(f"no Redis at {url}: set REDIS_URL to run the signing-worker tests")
    return url


@pytest.fixture
def signing_worker(settings):
    import kombu.pools

    url = _redis_url()
    queue = f"test-signing-{uuid.uuid4().hex}"  # a queue of this run's own
    old = (celery_app.conf.broker_url, celery_app.conf.task_routes)

    def reset():
        kombu.pools.reset()
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
            celery_app._pool = None
        celery_app.amqp._producer_pool = None
        celery_app.amqp.flush_routes()  # the router caches the routes it was first built with
        celery_app.amqp.router = celery_app.amqp.Router()

    celery_app.conf.broker_url = url
    celery_app.conf.task_routes = {"ramis.ca.tasks.*": {"queue": queue}}
    reset()
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                          loglevel="WARNING", queues=[queue]) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.broker_url, celery_app.conf.task_routes = old
        reset()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_unknown_is_signed_by_the_signing_worker(signing_worker, monkeypatch, settings):
    responder.clear_cache()
    _root, issuing = services.ca_init(actor=None)
    signed_in = []
    real = signing.responder
    monkeypatch.setattr(signing, "responder", lambda ca: signed_in.append(threading.get_ident()) or real(ca))
    settings.CA_OCSP_UNKNOWN_WAIT_SECONDS = 10
    raw = responder.answer(request_for(issuing, 0xFEEDF00D, hashes.SHA256()))
    assert status_of(raw) == c_ocsp.OCSPCertStatus.UNKNOWN
    assert signed_in and threading.get_ident() not in signed_in  # the worker's thread signed it


# -- the whole OCSP tier as deployed: `ca ocsp-serve` with no token at all, a signing worker -------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listening on {port}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.redis
def test_openssl_against_the_ocsp_tier_without_a_token(tmp_path, openssl):
    """The OCSP tier has no PKCS#11 module at all; good, revoked and unknown still come back signed."""
    redis_url = _redis_url()
    bindir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "REDIS_URL"))}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), SOFTHSM_DIR=str(tmp_path / "softhsm"), DEBUG="0",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", ALLOWED_HOSTS="127.0.0.1",
               PUBLIC_BASE_URL="http://pki.ramis.ir", REDIS_URL=redis_url, CACHE_URL=redis_url,
               CA_SIGNING_QUEUE=f"test-signing-{uuid.uuid4().hex}", CELERY_TASK_ALWAYS_EAGER="1")

    def manage(*args: str) -> str:
        return run(str(bindir / "python"), "manage.py", *args, cwd=ROOT, env=env).stdout

    manage("migrate", "-v", "0")
    manage("ca", "init")
    certs = {}
    for name in ("good", "bad"):
        _key, csr = make_csr()
        (tmp_path / f"{name}.csr").write_bytes(csr)
        (tmp_path / "subject.json").write_text(json.dumps(SIGNATURE_SUBJECT))
        out = manage("ca", "issue", "--profile", "signature", "--csr", str(tmp_path / f"{name}.csr"),
                     "--subject-json", str(tmp_path / "subject.json"), "--out", str(tmp_path / f"{name}.pem"))
        certs[name] = out.split("serial ", 1)[1].split()[0]
    manage("ca", "revoke", "--serial", certs["bad"], "--reason", "key_compromise")
    ca_pem = tmp_path / "issuing.pem"
    root_pem = tmp_path / "root.pem"
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        rows = dict(db.execute("select slug, certificate_der from ca_certificateauthority"))
    ca_pem.write_bytes(builder.pem(x509.load_der_x509_certificate(rows["issuing"])))
    root_pem.write_bytes(builder.pem(x509.load_der_x509_certificate(rows["root"])))

    # the OCSP tier: no PIN, no SoftHSM directory, no PKCS#11 module; Celery through Redis
    tier_env = dict(env, CELERY_TASK_ALWAYS_EAGER="0", CA_ROOT_PIN="", CA_ISSUING_PIN="",
                    PKCS11_MODULE=str(tmp_path / "no-such-module.so"), SOFTHSM_DIR=str(tmp_path / "empty"))
    worker_env = dict(env, CELERY_TASK_ALWAYS_EAGER="0")
    port = _free_port()
    tier = subprocess.Popen(
        [str(bindir / "python"), "manage.py", "ca", "ocsp-serve", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=tier_env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "tier.log", "w"))
    worker = subprocess.Popen(
        [str(bindir / "celery"), "-A", "ramis", "worker", "-Q", env["CA_SIGNING_QUEUE"], "-P", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "w"))
    try:
        _wait_port(port, tier)
        base = [openssl, "ocsp", "-issuer", str(ca_pem), "-CAfile", str(root_pem), "-verify_other", str(ca_pem),
                "-url", f"http://127.0.0.1:{port}/ca/ocsp/issuing/", "-no_nonce"]
        out = run(*base, "-cert", str(tmp_path / "good.pem"), check=False)
        assert "Response verify OK" in out.stderr and ": good" in out.stdout, out
        out = run(*base, "-sha256", "-cert", str(tmp_path / "bad.pem"), check=False)
        assert ": revoked" in out.stdout and "Reason: keyCompromise" in out.stdout, out
        deadline = time.monotonic() + 60
        while True:  # the worker may still be starting: the tier says tryLater until it answers
            out = run(*base, "-serial", "0xabcdef0123", check=False)
            if "unknown" in out.stdout or time.monotonic() > deadline:
                break
            assert "trylater" in (out.stdout + out.stderr).lower(), out  # openssl prints "trylater (3)"
            time.sleep(0.5)
        assert "Response verify OK" in out.stderr and "0xabcdef0123: unknown" in out.stdout, out
        # a certificate of another CA: unauthorized, nothing signed
        out = run(openssl, "ocsp", "-issuer", str(root_pem), "-serial", "0x42", "-url",
                  f"http://127.0.0.1:{port}/ca/ocsp/issuing/", "-no_nonce", check=False)
        assert "unauthorized" in out.stdout + out.stderr, out
    finally:
        _stop(tier)
        _stop(worker)
        for name in ("tier", "worker"):  # shown by pytest if the test failed
            print(f"--- {name}.log ---\n{(tmp_path / f'{name}.log').read_text()[-4000:]}")
    assert "Traceback" not in (tmp_path / "tier.log").read_text()
    shutil.rmtree(tmp_path / "softhsm", ignore_errors=True)


def test_get_path_whose_base64_ends_with_a_slash():
    """1 in 64 requests of 87 bytes encode to base64 ending in "/": it is data, not a separator."""
    serial = next(s for s in range(1, 10_000) if base64.b64encode(_req(s)).endswith(b"/"))
    der = _req(serial)
    encoded = base64.b64encode(der).decode()
    assert ocsp.decode_get_path(encoded) == der
    assert ocsp.decode_get_path("/" + encoded) == der
    from urllib.parse import quote

    assert ocsp.decode_get_path(quote(encoded, safe="")) == der
    other = next(s for s in range(1, 10_000) if not base64.b64encode(_req(s)).endswith(b"/"))
    assert ocsp.decode_get_path(base64.b64encode(_req(other)).decode() + "/") == _req(other)  # a trailing slash


def _req(serial: int) -> bytes:
    return (c_ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(b"\x01" * 20, b"\x02" * 20, serial, hashes.SHA1())  # noqa: S303
            .build().public_bytes(serialization.Encoding.DER))


def test_a_refresh_never_stores_answers_of_a_status_that_changed_while_it_signed(issuing, monkeypatch):
    """The beat's re-signing reads a status, signs (slow, on the token), then stores: a revocation
    committing in between must not be overwritten with the old *good*."""
    cert = issue()
    resp = signing.responder(issuing)
    real_sign_all = resp.sign_all

    def sign_all_while_revoked(status, *args, **kwargs):
        services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
        return real_sign_all(status, *args, **kwargs)

    monkeypatch.setattr(resp, "sign_all", sign_all_while_revoked)
    assert services.ocsp_refresh(ca_slug="issuing", certificate_ids=[cert.pk]) == 0
    assert not cert.ocsp_responses.filter(cert_status="good").exists()
    monkeypatch.setattr(resp, "sign_all", real_sign_all)
    assert services.ocsp_refresh(ca_slug="issuing", certificate_ids=[cert.pk]) == 1
    assert set(cert.ocsp_responses.values_list("cert_status", flat=True)) == {"revoked"}


def test_a_repeated_request_is_parsed_once_and_a_malformed_one_never_remembered(issuing, monkeypatch):
    cert = issue()
    req = request_for(issuing, int(cert.serial_hex, 16))
    assert status_of(responder.answer(req)) == c_ocsp.OCSPCertStatus.GOOD  # now in the per-process cache
    parsed = []
    real = ocsp.parse_request
    monkeypatch.setattr(ocsp, "parse_request", lambda der: parsed.append(der) or real(der))
    first = responder.cached(req)
    assert first is not None and responder.cached(req) == first
    assert parsed == [req]
    assert responder.cached(b"\x30\x03junk") == ocsp.MALFORMED_REQUEST
    assert responder.cached(b"\x30\x03junk") == ocsp.MALFORMED_REQUEST
    assert parsed.count(b"\x30\x03junk") == 2 and b"\x30\x03junk" not in responder._parsed
