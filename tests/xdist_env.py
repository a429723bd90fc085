"""Loaded with ``-p tests.xdist_env`` (``make test``): under pytest-xdist each worker gets
Redis databases of its own, before Django reads its settings.

pytest-django gives each worker its own test database (``test_<name>_gw0``, ``…_gw1``), but the
Celery broker and the Celery workers the tests start use ``REDIS_URL``, and the cache
``CACHE_URL`` when it is set, which every test clears: two pytest workers on one Redis database
would take each other's tasks and clear each other's cache. Worker ``gwN`` uses database ``D - N``
below the configured ``D`` of each (15 → 15, 14). Without xdist nothing changes;
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
        raise SystemExit(f"Redis URL {url}: database {base} leaves no database for xdist worker {worker}")
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
if _worker:
    for _name in ("REDIS_URL", "CACHE_URL"):
        if os.environ.get(_name):
            os.environ[_name] = _worker_url(os.environ[_name], _worker)
