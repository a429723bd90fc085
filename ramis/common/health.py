"""Liveness and readiness (docs/operator/health.md).

``/healthz`` says the process answers. ``/readyz`` runs :data:`CHECKS` — the database, the shared
cache, the Celery broker, and the signing worker's heartbeat (which says whether that worker reached
the CA tokens) — and is ready when every check named in ``READINESS_CHECKS`` passes. Each check
reaching another server is bounded by ``READINESS_TIMEOUT_SECONDS``. With Celery eager (the embedded
default) there is no broker and no signing worker: those two report so and pass.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections

from .cache import strict

logger = logging.getLogger("ramis.health")

HEARTBEAT_KEY = "ramis:heartbeat:signing"


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def _select_one(connection) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        connection.close()  # a broken connection must not be handed to the next request
        raise


def _database() -> Check:
    """``SELECT 1``; a connection broken by a restart of PostgreSQL is closed and tried once anew."""
    connection = connections["default"]
    try:
        try:
            _select_one(connection)
        except Exception:
            _select_one(connection)
    except Exception as exc:  # any driver error means "not ready"; the detail says which
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Check(False, f"{exc.__class__.__name__}: {first_line}")
    return Check(True, connection.vendor)


def _cache() -> Check:
    counters = strict(cache)
    try:
        counters.set("ramis:readyz", "1", 30)
        if counters.get("ramis:readyz") != "1":
            return Check(False, "the cache did not keep a value")
    except Exception as exc:
        return Check(False, f"{exc.__class__.__name__}: {exc}")
    return Check(True, cache.__class__.__name__)


def _broker() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check(True, "eager: tasks run in the web process")
    url = settings.CELERY_BROKER_URL
    timeout = settings.READINESS_TIMEOUT_SECONDS
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
            try:
                client.ping()
            finally:
                client.close()
        else:
            from ramis.celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        return Check(False, f"{exc.__class__.__name__}: {exc}")
    return Check(True, url.split("@")[-1].split("://")[-1] if "://" in url else url)


def write_heartbeat(*, tokens: dict[str, str]) -> dict:
    """The signing worker's heartbeat: when, who, and each CA token's state ("ok" or the error)."""
    beat = {"at": time.time(), "host": socket.gethostname(), "tokens": tokens}
    strict(cache).set(HEARTBEAT_KEY, beat, max(settings.SIGNING_HEARTBEAT_MAX_AGE_SECONDS, 60) * 2)
    return beat


def _signing() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check(True, "eager: the web process signs")
    try:
        beat = strict(cache).get(HEARTBEAT_KEY)
    except Exception as exc:
        return Check(False, f"heartbeat unreadable: {exc.__class__.__name__}: {exc}")
    if not beat:
        return Check(False, "no heartbeat from the signing worker (is it running, and beat?)")
    age = int(time.time() - beat["at"])
    if age > settings.SIGNING_HEARTBEAT_MAX_AGE_SECONDS:
        return Check(False, f"last heartbeat {age} s ago from {beat['host']}")
    tokens = beat.get("tokens") or {}
    bad = {slug: state for slug, state in tokens.items() if state != "ok"}
    if not tokens:
        return Check(False, f"heartbeat {age} s ago from {beat['host']}: no CA token reachable (no PIN?)")
    if bad:
        problems = "; ".join(f"{slug}: {state}" for slug, state in sorted(bad.items()))
        return Check(False, f"heartbeat {age} s ago from {beat['host']}: CA token unreachable: {problems}")
    return Check(True, f"heartbeat {age} s ago from {beat['host']}; tokens: {', '.join(sorted(tokens))}")


CHECKS: dict[str, Callable[[], Check]] = {
    "database": _database, "cache": _cache, "broker": _broker, "signing": _signing,
}


def readiness() -> tuple[bool, dict]:
    """(ready, the JSON body): every check runs; only the required ones decide."""
    required = set(settings.READINESS_CHECKS)
    results = {}
    ready = True
    for name, check in CHECKS.items():
        result = check()
        results[name] = {"ok": result.ok, "required": name in required, "detail": result.detail}
        if name in required and not result.ok:
            ready = False
            logger.warning("not ready: %s: %s", name, result.detail)
    return ready, {"status": "ready" if ready else "not ready", "checks": results}
