"""The OCSP tier's HTTP server (ramis.ca.ocsp_server, `manage.py ca ocsp-serve`) over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.x509 import ocsp as c_ocsp

from ramis.ca import ocsp, ocsp_server, responder, services, tasks
from ramis.celery import app as celery_app

from .test_responder import ROOT, _free_port, _stop, issue, request_for, status_of

OCSP_PATH = "/ca/ocsp/issuing/"


class Server:
    """ocsp_server.serve() on its own uvloop loop in a thread, on 127.0.0.1:<free port>."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.sock = ocsp_server.listening_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.loop = ocsp_server.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(ocsp_server.serve(self.sock, timeout=timeout, stop=self.stop),), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def server():
    responder.clear_cache()
    srv = Server()
    yield srv
    srv.close()
    responder.clear_cache()


def post(body: bytes, *, close: bool = True, content_type: str | None = "application/ocsp-request",
         path: str = OCSP_PATH) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


def exchange(port: int, wire: bytes, timeout: float = 10) -> bytes:
    """Send ``wire``, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(wire)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every HTTP response in ``raw`` (Content-Length framed): (status, lower-cased headers, body)."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        n = int(headers.get("content-length", 0))
        out.append((int(lines[0].split()[1]), headers, rest[:n]))
        raw = rest[n:]
    return out


def one(port: int, wire: bytes) -> tuple[int, dict[str, str], bytes]:
    [response] = parse(exchange(port, wire))
    return response


@pytest.mark.django_db(transaction=True)
def test_answers_are_the_views_bytes_with_rfc5019_headers_on_get(server, client):
    _root, issuing = services.ca_init(actor=None)
    cert = issue()
    req = request_for(issuing, cert.serial)
    via_view = client.post(OCSP_PATH, req, content_type="application/ocsp-request").content
    assert status_of(via_view) == c_ocsp.OCSPCertStatus.GOOD

    responder.clear_cache()
    status, headers, body = one(server.port, post(req))  # from the database, in a thread
    assert (status, body, headers["content-type"]) == (200, via_view, "application/ocsp-response")
    assert headers["connection"] == "close" and "cache-control" not in headers  # POST: not for HTTP caches
    assert one(server.port, post(req, content_type=None))[2] == via_view  # no Content-Type: accepted

    encoded = base64.b64encode(req).decode()
    for path in (OCSP_PATH + encoded, OCSP_PATH + quote(encoded, safe=""), "/ca/ocsp/root/" + encoded):
        status, headers, body = one(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert (status, body) == (200, via_view), path
    assert_rfc5019_headers(headers, via_view)
    assert abs(email.utils.parsedate_to_datetime(headers["date"]).timestamp() - time.time()) < 5

    status, headers, body = one(server.port, f"HEAD {OCSP_PATH}{encoded} HTTP/1.1\r\nHost: x\r\n"
                                             "Connection: close\r\n\r\n".encode())
    assert (status, body, headers["content-length"]) == (200, b"", str(len(via_view)))

    # errors are OCSP answers too; on GET they are not to be cached
    for bad in (b"", b"junk!", b"\x30" * 9_000):
        assert one(server.port, post(bad))[2] == ocsp.MALFORMED_REQUEST
    status, headers, body = one(server.port, b"GET /ca/ocsp/issuing/%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, body, headers["cache-control"]) == (200, ocsp.MALFORMED_REQUEST, "no-store")


def assert_rfc5019_headers(headers: dict[str, str], raw: bytes) -> None:
    """RFC 5019 §6.2's headers of a successful GET answer agree with the OCSP response ``raw`` itself."""
    resp = c_ocsp.load_der_ocsp_response(raw)
    assert headers["last-modified"] == email.utils.format_datetime(resp.this_update_utc, usegmt=True)
    assert headers["expires"] == email.utils.format_datetime(resp.next_update_utc, usegmt=True)
    assert headers["etag"] == '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    public, max_age, *rest = [p.strip() for p in headers["cache-control"].split(",")]
    assert (public, rest) == ("public", ["no-transform", "must-revalidate"]) and max_age.startswith("max-age=")
    left = resp.next_update_utc.timestamp() - time.time()
    assert 0 <= int(max_age.removeprefix("max-age=")) <= min(responder.cache_seconds(), left)
    assert int(max_age.removeprefix("max-age=")) >= min(responder.cache_seconds(), left) - 2


@pytest.mark.django_db(transaction=True)
def test_every_front_sends_the_same_rfc5019_headers_on_get(server, client):
    """The Django view, ramis.ca.wsgi and ocsp-serve: one function's headers (responder.http_headers)."""
    import io

    from ramis.ca import wsgi

    _root, issuing = services.ca_init(actor=None)
    req = request_for(issuing, issue().serial)
    encoded = base64.b64encode(req).decode()
    via_django = client.get(OCSP_PATH + encoded)
    raw = via_django.content
    assert via_django.status_code == 200 and status_of(raw) == c_ocsp.OCSPCertStatus.GOOD
    django_headers = {k.lower(): v for k, v in via_django.headers.items()}
    assert_rfc5019_headers(django_headers, raw)

    status, served, body = one(server.port, f"GET {OCSP_PATH}{encoded} HTTP/1.1\r\nHost: x\r\n"
                                            "Connection: close\r\n\r\n".encode())
    assert (status, body) == (200, raw)
    assert_rfc5019_headers(served, raw)
    seen = {}
    assert b"".join(wsgi.application({"PATH_INFO": OCSP_PATH + encoded, "REQUEST_METHOD": "GET",
                                      "wsgi.input": io.BytesIO()},
                                     lambda st, h: seen.update({k.lower(): v for k, v in h}))) == raw
    assert_rfc5019_headers(seen, raw)
    fixed = ("last-modified", "expires", "etag")
    assert [django_headers[h] for h in fixed] == [served[h] for h in fixed] == [seen[h] for h in fixed]

    # POST answers are not for HTTP caches: no caching headers on either front
    posted = client.post(OCSP_PATH, req, content_type="application/ocsp-request")
    assert posted.content == raw and not {"cache-control", "expires", "etag"} & {k.lower() for k in posted.headers}
    # an error answer to GET: no-store on every front
    bad = client.get(OCSP_PATH + "%25%25%25")
    assert (bad.content, bad.headers["Cache-Control"]) == (ocsp.MALFORMED_REQUEST, "no-store")
    assert "Expires" not in bad.headers and "ETag" not in bad.headers
    status, served, body = one(server.port, b"GET /ca/ocsp/issuing/%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (body, served["cache-control"]) == (ocsp.MALFORMED_REQUEST, "no-store") and "expires" not in served


@pytest.mark.django_db(transaction=True)
def test_max_age_never_reaches_past_next_update(settings):
    _root, issuing = services.ca_init(actor=None)
    req = request_for(issuing, issue().serial)
    raw = responder.answer(req)
    next_update = c_ocsp.load_der_ocsp_response(raw).next_update_utc.timestamp()
    settings.CA_OCSP_CACHE_SECONDS = 20
    at = dict(responder.http_headers(raw, now=next_update - 7.5))
    assert at["Cache-Control"] == "public, max-age=7, no-transform, must-revalidate"
    assert dict(responder.http_headers(raw, now=next_update + 60))["Cache-Control"].startswith("public, max-age=0,")
    assert dict(responder.http_headers(raw, now=next_update - 3600))["Cache-Control"].startswith(
        "public, max-age=20,")
    assert at["Expires"] == email.utils.formatdate(next_update, usegmt=True)


@pytest.mark.django_db(transaction=True)
def test_keep_alive_pipelining_and_http_1_0(server):
    _root, issuing = services.ca_init(actor=None)
    certs = [issue(), issue("seal")]
    reqs = [request_for(issuing, c.serial) for c in certs]
    services.certificate_revoke(serial=certs[1].serial_hex, reason="key_compromise", actor=None)
    responder.clear_cache()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        # two requests in one segment (the first answered from a thread): answered in order, connection kept
        s.sendall(post(reqs[0], close=False) + post(reqs[1], close=False))
        raw = b""
        while len(parse_complete(raw)) < 2:
            raw += s.recv(65536)
        answers = parse(raw)
        assert [status_of(body) for _s, _h, body in answers] == [c_ocsp.OCSPCertStatus.GOOD,
                                                                 c_ocsp.OCSPCertStatus.REVOKED]
        assert all("connection" not in h for _s, h, _b in answers)
        s.sendall(post(reqs[0], close=True))  # the same connection, now from the cache
        rest = b""
        while chunk := s.recv(65536):
            rest += chunk
        assert status_of(parse(rest)[0][2]) == c_ocsp.OCSPCertStatus.GOOD
    # HTTP/1.0 closes unless asked to keep the connection
    wire = (f"POST {OCSP_PATH} HTTP/1.0\r\nContent-Type: application/ocsp-request\r\n"
            f"Content-Length: {len(reqs[0])}\r\n\r\n").encode() + reqs[0]
    status, headers, body = one(server.port, wire)
    assert status == 200 and headers["connection"] == "close" and status_of(body) == c_ocsp.OCSPCertStatus.GOOD
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(wire.replace(b"HTTP/1.0\r\n", b"HTTP/1.0\r\nConnection: keep-alive\r\n"))
        raw = b""
        while not parse_complete(raw):
            raw += s.recv(65536)
        assert parse(raw)[0][1]["connection"] == "keep-alive"


def parse_complete(raw: bytes) -> list:
    """The complete responses at the start of ``raw`` (none if the last one is cut)."""
    try:
        answers = parse(raw)
    except (ValueError, IndexError):
        return []
    return [a for a in answers if len(a[2]) == int(a[1].get("content-length", 0))] if raw else []


def test_bad_http_gets_the_right_status(server):
    def status(wire: bytes) -> tuple[int, dict]:
        s, headers, _body = one(server.port, wire)
        return s, headers

    s, headers = status(b"PUT /ca/ocsp/issuing/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert s == 405 and headers["allow"] == "GET, HEAD, POST"
    assert status(post(b"x", content_type="text/plain"))[0] == 415
    assert status(post(b"x", path="/admin/"))[0] == 404
    too_long = b"POST /ca/ocsp/issuing/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10001\r\n\r\n"
    assert status(too_long) == (413, status(too_long)[1])  # answered before the body is read
    s, headers = status(b"POST /ca/ocsp/issuing/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert s == 411 and headers["connection"] == "close"
    assert status(b"POST /ca/ocsp/issuing/ HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab")[0] == 400
    assert status(b"POST /ca/ocsp/issuing/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n")[0] == 400
    assert status(b"HELLO\r\n\r\n")[0] == 400
    assert status(b"GET / HTTP/2.0\r\n\r\n")[0] == 400
    assert status(b"GET /ca/ocsp/" + b"A" * 9000 + b" HTTP/1.1\r\n\r\n")[0] == 400  # head too long
    # the server is still there
    assert one(server.port, post(b""))[2] == ocsp.MALFORMED_REQUEST


def read_answers(s: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """``count`` whole answers from ``s``, then nothing more for 0.3 s (the connection open)."""
    raw = b""
    while len(parse_complete(raw)) < count:
        raw += s.recv(65536)
    s.settimeout(0.3)
    try:
        extra = s.recv(65536)
    except TimeoutError:
        extra = b""
    s.settimeout(10)
    assert extra == b"", extra
    return parse(raw)


@pytest.mark.django_db(transaction=True)
def test_what_is_read_as_a_connection_is_accepted_is_answered_once(server):
    """The first bytes of a connection are read and tried at accept time (answered there when that ends
    the connection); anything else goes on over an event-loop connection, which answers them afresh."""
    _root, issuing = services.ca_init(actor=None)
    req = request_for(issuing, issue().serial)
    assert status_of(one(server.port, post(req))[2]) == c_ocsp.OCSPCertStatus.GOOD  # a thread's; cached now
    cached = one(server.port, post(req))  # at accept time
    assert cached[0] == 200 and cached[1]["connection"] == "close"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(post(req, close=False))  # kept alive: answered by the loop's connection, only once
        [(status, headers, body)] = read_answers(s, 1)
        assert (status, body) == (200, cached[2]) and "connection" not in headers
        s.sendall(post(req, close=False) + post(req, close=False))  # and the connection goes on
        assert [b for _s, _h, b in read_answers(s, 2)] == [cached[2]] * 2
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        wire = post(req)
        head, body = wire[:wire.index(b"\r\n\r\n") + 4], wire[wire.index(b"\r\n\r\n") + 4:]
        s.sendall(head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n"))
        assert read_answers(s, 1)[0][0] == 100  # one "100 Continue", not one per try
        s.sendall(body)
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
        assert parse(raw)[0][:1] == (200,) and parse(raw)[0][2] == cached[2]


def test_slow_and_idle_clients_are_dropped_after_the_timeout():
    srv = Server(timeout=0.6)
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as slow:
            t0 = time.monotonic()
            for piece in (b"POST /ca/ocsp/issuing/ HTTP/1.1\r\n", b"Host: x\r\n", b"Content-Length: 5\r\n"):
                slow.sendall(piece)  # a byte trickle does not extend the deadline
                time.sleep(0.2)
            raw = b""
            while chunk := slow.recv(65536):
                raw += chunk
            assert parse(raw)[0][0] == 408 and 0.5 < time.monotonic() - t0 < 3
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as idle:
            idle.sendall(post(b"", close=False))
            t0 = time.monotonic()
            raw = b""
            while chunk := idle.recv(65536):  # an answer, then the idle connection is closed
                raw += chunk
            assert parse(raw)[0][2] == ocsp.MALFORMED_REQUEST and 0.4 < time.monotonic() - t0 < 3
    finally:
        srv.close()


@pytest.mark.django_db(transaction=True)
def test_a_slow_answer_does_not_hold_up_other_connections(server, monkeypatch, settings):
    """tryLater after the wait for the signing queue; meanwhile other clients are answered."""
    _root, issuing = services.ca_init(actor=None)
    cert = issue()
    good = request_for(issuing, cert.serial)
    assert one(server.port, post(good))[0] == 200  # cached now
    monkeypatch.setattr(tasks.ocsp_sign_unissued, "delay", lambda *a: None)  # queued, never consumed
    settings.CA_OCSP_UNKNOWN_WAIT_SECONDS = 1.5
    celery_app.conf.task_always_eager = False
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as waiting:
            t0 = time.monotonic()
            waiting.sendall(post(request_for(issuing, 0x51DE)))
            for _ in range(5):
                assert status_of(one(server.port, post(good))[2]) == c_ocsp.OCSPCertStatus.GOOD
            assert time.monotonic() - t0 < 1.2  # answered while the other one waits
            raw = b""
            while chunk := waiting.recv(65536):
                raw += chunk
            assert parse(raw)[0][2] == ocsp.TRY_LATER and time.monotonic() - t0 >= 1.4
    finally:
        celery_app.conf.task_always_eager = True


# -- manage.py ca ocsp-serve: processes ---------------------------------------------------------------------


def _sockets(pid: int) -> int:
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _listens(pid: int, port: int) -> bool:
    """``pid`` holds a socket listening on ``port`` (its own, in the SO_REUSEPORT group)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:
            pass
    return False


def _wait(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_ocsp_serve_workers_share_the_port_and_are_restarted(tmp_path):
    bindir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "REDIS_URL"))}
    env.update(RAMIS_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               DEBUG="0", ALLOWED_HOSTS="127.0.0.1", PKCS11_MODULE=str(tmp_path / "no-such-module.so"))
    manage = [str(bindir / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    port = _free_port()
    bind = f"127.0.0.1:{port}"
    proc = subprocess.Popen([*manage, "ca", "ocsp-serve", "--workers", "2", "--bind", bind], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "2 worker(s)" in proc.stdout.readline()
        workers = _wait(lambda: len(_children(proc.pid)) == 2 and _children(proc.pid))
        _wait(lambda: _try(lambda: one(port, post(b""))))
        # each worker in the group before the connections are made (a busy machine may start one late)
        _wait(lambda: all(_listens(pid, port) for pid in workers))
        before = {pid: _sockets(pid) for pid in workers}
        # 64 connections, each answered and kept open: the kernel spreads them over both workers' sockets
        conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(64)]
        for c in conns:
            c.sendall(post(b"", close=False))
        for c in conns:
            assert c.recv(65536).endswith(ocsp.MALFORMED_REQUEST)
        held = {pid: _sockets(pid) - before[pid] for pid in workers}
        assert all(n > 0 for n in held.values()) and sum(held.values()) == 64, held
        for c in conns:
            c.close()

        # another server on the same port is refused, in one line
        other = subprocess.run([*manage, "ca", "ocsp-serve", "--bind", bind], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert other.returncode != 0 and "something already answers there" in other.stderr
        assert len(other.stderr.strip().splitlines()) == 1

        # a worker that dies is replaced; the port keeps answering
        os.kill(workers[0], signal.SIGKILL)
        replaced = _wait(lambda: workers[0] not in (now := _children(proc.pid)) and len(now) == 2 and now)
        assert workers[1] in replaced
        assert one(port, post(b""))[2] == ocsp.MALFORMED_REQUEST

        proc.send_signal(signal.SIGTERM)  # stops the workers and exits
        assert proc.wait(15) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
    finally:
        _stop(proc)
        proc.stdout.close()
        proc.stderr.close()
    bad = subprocess.run([*manage, "ca", "ocsp-serve", "--bind", "nowhere"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and bad.stderr.strip() == "CommandError: --bind must be HOST:PORT, not 'nowhere'"


def _try(fn):
    try:
        return fn() or True
    except OSError:
        return False
