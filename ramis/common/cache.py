"""The shared cache, degrading when Redis is unreachable (docs/operator/outages.md).

Every user of ``django.core.cache.cache`` (the seal logo's facts, ``cache_page``, OCSP's
"unknown" answers) treats the cache as an optimisation: with Redis down, a read is a miss (the
caller goes to the database) and a write is dropped, with a warning in the log, instead of a 500.
After a failure the process stops asking Redis for ``retry_seconds`` (a short circuit), so an
outage costs each request nothing rather than a connection attempt per cache call.

Django's own ``RedisCache`` is kept (the wire format every process of a rolling upgrade shares);
django-redis' ``IGNORE_EXCEPTIONS`` would swap the client for the whole project and still need a
second, strict alias. What must not degrade, a throttle, uses :func:`strict` and fails closed.
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("ramis.cache")

# What a broken cache raises (redis-py's ConnectionError and TimeoutError are RedisErrors).
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


def _degrading(fallback):
    """Run the real operation; on a Redis error return ``fallback(args)`` and open the circuit."""

    def wrap(method):
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            if time.monotonic() < self._down_until:
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except CACHE_ERRORS as exc:
                self._down_until = time.monotonic() + self._retry_seconds
                logger.warning("cache unreachable (%s: %s): %s falls back for %ss", exc.__class__.__name__, exc,
                               method.__name__, self._retry_seconds)
                return fallback(*args, **kwargs)

        return inner

    return wrap


def _default_arg(key, default=None, *args, **kwargs):
    return kwargs.get("default", default)


def _missing(key, *args, **kwargs):
    raise ValueError(f"Key '{key}' not found")  # what incr says of a key that is not there


class DegradingRedisCache(RedisCache):
    """Django's Redis cache whose reads miss and writes are dropped while Redis is down.

    ``OPTIONS``: ``retry_seconds`` (how long a failure keeps this process off Redis, default 5)
    besides redis-py's; ``socket_connect_timeout`` and ``socket_timeout`` default to 1 second so
    an unreachable host costs a second, not the kernel's minutes.
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self._retry_seconds = float(options.pop("retry_seconds", 5))
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._down_until = 0.0

    @property
    def strict(self) -> RedisCache:
        """The same cache (client, pool, key prefix) raising Redis errors instead of degrading."""
        view = RedisCache.__new__(RedisCache)
        view.__dict__ = self.__dict__
        return view

    get = _degrading(_default_arg)(RedisCache.get)
    get_many = _degrading(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _degrading(lambda *a, **k: False)(RedisCache.has_key)
    set = _degrading(lambda *a, **k: None)(RedisCache.set)
    set_many = _degrading(lambda *a, **k: [])(RedisCache.set_many)
    add = _degrading(lambda *a, **k: False)(RedisCache.add)
    incr = _degrading(_missing)(RedisCache.incr)  # decr too (BaseCache.decr calls incr)
    touch = _degrading(lambda *a, **k: False)(RedisCache.touch)
    delete = _degrading(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _degrading(lambda *a, **k: None)(RedisCache.delete_many)
    clear = _degrading(lambda *a, **k: False)(RedisCache.clear)


def strict(cache):
    """``cache`` raising its errors: the strict view of a degrading cache, any other cache as it is."""
    return getattr(cache, "strict", cache)
