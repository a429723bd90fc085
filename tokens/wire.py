"""The token agent's authentication, shared by the agent (:mod:`tokens.agent`) and its client
(:mod:`tokens.remote`): HMAC-SHA256 with a per-workstation secret.

A request carries ``X-Ramis-Time`` (Unix seconds), ``X-Ramis-Nonce`` (32 hex digits, never
reused) and ``X-Ramis-Auth``, the HMAC over the method, path, time, nonce and the SHA-256 of the
body. The agent refuses a time more than ``max_skew`` seconds away from its clock and a nonce it
has seen within twice that window. Its answer carries ``X-Ramis-Auth`` too, the HMAC over the
request's nonce, the status and the SHA-256 of the answer's body, so the client knows the answer
comes from the agent that holds the secret and belongs to this request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
from pathlib import Path

VERSION = b"ramis-token-agent-v1"
TIME, NONCE, AUTH = "X-Ramis-Time", "X-Ramis-Nonce", "X-Ramis-Auth"
MIN_SECRET_LENGTH = 32


def _mac(secret: bytes, *parts: str | bytes) -> str:
    msg = b"\n".join(p if isinstance(p, bytes) else p.encode() for p in (VERSION, *parts))
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def _body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def request_headers(secret: bytes, method: str, path: str, body: bytes, *, now: float | None = None,
                    nonce: str | None = None) -> dict[str, str]:
    """The authentication headers of a request."""
    ts = str(int(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    return {TIME: ts, NONCE: nonce, AUTH: _mac(secret, "request", method.upper(), path, ts, nonce, _body_hash(body))}


def response_mac(secret: bytes, nonce: str, status: int, body: bytes) -> str:
    return _mac(secret, "response", nonce, str(status), _body_hash(body))


def response_ok(secret: bytes, nonce: str, status: int, body: bytes, mac: str | None) -> bool:
    return bool(mac) and hmac.compare_digest(response_mac(secret, nonce, status, body), mac)


class Verifier:
    """The agent's side: checks a request's headers and remembers the nonces it accepted."""

    def __init__(self, secret: bytes, max_skew: int = 60):
        self.secret = secret
        self.max_skew = max_skew
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, method: str, path: str, body: bytes, headers) -> str | None:
        """``None`` when the request is authentic and fresh, else why not (for the log; no secret)."""
        ts, nonce, mac = headers.get(TIME, ""), headers.get(NONCE, ""), headers.get(AUTH, "")
        if not (ts.isdigit() and len(nonce) == 32 and mac):
            return "missing or malformed authentication headers"
        expected = _mac(self.secret, "request", method.upper(), path, ts, nonce, _body_hash(body))
        if not hmac.compare_digest(expected, mac):
            return "bad signature"
        now = time.time()
        if abs(now - int(ts)) > self.max_skew:
            return "stale or future timestamp"
        with self._lock:
            for old in [n for n, seen in self._seen.items() if seen < now - 2 * self.max_skew]:
                del self._seen[old]
            if nonce in self._seen:
                return "replayed nonce"
            self._seen[nonce] = now
        return None


def read_secret(path: str | os.PathLike) -> bytes:
    """The workstation's secret from a file readable by its owner only (ValueError otherwise)."""
    p = Path(path)
    mode = p.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{p} must be readable by its owner only (chmod 600)")
    secret = p.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{p}: the secret must be at least {MIN_SECRET_LENGTH} characters")
    return secret.encode()


def write_secret(path: str | os.PathLike, secret: str, *, overwrite: bool = True) -> None:
    """Write the workstation's secret to ``path``, mode 0600 from the start (a rotation replaces
    the file atomically); ValueError for a secret too short."""
    secret = secret.strip()
    if len(secret) < MIN_SECRET_LENGTH or not secret.isprintable():
        raise ValueError(f"the secret must be at least {MIN_SECRET_LENGTH} printable characters")
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        if overwrite:
            os.replace(tmp, p)
        else:
            os.link(tmp, p)  # FileExistsError if it exists
    finally:
        tmp.unlink(missing_ok=True)


def new_secret(path: str | os.PathLike) -> None:
    """Write a new random secret (64 hex digits) to ``path``, mode 0600; refuses to overwrite."""
    write_secret(path, secrets.token_hex(32), overwrite=False)
