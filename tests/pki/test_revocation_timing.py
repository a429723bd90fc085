"""A revocation, hold or release shows on every responder process within a second of its commit
(issue 12): the per-process answer caches are told through :class:`~ramis.ca.models.OCSPChange`
rows (:func:`ramis.ca.responder.poll_changes`)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp

from ramis.ca import ocsp, responder, services
from ramis.ca.models import OCSPChange

from .conftest import SIGNATURE_SUBJECT, make_csr, run
from .test_responder import ROOT, _free_port, _stop, _wait_port, issue, request_for, status_of

GOOD, REVOKED = c_ocsp.OCSPCertStatus.GOOD, c_ocsp.OCSPCertStatus.REVOKED


# -- one process: the mechanism ------------------------------------------------------------------------


@pytest.fixture
def issuing(db):
    responder.clear_cache()
    _root, issuing = services.ca_init(actor=None)
    yield issuing
    responder.clear_cache()


def _kept(serial: int) -> list[bytes]:
    return [der for key, (_t, der) in responder._cache.items() if key.serial == serial]


def test_a_committed_change_makes_the_process_forget_only_that_serial(issuing, settings, monkeypatch):
    settings.CA_OCSP_CACHE_SECONDS = 3600  # the cache's own expiry plays no part here
    settings.CA_OCSP_CHANGES_POLL_MS = 60_000  # polls happen when this test says (force=True)
    a, b = issue(), issue()
    req_a, req_b = request_for(issuing, a.serial), request_for(issuing, b.serial)
    assert status_of(responder.answer(req_a)) == GOOD and status_of(responder.answer(req_b)) == GOOD
    assert status_of(responder.cached(req_a)) == GOOD  # kept, answered without I/O (answer() polled first)
    responder._changes["next"] = 0.0  # a poll is due: the event loop hands over to answer(), which polls
    assert responder.cached(req_a) is None
    responder.poll_changes()
    assert status_of(responder.cached(req_a)) == GOOD

    # what another process's revocation leaves in the database: the answers dropped, a change row
    # (nothing in this process runs: no re-signing task, no clear_cache())
    monkeypatch.setattr(services.transaction, "on_commit", lambda fn, **kw: None)
    services.certificate_revoke(serial=a.serial_hex, reason="key_compromise", actor=None)
    assert OCSPChange.objects.filter(serial_hex=a.serial_hex).count() == 1
    assert status_of(responder.cached(req_a)) == GOOD  # still kept: this process has not looked yet
    assert responder.poll_changes(force=True) == 1
    assert _kept(a.serial) == [] and len(_kept(b.serial)) == 1  # only that serial is forgotten
    monkeypatch.undo()
    assert status_of(responder.answer(req_a)) == REVOKED  # signed on demand, not the old "good"
    assert responder.poll_changes(force=True) == 0  # a change is acted on once


def test_without_polling_the_old_answer_stays_until_it_expires(issuing, settings, monkeypatch):
    """The control: what the issue saw (good for up to CA_OCSP_CACHE_SECONDS after a revocation)."""
    settings.CA_OCSP_CACHE_SECONDS = 3600
    settings.CA_OCSP_CHANGES_POLL_MS = 0
    a = issue()
    req = request_for(issuing, a.serial)
    assert status_of(responder.answer(req)) == GOOD
    monkeypatch.setattr(services.transaction, "on_commit", lambda fn, **kw: None)
    services.certificate_revoke(serial=a.serial_hex, reason="key_compromise", actor=None)
    assert responder.poll_changes(force=True) == 0
    assert status_of(responder.answer(req)) == GOOD


def test_an_answer_read_before_a_change_committed_is_not_kept(issuing, settings):
    settings.CA_OCSP_CACHE_SECONDS = 3600
    a = issue()
    req = request_for(issuing, a.serial)
    responder.poll_changes(force=True)
    key = ocsp.parse_request(req)
    generation = responder._changes["generation"]
    OCSPChange.objects.create(serial_hex=a.serial_hex)
    responder.poll_changes(force=True)  # seen while the old bytes were on their way
    responder._remember(key, b"old answer", generation=generation)
    assert _kept(a.serial) == []


def test_a_process_idle_longer_than_the_window_forgets_everything(issuing, settings):
    settings.CA_OCSP_CACHE_SECONDS = 3600
    a = issue()
    responder.poll_changes(force=True)
    responder.answer(request_for(issuing, a.serial))
    assert _kept(a.serial)
    responder._changes["last"] -= responder.CHANGES_WINDOW  # nothing was read for that long
    responder.poll_changes(force=True)
    assert _kept(a.serial) == []


# -- several processes: two `ca ocsp-serve` and the web tier ----------------------------------------------


def _post(url: str, body: bytes) -> bytes:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/ocsp-request"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - servers of this test on 127.0.0.1
        return resp.read()


def _status(url: str, body: bytes):
    try:
        return status_of(_post(url, body))
    except OSError:
        return None


REVOKE = """
import json, sys, time
from django.db import transaction
from ramis.ca import services
action, serial = sys.argv[1], sys.argv[2]
stamps = {}
with transaction.atomic():
    transaction.on_commit(lambda: stamps.setdefault("commit", time.time()))  # before the re-signing's
    if action == "revoke":
        services.certificate_revoke(serial=serial, reason="key_compromise", actor=None)
    else:
        getattr(services, "certificate_" + action)(serial=serial, actor=None, reason="test")
print(json.dumps(stamps))
"""


def test_revocation_hold_and_release_show_on_every_responder_process_within_a_second(tmp_path):
    bindir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "REDIS_URL"))}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), SOFTHSM_DIR=str(tmp_path / "softhsm"), DEBUG="0",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", ALLOWED_HOSTS="127.0.0.1",
               PUBLIC_BASE_URL="http://pki.ramis.ir", CA_OCSP_CACHE_SECONDS="3600")

    def manage(*args: str) -> str:
        return run(str(bindir / "python"), "manage.py", *args, cwd=ROOT, env=env).stdout

    manage("migrate", "-v", "0")
    manage("ca", "init")
    _key, csr = make_csr()
    (tmp_path / "req.csr").write_bytes(csr)
    (tmp_path / "subject.json").write_text(json.dumps(SIGNATURE_SUBJECT))
    out = manage("ca", "issue", "--profile", "signature", "--csr", str(tmp_path / "req.csr"),
                 "--subject-json", str(tmp_path / "subject.json"), "--out", str(tmp_path / "cert.pem"))
    serial = out.split("serial ", 1)[1].split()[0]
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        (issuer_der,) = db.execute("select certificate_der from ca_certificateauthority where slug='issuing'").fetchone()
    cert = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    body = (c_ocsp.OCSPRequestBuilder()
            .add_certificate(cert, x509.load_der_x509_certificate(issuer_der), hashes.SHA1())  # noqa: S303
            .build().public_bytes(serialization.Encoding.DER))

    ports = [_free_port() for _ in range(3)]
    procs = [subprocess.Popen([str(bindir / "python"), "manage.py", "ca", "ocsp-serve", "--workers", "1",
                               "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / f"tier{i}.log", "w"))
             for i, port in enumerate(ports[:2])]
    procs.append(subprocess.Popen([str(bindir / "gunicorn"), "ramis.wsgi:application", "--workers", "1",
                                   "--bind", f"127.0.0.1:{ports[2]}"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(tmp_path / "web.log", "w")))
    urls = [f"http://127.0.0.1:{p}/ca/ocsp/issuing/" for p in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_port(port, proc)
        # a first hold and release, not timed: in this embedded layout every process signs a missing
        # answer itself (Celery eager) and opens its token the first time it does; in production the
        # responders hold no token and the signing worker is already up
        for action, expected in (("hold", REVOKED), ("release", GOOD)):
            _round(env, bindir, urls, body, serial, action, expected, tmp_path, timed=False)
        for action, expected in (("hold", REVOKED), ("release", GOOD), ("revoke", REVOKED)):
            _round(env, bindir, urls, body, serial, action, expected, tmp_path)
    finally:
        for proc in procs:
            _stop(proc)
        for name in ("tier0", "tier1", "web"):  # shown by pytest if the test failed
            print(f"--- {name}.log ---\n{(tmp_path / f'{name}.log').read_text()[-3000:]}")
    for name in ("tier0", "tier1", "web"):
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text()


def _round(env, bindir, urls, body, serial, action, expected, tmp_path, timed=True):
    """Every front answers the current status (and keeps it), then ``action`` commits in another process:
    each front must answer ``expected`` within a second of the commit."""
    before = REVOKED if expected == GOOD else GOOD
    for url in urls:
        for _ in range(3):  # answered from each process's kept copy from the second time on
            assert _status(url, body) == before, url
    script = tmp_path / "change.py"
    script.write_text(REVOKE)
    proc = subprocess.Popen([str(bindir / "python"), "manage.py", "shell", "-c",
                             f"import sys; sys.argv = ['x', {action!r}, {serial!r}]; exec(open({str(script)!r}).read())"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 30  # the changing process's own start-up included

    def watch(url: str) -> None:  # one poller per front: each is timed on its own
        while time.monotonic() < deadline:
            if _status(url, body) == expected:
                seen[url] = time.time()
                return
            time.sleep(0.01)

    watchers = [threading.Thread(target=watch, args=(url,)) for url in urls]
    for w in watchers:
        w.start()
    for w in watchers:
        w.join()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    committed = json.loads(out.strip().splitlines()[-1])["commit"]
    delays = {url: round(at - committed, 3) for url, at in seen.items()}
    print(f"{action}: seen after commit (s): {delays}")
    assert set(seen) == set(urls), f"{action}: not every front answered {expected}: {delays}"
    if timed:
        assert all(d < 1.0 for d in delays.values()), f"{action}: {delays}"
