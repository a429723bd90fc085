"""N7: one fetch of the domain check has a total time limit (three times the timeout) that
covers every stage: connect, the TLS handshake, the status line and headers, and the body.
A site that dribbles a byte every 0.3 s never trips a per-read timeout; the deadline stops it."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from enamad.businesses import verification
from tests.enamad.conftest import DOMAIN

pytestmark = pytest.mark.django_db

TIMEOUT = 1  # seconds: the limit of one fetch is 3 s
LIMIT = 3 * TIMEOUT
DRIBBLE_FOR = 8.0  # the server gives up after this long; a fetch without a deadline waits for it


class Dribbler:
    """A TCP server on 127.0.0.1 that answers every connection with ``prefix`` and then one
    byte of ``filler`` every 0.3 s, for ``DRIBBLE_FOR`` seconds."""

    def __init__(self, prefix: bytes, filler: bytes = b"a", *, read_request: bool = True):
        self.prefix, self.filler, self.read_request = prefix, filler, read_request
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed at teardown
                return
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket):
        with conn:
            try:
                if self.read_request:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(4096)
                conn.sendall(self.prefix)
                started = time.monotonic()
                while not self.stop.is_set() and time.monotonic() - started < DRIBBLE_FOR:
                    conn.sendall(self.filler)
                    time.sleep(0.3)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture
def slow_net(local_net, settings):
    servers = []

    def serve(prefix: bytes, *, scheme: str = "http", **kwargs) -> Dribbler:
        server = Dribbler(prefix, **kwargs)
        servers.append(server)
        setattr(settings, f"ENAMAD_VERIFY_{scheme.upper()}_PORT", server.port)
        return server

    settings.ENAMAD_VERIFY_TIMEOUT_SECONDS = TIMEOUT
    yield serve
    for server in servers:
        server.close()


def timed_fetch(scheme: str = "http"):
    started = time.monotonic()
    with pytest.raises(verification.FetchError) as info:
        verification.fetch(DOMAIN, "/", scheme=scheme)
    return time.monotonic() - started, info.value


def test_headers_dribbled_a_byte_at_a_time_stop_at_the_deadline(slow_net):
    slow_net(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    elapsed, error = timed_fetch()
    assert elapsed < LIMIT + 0.5, elapsed
    assert "زمان مقرر" in error.message


def test_status_line_dribbled_a_byte_at_a_time_stops_at_the_deadline(slow_net):
    slow_net(b"HTTP/1.1 2", filler=b"0")
    elapsed, error = timed_fetch()
    assert elapsed < LIMIT + 0.5, elapsed
    assert "زمان مقرر" in error.message


def test_body_dribbled_a_byte_at_a_time_stops_at_the_deadline(slow_net):
    slow_net(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<html>")
    elapsed, error = timed_fetch()
    assert elapsed < LIMIT + 0.5, elapsed
    assert "زمان مقرر" in error.message


def test_tls_handshake_dribbled_a_byte_at_a_time_stops_within_the_limit(slow_net):
    # A TLS handshake record announcing 16 KiB, then a byte every 0.3 s: the handshake never ends.
    slow_net(b"\x16\x03\x03\x40\x00\x02", filler=b"\x00", scheme="https", read_request=False)
    elapsed, error = timed_fetch("https")
    assert elapsed < LIMIT + 0.5, elapsed
    assert isinstance(error, verification.TLSError)


def test_a_normal_page_is_still_fetched(local_net):
    local_net["http"].routes["/"] = (200, b"<html>ok</html>", {})
    page = verification.fetch(DOMAIN, "/", scheme="http")
    assert page.status == 200 and page.body == b"<html>ok</html>"
