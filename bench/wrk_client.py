"""wrk (Debian's package), the HTTP load client nobody here wrote, for bench/pages.py and bench/pki.py.

A Lua ``done`` hook prints what wrk's own summary leaves out (p95) on one line; ``bodies`` makes
every request a POST whose body rotates over the given ones (the OCSP requests)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

DONE = """
done = function(summary, latency, requests)
  local s = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, latency:percentile(50),
    latency:percentile(95), s.status, s.connect + s.read + s.write + s.timeout, summary.duration))
end
"""

POST_ROTATING = """
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[i])
end
"""


class Result(NamedTuple):
    requests: int
    rate: float  # per second
    p50_ms: float
    p95_ms: float
    bad_status: int  # answers with a status ≥ 400
    socket_errors: int


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_bytes(data: bytes) -> str:
    return '"' + "".join(f"\\{b}" for b in data) + '"'


def run(url: str, *, seconds: float, connections: int, headers: dict[str, str] | None = None,
        bodies: list[bytes] | None = None, threads: int = 2) -> Result:
    headers = dict(headers or {})
    script = DONE
    if bodies:
        entries = ", ".join(f"[{k!r}] = {v!r}".replace("'", '"') for k, v in headers.items())
        script += f"headers = {{{entries}}}\nbodies = {{{', '.join(_lua_bytes(b) for b in bodies)}}}\n" + POST_ROTATING
    with tempfile.TemporaryDirectory(prefix="ramis-wrk-") as tmp:
        lua = Path(tmp) / "bench.lua"
        lua.write_text(script)
        cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "-s", str(lua)]
        if not bodies:
            for k, v in headers.items():
                cmd += ["-H", f"{k}: {v}"]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    done, p50, p95, bad, errors, micros = (int(x) for x in re.search(r"RESULT " + " ".join([r"(\d+)"] * 6), out).groups())
    return Result(done, done / (micros / 1e6), p50 / 1000, p95 / 1000, bad, errors)
