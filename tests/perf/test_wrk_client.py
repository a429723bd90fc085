"""bench/wrk_client.py, the wrk runner of bench/pages.py and bench/pki.py, against a small server on
127.0.0.1: the POST bodies it rotates arrive byte for byte (binary, as OCSP requests are), the
headers are sent, and what it reports (requests, rate, errors) is what the server saw."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import wrk_client  # noqa: E402

BODIES = [bytes(range(256)), b"\x30\x00", b'"quoted" \\ back\nslash']


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, bytes, str]] = []

    def _answer(self, status: int, body: bytes = b"ok") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.seen.append(("POST", self.path, body, self.headers.get("Content-Type", "")))
        self._answer(200)

    def do_GET(self):  # noqa: N802
        Recorder.seen.append(("GET", self.path, b"", self.headers.get("X-Bench", "")))
        self._answer(404 if self.path == "/missing" else 200)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    if not wrk_client.available():
        pytest.fail("wrk is not installed (make test installs it: APT_TEST)")
    Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_post_bodies_rotate_byte_for_byte(server):
    result = wrk_client.run(f"{server}/ocsp/", seconds=1, connections=2, bodies=BODIES,
                            headers={"Content-Type": "application/ocsp-request"})
    posts = [s for s in Recorder.seen if s[0] == "POST"]
    assert posts and {s[2] for s in posts} == set(BODIES)
    assert {s[1] for s in posts} == {"/ocsp/"} and {s[3] for s in posts} == {"application/ocsp-request"}
    assert 0 < result.requests <= len(posts) and result.rate > 0
    assert result.bad_status == 0 and result.socket_errors == 0
    assert 0 < result.p50_ms <= result.p95_ms


def test_headers_sent_and_error_statuses_counted(server):
    ok = wrk_client.run(f"{server}/page", seconds=1, connections=1, headers={"X-Bench": "yes"})
    assert ok.requests > 0 and ok.bad_status == 0
    assert {s[3] for s in Recorder.seen if s[1] == "/page"} == {"yes"}
    missing = wrk_client.run(f"{server}/missing", seconds=1, connections=1)
    assert missing.requests > 0 and missing.bad_status == missing.requests
