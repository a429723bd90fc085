"""Loaded with ``-p tests.xdist_env`` (``make test``): under pytest-xdist each worker gets a
Redis database of its own, before Django reads its settings.

pytest-django gives each worker its own test database (``test_<name>_gw0``, ``…_gw1``), but the
suite's cache, Celery broker and the workers its tests start all use ``REDIS_URL``, and every
test clears the cache: two workers on one Redis database would clear each other's. Worker ``gwN``
uses database ``D - N`` below the configured ``D`` (15 → 15, 14). Without xdist nothing changes;
without ``REDIS_URL`` the settings stay the embedded ones (Celery eager) and the worker tests that
find a Redis on their own ask :func:`redis_url` for theirs.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def _worker_url(url: str, worker: str) -> str:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    index = int(worker.removeprefix("gw"))
    if index > base:
        raise SystemExit(f"REDIS_URL {url}: database {base} leaves no database for xdist worker {worker}")
    return urlunsplit(parts._replace(path=f"/{base - index}"))


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    """The Redis a worker test starts its Celery worker on: ``REDIS_URL`` (this worker's already),
    or database 15 of a local Redis, minus the xdist worker's number."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_url(DEFAULT_REDIS_URL, worker) if worker else DEFAULT_REDIS_URL


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _worker_url(os.environ["REDIS_URL"], _worker)
