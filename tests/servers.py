"""Servers of a test's own, for outage drills: a Redis and a PostgreSQL started on a free port of
127.0.0.1 under a temporary directory, stopped and started again by the test, never the shared ones.

Ports come from ``RAMIS_TEST_PORTS`` (``first-last``, default 18200-18299).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def free_port() -> int:
    first, _, last = os.environ.get("RAMIS_TEST_PORTS", "18200-18299").partition("-")
    for port in range(int(first), int(last) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in RAMIS_TEST_PORTS")


def wait_port(port: int, *, up: bool, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            if up:
                return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'}")


class RedisServer:
    """``redis-server`` on its own port, no persistence."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            pytest.fail("redis-server is not installed (make test installs it)")
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        wait_port(self.port, up=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (make test installs postgresql)")
    return found


class PostgresServer:
    """A PostgreSQL cluster of the test's own (initdb under a temporary directory), trust auth.

    As root (CI) the server runs as the ``postgres`` user: PostgreSQL refuses to run as root."""

    def __init__(self):
        # Not pytest's tmp_path: its parents are private to the user running the tests.
        self.workdir = Path(tempfile.mkdtemp(prefix="ramis-pg-"))
        self.data = self.workdir / "pgdata"
        self.port = free_port()
        self._as = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.workdir, "postgres")
        subprocess.run([*self._as, _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*self._as, _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                        str(self.workdir / "log"), "-w", "start"], check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        subprocess.run([*self._as, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                       check=False, capture_output=True, timeout=60)
        wait_port(self.port, up=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
