"""Loaded with ``-p tests.xdist_env`` (``make test``): under pytest-xdist each worker gets a
Redis database of its own, before Django reads its settings.

pytest-django gives each worker its own test database (``test_<name>_gw0``, ``…_gw1``), but the
suite's cache, Celery broker and the workers its tests start all use ``REDIS_URL``, and every
test clears the cache: two workers on one Redis database would clear each other's. Worker ``gwN``
uses database ``D - N`` below the configured ``D`` (15 → 15, 14). Without xdist, or without
``REDIS_URL``, nothing changes.
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


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _worker_url(os.environ["REDIS_URL"], _worker)
