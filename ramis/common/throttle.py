"""A fixed-window counter in the cache, for throttles that are not password logins.

Strict: with the cache unreachable a throttle cannot count, so it fails closed — :class:`Unavailable`,
whose Persian message the caller shows next to the form — rather than letting every attempt through.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from .cache import CACHE_ERRORS, strict

logger = logging.getLogger("ramis.throttle")

UNAVAILABLE_MESSAGE = "سامانه موقتا در دسترس نیست؛ چند لحظه دیگر دوباره تلاش کنید."


class Unavailable(Exception):
    """The throttle's counters cannot be reached: the attempt is refused, not let through."""

    message = UNAVAILABLE_MESSAGE

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for ``key``; return False once more than ``limit`` fall in the window.

    Raises :class:`Unavailable` when the cache cannot be reached."""
    counters = strict(cache)
    cache_key = f"throttle:{key}"
    try:
        if counters.add(cache_key, 1, timeout=window):
            return True
        try:
            count = counters.incr(cache_key)
        except ValueError:  # expired between add and incr
            counters.add(cache_key, 1, timeout=window)
            return True
    except CACHE_ERRORS as exc:
        logger.warning("throttle %s refused: cache unreachable (%s)", key.split(":", 1)[0], exc.__class__.__name__)
        raise Unavailable from exc
    return count <= limit
