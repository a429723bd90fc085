"""The OCSP tier's own HTTP server: ``manage.py ca ocsp-serve``.

    manage.py ca ocsp-serve --bind 0.0.0.0:8001 --workers 2 [--timeout 5]

Why a server of its own: an answer is a dict lookup of a few microseconds
(:func:`ramis.ca.responder.cached`), so what an OCSP answer costs is the HTTP
server around it, and most of all the TCP connection many OCSP clients open
for every answer. Measured with ``bench/pki.py`` on the 2-core development
machine: gunicorn's own workers spend ~160–220 µs of CPU per answer,
gunicorn + uvicorn workers ~30 µs on a kept-alive connection but ~80–100 µs
with a connection per answer; this server (an ``asyncio.Protocol`` on uvloop,
responses written from pre-encoded header templates, one ``write`` per
answer) ~13 µs and ~31–33 µs. A request is accepted only once its first
bytes are in (``TCP_DEFER_ACCEPT``): one wake-up per connection. Those bytes
are read and answered at accept time when that ends the connection
(``Connection: close``, as many OCSP clients send, HTTP/1.0, an error): a
read, a write and a close, no event-loop transport — 3–4 µs of CPU less per
answer than through one (paired rounds of ``bench/pki.py``); any other
connection goes on as an event-loop connection that starts with them. Each worker
process opens its own listening socket with ``SO_REUSEPORT``, so the kernel
spreads new connections over the workers' own accept queues and no worker
wakes for another's connection (measured here: no faster than one socket
shared by the workers, and no slower).

The HTTP it speaks, for RFC 6960 appendix A and RFC 5019 clients:

* ``POST /ca/ocsp/<ca>/`` with ``Content-Type: application/ocsp-request``
  (or none) and a ``Content-Length`` body of at most ``max_body`` bytes;
  ``GET`` (and ``HEAD``) ``/ca/ocsp/<ca>/<base64 of the DER request>``,
  URL-encoded or not. The answer is ``200`` with the OCSP response,
  including ``malformedRequest``, ``unauthorized`` and ``tryLater``: the
  bytes :func:`ramis.ca.views.ocsp_responder` returns.
* A successful answer to ``GET`` carries RFC 5019 §6.2's caching headers:
  ``Last-Modified`` (thisUpdate), ``Expires`` (nextUpdate), ``ETag``, and
  ``Cache-Control: max-age`` of ``CA_OCSP_CACHE_SECONDS`` (never beyond
  nextUpdate), so an HTTP cache shows a revocation as soon as this tier
  does. Error answers to ``GET`` say ``no-store``. They are
  :func:`ramis.ca.responder.http_headers`'s, as on the Django view.
* Other methods ``405`` (with ``Allow``), another content type ``415``, a
  path outside ``/ca/ocsp/`` ``404``, a longer body ``413``, a chunked body
  ``411``, anything that is not HTTP/1.x ``400`` (then the connection is
  closed).
* HTTP/1.1 keep-alive (and HTTP/1.0's ``Connection: keep-alive``),
  ``Connection: close``, pipelined requests answered in order.
* A client has ``timeout`` seconds to send a whole request after it connects
  or after the previous answer; then the connection is closed (``408`` if a
  request had begun), so a slow or idle client cannot hold a connection.

A cache miss (a database lookup, or an ``unknown`` answer from the signing
queue, which may wait up to ``CA_OCSP_UNKNOWN_WAIT_SECONDS``) runs in a
thread; the connection reads nothing more until it is answered. Nothing here
touches a token or holds a PIN.

``GET /metrics`` answers the tier's counters, summed over its workers, in
Prometheus's text format (:mod:`ramis.ca.ocsp_metrics`), to a scraper on the
machine or one with ``METRICS_TOKEN``; anyone else gets ``404``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

from . import ocsp, ocsp_metrics, responder

log = logging.getLogger(__name__)

PREFIX = b"/ca/ocsp/"
MAX_HEAD = 8192
MAX_BODY = 10_000  # = ramis.ca.ocsp_wsgi.MAX_REQUEST_BYTES
SWEEP_SECONDS = 0.5
BACKLOG = 2048
ACCEPT_BATCH = 64  # connections taken per wake-up of the listening socket
READ_SIZE = 65536
MAX_DIRECT_WRITE = 8192  # answers written by _Tier.accept itself are never longer (they fit the send buffer)
STATUS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed",
          408: b"Request Timeout", 411: b"Length Required", 413: b"Content Too Large",
          415: b"Unsupported Media Type", 500: b"Internal Server Error"}
_OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: "
_KEEP, _CLOSE = b"", b"Connection: close\r\n"
_KEEP_10 = b"Connection: keep-alive\r\n"  # an HTTP/1.0 client must be told the connection stays


def _http_date(timestamp: float) -> bytes:
    return responder.http_date(timestamp).encode()


def _encode(headers) -> bytes:
    return b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers)


# The headers are responder.http_headers()'s, as on the Django view; encoded once (per answer for a success):
_NO_STORE = _encode(responder.http_headers(ocsp.MALFORMED_REQUEST))  # any error answer's


@dataclass(frozen=True)
class _Cacheable:
    """RFC 5019 §6.2 headers of one successful answer (all but Cache-Control, whose max-age runs down)."""

    headers: bytes
    dates: responder.AnswerDates


_cacheable: dict[bytes, _Cacheable] = {}


def _cacheable_headers(der: bytes) -> _Cacheable:
    found = _cacheable.get(der)
    if found is None:
        dates = responder.answer_dates(der)
        found = _Cacheable(_encode(dates.fixed), dates)
        if len(_cacheable) >= responder.MAX_CACHED:
            _cacheable.clear()
        _cacheable[der] = found
    return found


def _answer_in_thread(der: bytes) -> bytes:
    from django.db import close_old_connections

    raw = responder.answer(der)
    if raw == ocsp.INTERNAL_ERROR:
        close_old_connections()  # e.g. the database went away: reconnect next time
    return raw


def _header(lowered: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` (b"\\r\\nname:") in the lower-cased head, or None; two of them: b"\\0"."""
    i = lowered.find(name)
    if i < 0:
        return None
    start = i + len(name)
    if lowered.find(name, start) >= 0:
        return b"\0"
    end = lowered.find(b"\r\n", start)
    return lowered[start:end if end >= 0 else None].strip()


class _Tier:
    """What a worker's connections share: settings, the open connections, the Date header."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float, max_body: int,
                 board: ocsp_metrics.Board, index: int) -> None:
        from django.conf import settings

        self.loop, self.timeout, self.max_body = loop, timeout, max_body
        self.board, self.row = board, board.row(index)
        self.metrics_token = settings.METRICS_TOKEN
        self.connections: set[_Connection] = set()
        self.date = b""
        self.now = 0.0
        self.sweeper: asyncio.TimerHandle | None = None
        self.sweep()

    def sweep(self) -> None:
        """Once per SWEEP_SECONDS: refresh the Date header, close connections past their deadline."""
        self.now = time.time()
        self.date = b"Date: " + _http_date(self.now) + b"\r\n"
        now = self.loop.time()
        for conn in [c for c in self.connections if c.deadline < now]:
            conn.expire()
        self.row.connections(len(self.connections))
        self.sweeper = self.loop.call_later(SWEEP_SECONDS, self.sweep)

    def close(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
        for conn in list(self.connections):
            if not conn.busy:
                conn.transport.close()

    def accept(self, listener: socket.socket) -> None:
        """The listening socket is readable: take the connections waiting there.

        The first bytes of each are read at once (``TCP_DEFER_ACCEPT`` has them there) and answered
        on trial into a _Recorder. When that ends the connection (``Connection: close``, HTTP/1.0,
        an error) without a thread, the answer is written and the socket closed right here: a read,
        a write and a close, no event-loop transport. Any other connection (kept alive, a request
        not all in, a cache miss) is handed to the loop as a _Connection that starts with those
        bytes and answers them afresh; the trial's output is dropped.
        """
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:  # e.g. out of file descriptors: pause accepting, as asyncio does
                log.warning("OCSP server: accept failed (%s); pausing for a second", exc)
                self.loop.remove_reader(listener.fileno())
                self.loop.call_later(1.0, self.loop.add_reader, listener.fileno(), self.accept, listener)
                return
            try:
                data = conn.recv(READ_SIZE, socket.MSG_DONTWAIT)
            except BlockingIOError:
                data = b""  # nothing yet: the loop's connection waits for it
            except OSError:
                conn.close()
                continue
            else:
                if not data:  # the client has gone
                    conn.close()
                    continue
                trial = _Connection(self, data, trial=True)
                trial.process_safely()
                out = b"".join(trial.transport.chunks)
                if trial.transport.closed and not trial.handed_over and len(out) <= MAX_DIRECT_WRITE:
                    try:
                        conn.send(out)  # a fresh connection's empty send buffer takes it whole
                    except OSError:
                        pass
                    conn.close()
                    trial.transport.count(self.row)
                    continue
            conn.setblocking(False)
            self.loop.create_task(self.hand_over(conn, data))

    async def hand_over(self, conn: socket.socket, data: bytes) -> None:
        try:
            await self.loop.connect_accepted_socket(lambda: _Connection(self, data), sock=conn)
        except OSError:
            conn.close()


class _Recorder:
    """The transport of a trial answer (see _Tier.accept): what would be written, whether closed,
    and what to count once it is written (a trial that is handed over counts nothing: the event
    loop's connection answers, and counts, afresh)."""

    __slots__ = ("chunks", "closed", "answers", "errors")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False
        self.answers: list[bytes] = []
        self.errors: list[int] = []

    def count(self, row: ocsp_metrics.Row) -> None:
        for raw in self.answers:
            row.answered(raw)
        for code in self.errors:
            row.http_error(code)

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def close(self) -> None:
        self.closed = True


class _Connection(asyncio.Protocol):
    __slots__ = ("tier", "transport", "buffer", "deadline", "busy", "closing", "trial", "handed_over")

    def __init__(self, tier: _Tier, initial: bytes = b"", *, trial: bool = False) -> None:
        self.tier = tier
        self.buffer = initial
        self.busy = self.closing = self.handed_over = False
        self.trial = trial  # answer into a _Recorder; a request that needs a thread is handed over instead
        if trial:
            self.transport = _Recorder()
            self.deadline = tier.loop.time() + tier.timeout

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.deadline = self.tier.loop.time() + self.tier.timeout
        self.tier.connections.add(self)
        if self.buffer:  # the bytes _Tier.accept read before handing the connection over
            self.process_safely()

    def connection_lost(self, exc) -> None:
        self.closing = True
        self.tier.connections.discard(self)

    def expire(self) -> None:
        if self.buffer:
            self.reply(408, b"", close=True)
        self.closing = True
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            data = self.buffer + data
        self.buffer = data
        if not self.busy:
            self.process_safely()

    def process_safely(self) -> None:
        try:
            self.process()
        except Exception:  # a bug here must not leave the client waiting
            log.exception("OCSP server: request failed")
            self.buffer = b""
            self.reply(500, b"", close=True)

    def process(self) -> None:
        """Answer every complete request in the buffer, in order; stop at a thread's answer."""
        while self.buffer and not self.busy and not self.closing:
            data = self.buffer
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > MAX_HEAD:
                    self.reply(400, b"", close=True)
                return
            if end > MAX_HEAD:
                self.reply(400, b"", close=True)
                return
            line_end = data.find(b"\r\n", 0, end + 2)
            parts = data[:line_end].split(b" ")
            if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
                self.reply(400, b"", close=True)
                return
            method, target, version = parts
            lowered = data[line_end:end + 2].lower()
            connection = _header(lowered, b"\r\nconnection:")
            if version == b"HTTP/1.1":
                keep = _KEEP if connection is None or b"close" not in connection else None
            else:
                keep = _KEEP_10 if connection is not None and b"keep-alive" in connection else None
            if _header(lowered, b"\r\ntransfer-encoding:") is not None:
                self.reply(411, b"", close=True)  # OCSP clients send a Content-Length
                return
            length = _header(lowered, b"\r\ncontent-length:")
            if length is None:
                length = 0
            elif length.isdigit() and len(length) < 10:
                length = int(length)
            else:
                self.reply(400, b"", close=True)
                return
            if length > self.tier.max_body:
                self.reply(413, b"", close=True)
                return
            start = end + 4
            if len(data) < start + length:
                if _header(lowered, b"\r\nexpect:") == b"100-continue" and len(data) == start:
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self.buffer = data[start + length:]
            self.deadline = self.tier.loop.time() + self.tier.timeout
            self.request(method, target, data[start:start + length], lowered, keep, data, line_end)

    def request(self, method: bytes, target: bytes, body: bytes, lowered: bytes, keep: bytes | None,
                data: bytes = b"", head_at: int = 0) -> None:
        if not target.startswith(PREFIX):
            if target.partition(b"?")[0] == b"/metrics" and method in (b"GET", b"HEAD"):
                if self.trial:  # the peer's address is the event loop connection's to tell
                    self.handed_over = self.closing = True
                    return
                self.metrics(method, lowered, keep, data, head_at)
                return
            self.reply(404, b"", close=keep is None, keep=keep)
            return
        if method == b"POST":
            kind = _header(lowered, b"\r\ncontent-type:")
            if kind is not None and kind.partition(b";")[0].strip() != b"application/ocsp-request":
                self.reply(415, b"", close=keep is None, keep=keep)
                return
            der = body
        elif method in (b"GET", b"HEAD"):
            encoded = target[len(PREFIX):].partition(b"?")[0].partition(b"/")[2]
            try:
                der = ocsp.decode_get_path(encoded.decode("latin-1")) if encoded else b""  # it unquotes
            except ocsp.MalformedRequest:
                der = b""
        else:
            self.reply(405, b"", close=keep is None, keep=keep, extra=b"Allow: GET, HEAD, POST\r\n")
            return
        raw = responder.cached(der)
        if raw is not None:
            self.answer(method, raw, keep)
            return
        if self.trial:
            self.handed_over = self.closing = True  # stop here: an event-loop connection answers it
            return
        self.busy = True
        self.tier.row.missed()
        self.deadline = float("inf")  # the thread's time is not the client's
        self.transport.pause_reading()
        future = self.tier.loop.run_in_executor(None, _answer_in_thread, der)
        future.add_done_callback(lambda f: self.answered(f, method, keep))

    def answered(self, future: asyncio.Future, method: bytes, keep: bytes | None) -> None:
        self.busy = False
        if self.closing:
            return
        try:
            raw = future.result()
        except Exception:  # responder.answer never raises; a thread that could not start might
            log.exception("OCSP server: answer failed")
            raw = ocsp.INTERNAL_ERROR
        self.answer(method, raw, keep)
        self.deadline = self.tier.loop.time() + self.tier.timeout
        self.transport.resume_reading()
        if self.buffer and not self.closing:
            self.process_safely()

    def answer(self, method: bytes, raw: bytes, keep: bytes | None) -> None:
        tier = self.tier
        if self.trial:
            self.transport.answers.append(raw)
        else:
            tier.row.answered(raw)
        if method == b"POST":
            head = _OK_HEAD + str(len(raw)).encode() + b"\r\n" + tier.date
        elif raw in responder.ERRORS:
            head = _OK_HEAD + str(len(raw)).encode() + b"\r\n" + tier.date + _NO_STORE
        else:
            meta = _cacheable_headers(raw)
            head = (_OK_HEAD + str(len(raw)).encode() + b"\r\n" + tier.date + meta.headers
                    + b"Cache-Control: " + responder.cache_control(meta.dates, tier.now).encode() + b"\r\n")
        if keep is None:
            self.transport.write(head + _CLOSE + b"\r\n" + (b"" if method == b"HEAD" else raw))
            self.closing = True
            self.transport.close()
        else:
            self.transport.write(head + keep + b"\r\n" + (b"" if method == b"HEAD" else raw))

    def reply(self, status: int, body: bytes, *, close: bool, keep: bytes | None = _KEEP,
              extra: bytes = b"") -> None:
        """A plain HTTP error (not an OCSP answer)."""
        if self.trial:
            self.transport.errors.append(status)
        else:
            self.tier.row.http_error(status)
        self.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % (
                status, STATUS[status], len(body)) + self.tier.date + extra
            + (_CLOSE if close else keep or b"") + b"\r\n" + body)
        if close:
            self.closing = True
            self.buffer = b""
            self.transport.close()

    def metrics(self, method: bytes, lowered: bytes, keep: bytes | None, data: bytes, head_at: int) -> None:
        """``GET /metrics``: every worker's counters, to a scraper the web tier's rule lets in."""
        tier = self.tier
        at = lowered.find(b"\r\nauthorization:")
        authorization = None
        if at >= 0:  # the header's value as sent (the token's case matters), the name's case not
            end = lowered.find(b"\r\n", at + 2)
            value = data[head_at + at + 16:head_at + end if end >= 0 else None].strip()
            scheme, _, credentials = value.partition(b" ")
            authorization = scheme.lower() + b" " + credentials.strip()
        peer = self.transport.get_extra_info("peername")
        forwarded = _header(lowered, b"\r\nx-forwarded-for:") is not None
        if not ocsp_metrics.allowed(peer[0] if peer else None, forwarded, authorization, tier.metrics_token):
            self.reply(404, b"", close=keep is None, keep=keep)
            return
        body = tier.board.exposition()
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                b"Content-Length: %d\r\n" % len(body) + tier.date + b"Cache-Control: no-store\r\n")
        self.transport.write(head + (keep if keep is not None else _CLOSE) + b"\r\n"
                             + (b"" if method == b"HEAD" else body))
        if keep is None:
            self.closing = True
            self.transport.close()


# -- processes -------------------------------------------------------------------------------------------


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` → (host, port); ValueError with a sentence otherwise."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--bind must be HOST:PORT, not {bind!r}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - the operator's choice


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket of this process's own in the port's SO_REUSEPORT group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # accept() only once the request's first bytes are there: one wake-up per connection, not two
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio's loop works, slower
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def serve(sock: socket.socket, *, timeout: float = 5.0, max_body: int = MAX_BODY,
                stop: asyncio.Event | None = None, board: ocsp_metrics.Board | None = None, index: int = 0) -> None:
    """Answer on ``sock`` until ``stop`` is set; then finish the answers being made and return.
    Counts into row ``index`` of ``board`` (the master's, shared by the workers; else one of its own)."""
    loop = asyncio.get_running_loop()
    tier = _Tier(loop, timeout, max_body, board or ocsp_metrics.Board(1), index if board else 0)
    loop.add_reader(sock.fileno(), tier.accept, sock)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
        tier.close()
        deadline = loop.time() + timeout
        while any(c.busy for c in tier.connections) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(tier.connections):
            conn.transport.close()


def _worker(host: str, port: int, timeout: float, max_body: int, board: ocsp_metrics.Board, index: int) -> None:
    """A worker process: its own socket in the SO_REUSEPORT group, its own event loop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the master, which stops us with SIGTERM
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    sock = listening_socket(host, port)
    loop.run_until_complete(serve(sock, timeout=timeout, max_body=max_body, stop=stop, board=board, index=index))


class ServeError(Exception):
    pass


def _check_free(host: str, port: int) -> None:
    """Refuse a port something already answers on: SO_REUSEPORT would quietly share it with another tier
    of the same user. Fail here, in one line, rather than in every worker."""
    probe = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    try:
        socket.create_connection((probe, port), timeout=1).close()
    except OSError:
        pass
    else:
        raise ServeError(f"cannot listen on {host}:{port}: something already answers there")
    try:
        listening_socket(host, port).close()
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run(*, bind: str, workers: int, timeout: float, max_body: int = MAX_BODY, out=None) -> None:
    """The master: check the address, fork ``workers`` workers, restart any that dies, stop on SIGTERM/SIGINT."""
    from django.db import connections

    host, port = parse_bind(bind)
    if workers < 1:
        raise ServeError("--workers must be at least 1")
    if timeout <= 0:
        raise ServeError("--timeout must be positive")
    _check_free(host, port)
    connections.close_all()  # no database connection may cross a fork
    board = ocsp_metrics.Board(workers)  # shared with the workers: made before they are forked
    children: dict[int, tuple[float, int]] = {}
    stopping = False

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the master's handler
            code = 0
            try:
                _worker(host, port, timeout, max_body, board, index)
            except BaseException:
                log.exception("OCSP worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children[pid] = (time.monotonic(), index)

    def stop_all(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, stop_all) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(workers):
            spawn(index)
        if out is not None:
            out.write(f"OCSP responder on {host}:{port}: {workers} worker(s) (pids "
                      f"{', '.join(map(str, children))}), timeout {timeout:g} s\n")
            out.flush()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            child = children.pop(pid, None)
            if child is None or stopping:
                continue
            started, index = child
            code = os.waitstatus_to_exitcode(status)
            if code > 0 and time.monotonic() - started < 5:  # failed at start: restarting will not help
                stop_all(None, None)
                for other in list(children):
                    os.waitpid(other, 0)
                raise ServeError(f"a worker exited with code {code} as it started (see its log above)")
            log.warning("OCSP worker %d ended (%s); starting another", pid, code)
            board.row(index).restarted()
            spawn(index)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
