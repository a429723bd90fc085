"""GET /metrics on the OCSP tier (`ca ocsp-serve`): every worker's counters in one scrape, each
answer counted once whichever way it was written, and only for a scraper the web tier's rule
lets in (docs/operator/metrics.md)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ramis.ca import ocsp, services

from .test_ocsp_server import Server, _children, _try, _wait, exchange, one, parse, post
from .test_responder import ROOT, _free_port, _stop, issue, request_for


def scrape(port: int, headers: str = "") -> tuple[int, dict[tuple[str, tuple], float]]:
    status, _headers, body = one(port, f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                                       "Connection: close\r\n\r\n".encode())
    if status != 200:
        return status, {}
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return status, samples


def answers(samples, status: str) -> float:
    return samples[("ramis_ocsp_tier_answers_total", (("status", status),))]


def errors(samples, code: int) -> float:
    return samples[("ramis_ocsp_tier_http_errors_total", (("code", str(code)),))]


@pytest.mark.django_db(transaction=True)
def test_each_answer_is_counted_once_by_status(settings):
    settings.METRICS_TOKEN = ""
    _root, issuing = services.ca_init(actor=None)
    cert = issue()
    srv = Server()
    try:
        port = srv.port
        # answered and closed at accept time (the trial's answer is the one written)
        assert one(port, post(b""))[2] == ocsp.MALFORMED_REQUEST
        # kept alive and pipelined: answered by the event loop's connection (the trial's is dropped)
        both = parse(exchange(port, post(b"", close=False) + post(request_for(issuing, cert.serial))))
        assert [body for _s, _h, body in both][0] == ocsp.MALFORMED_REQUEST
        assert one(port, post(request_for(issuing, cert.serial)))[0] == 200  # a hit now
        assert one(port, post(b"", path="/elsewhere/"))[0] == 404
        status, samples = scrape(port)
        assert status == 200
        assert answers(samples, "malformed_request") == 2
        assert answers(samples, "good") == 2
        assert answers(samples, "revoked") == 0
        assert errors(samples, 404) == 1
        assert samples[("ramis_ocsp_tier_cache_misses_total", ())] >= 1  # the first good answer
        assert samples[("ramis_ocsp_tier_workers", ())] == 1
    finally:
        srv.close()


@pytest.mark.django_db(transaction=True)
def test_only_the_machine_or_the_token_may_scrape(settings):
    settings.METRICS_TOKEN = "Scrape-Token-7"
    srv = Server()
    try:
        assert scrape(srv.port)[0] == 200  # loopback, not through the proxy
        assert scrape(srv.port, "X-Forwarded-For: 203.0.113.9\r\n")[0] == 404  # came through nginx
        assert scrape(srv.port, "X-Forwarded-For: 203.0.113.9\r\nAuthorization: Bearer Scrape-Token-7\r\n")[0] == 200
        assert scrape(srv.port, "X-Forwarded-For: 203.0.113.9\r\nauthorization: bearer Scrape-Token-7\r\n")[0] == 200
        assert scrape(srv.port, "X-Forwarded-For: 203.0.113.9\r\nAuthorization: Bearer scrape-token-7\r\n")[0] == 404
        status, _h, _b = one(srv.port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                       b"Connection: close\r\n\r\n")
        assert status == 404
    finally:
        srv.close()


def test_a_scrape_sums_every_worker_and_survives_a_restart(tmp_path):
    """Two worker processes: each scrape reaches one of them, and every one says the same totals."""
    bindir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "REDIS_URL"))}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               DEBUG="0", ALLOWED_HOSTS="127.0.0.1", PKCS11_MODULE=str(tmp_path / "no-such-module.so"),
               METRICS_TOKEN="")
    manage = [str(bindir / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    port = _free_port()
    proc = subprocess.Popen([*manage, "ca", "ocsp-serve", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = _wait(lambda: len(_children(proc.pid)) == 2 and _children(proc.pid))
        _wait(lambda: _try(lambda: one(port, post(b""))))
        # 40 kept-alive connections at once: the kernel spreads them over both workers
        conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(40)]
        for c in conns:
            c.sendall(post(b"", close=False))
        for c in conns:
            assert c.recv(65536).endswith(ocsp.MALFORMED_REQUEST)
            c.close()
        totals = {answers(scrape(port)[1], "malformed_request") for _ in range(12)}
        assert totals == {41}, totals  # 40 + the one that waited for the port; the same from either worker
        os.kill(workers[0], signal.SIGKILL)
        _wait(lambda: workers[0] not in (now := _children(proc.pid)) and len(now) == 2)
        after = [scrape(port)[1] for _ in range(6)]
        assert {answers(s, "malformed_request") for s in after} == {41}  # the counters never go back
        assert {s[("ramis_ocsp_tier_worker_restarts_total", ())] for s in after} == {1}
        assert {s[("ramis_ocsp_tier_workers", ())] for s in after} == {2}
    finally:
        _stop(proc)
        proc.stdout.close()
        proc.stderr.close()
