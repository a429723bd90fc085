"""A fixed-window counter in the cache, for throttles that are not password logins."""

from __future__ import annotations

from django.core.cache import cache


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for ``key``; return False once more than ``limit`` fall in the window."""
    cache_key = f"throttle:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return True
    return count <= limit
