"""bench/ocsp_load.c, the OCSP load client of bench/pki.py: built with cc, run against the OCSP tier's
server and against a misbehaving one on 127.0.0.1; what it counts as ok must be what the benchmark
claims it checks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ramis.ca import responder, services

from .test_ocsp_server import OCSP_PATH, server  # noqa: F401  (the OCSP tier's server, a fixture)
from .test_responder import ROOT, issue, request_for

sys.path.insert(0, str(ROOT / "bench"))
import pki as bench  # noqa: E402  (bench/pki.py: the requests file's writer)


@pytest.fixture(scope="module")
def ocsp_load(tmp_path_factory) -> Path:
    exe = bench.build_c_client(tmp_path_factory.mktemp("ocsp_load"))
    assert exe is not None, "no C compiler (cc) on this machine"
    return exe


def run(exe: Path, port: int, wires, lengths, tmp_path, conns=4, seconds=0.5, drain=10) -> dict:
    requests = tmp_path / "requests.bin"
    bench.write_requests(requests, wires, lengths)
    out = subprocess.run([str(exe), str(port), str(requests), str(conns), str(seconds), "0", str(drain)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return json.loads(out.stdout)


@pytest.mark.django_db(transaction=True)
def test_it_counts_the_tiers_answers_with_one_connection_per_answer_only_when_asked(ocsp_load, server,  # noqa: F811
                                                                                   tmp_path):
    _root, issuing = services.ca_init(actor=None)
    certs = [issue(), issue("seal")]
    services.certificate_revoke(serial=certs[1].serial_hex, reason="key_compromise", actor=None)
    bodies = [request_for(issuing, c.serial) for c in certs]
    port = server.port
    exact = [(len(responder.answer(b)),) * 2 for b in bodies]

    kept = run(ocsp_load, port, bench.build_requests(port, OCSP_PATH, bodies, keep_alive=True), exact, tmp_path)
    assert kept["ok"] > 100 and kept["bad"] == 0
    assert kept["opened"] == 4  # every answer on the four kept-alive connections
    assert 0 < kept["cpu"] < kept["seconds"] + 1

    closed = run(ocsp_load, port, bench.build_requests(port, OCSP_PATH, bodies, keep_alive=False), exact, tmp_path)
    assert closed["ok"] > 100 and closed["bad"] == 0
    assert closed["opened"] == closed["ok"]  # a connection per answer, none dropped with a request in flight

    # an answer one byte longer or shorter than expected is not ok
    for wrong in ([(n + 1, n + 1) for n, _ in exact], [(n - 1, n - 1) for n, _ in exact]):
        off = run(ocsp_load, port, bench.build_requests(port, OCSP_PATH, bodies, keep_alive=True), wrong, tmp_path)
        assert off["ok"] == 0 and off["bad"] > 100

    # a malformedRequest answer is a 200 with a body of the right length, but not a successful OCSP answer
    malformed = bench.build_requests(port, OCSP_PATH, [b"junk"], keep_alive=True)
    got = run(ocsp_load, port, malformed, [(0, 10_000)], tmp_path)
    assert got["ok"] == 0 and got["bad"] > 100


class Misbehaving:
    """A server on 127.0.0.1 that reads each request and sends ``answer`` (then closes)."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + 5:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


SUCCESSFUL = bytes.fromhex("3009") + bytes.fromhex("0a0100") + bytes.fromhex("a0020500") + b"\x00\x00"
OK_HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"


@pytest.mark.parametrize(("answer", "ok"), [
    (OK_HEAD + b"Content-Length: 11\r\n\r\n" + SUCCESSFUL, True),  # openssl's way: HTTP/1.0, then close
    (OK_HEAD.replace(b"200 OK", b"500 Internal Server Error") + b"Content-Length: 11\r\n\r\n" + SUCCESSFUL, False),
    (OK_HEAD + b"Content-Length: 12\r\n\r\n" + SUCCESSFUL, False),  # closed before the whole body
    (OK_HEAD + b"\r\n" + SUCCESSFUL, False),  # no Content-Length
    (OK_HEAD + b"Content-Length: 11\r\n\r\n" + SUCCESSFUL.replace(b"\x0a\x01\x00", b"\x0a\x01\x01"), False),
    (OK_HEAD + b"Content-Length: 11\r\n\r\n" + SUCCESSFUL.replace(b"\x30\x09", b"\x30\x08"), False),  # DER length
    (b"", False),  # closed without a word
], ids=["ok-http-1.0", "status-500", "body-cut", "no-length", "unsuccessful", "der-length"] + ["silent"])
def test_answers_that_are_not_whole_successful_ocsp_answers_are_failures(ocsp_load, tmp_path, answer, ok):
    srv = Misbehaving(answer)
    try:
        wires = bench.build_requests(srv.port, "/", [b"hello"], keep_alive=True)
        got = run(ocsp_load, srv.port, wires, [(11, 11)], tmp_path, conns=2, seconds=0.3)
    finally:
        srv.close()
    assert got["ok" if ok else "bad"] > 10 and got["bad" if ok else "ok"] == 0
    assert got["opened"] == got["ok"] + got["bad"]  # the server closes: a new connection for each request


def test_bad_arguments_exit_2_with_one_line(ocsp_load, tmp_path):
    for args in ([], ["0", "x", "1", "1"], ["8000", str(tmp_path / "missing"), "1", "1"]):
        out = subprocess.run([str(ocsp_load), *args], capture_output=True, text=True, timeout=10)
        assert out.returncode == 2 and out.stdout == ""
        assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("ocsp_load: ")
