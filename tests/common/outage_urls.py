"""A test URLconf: the portal's, plus views and a middleware that reach a server that is not there."""

import redis
from django.urls import path

from ramis.urls import handler500, urlpatterns  # noqa: F401  (the portal's 500/503 handler)

DEAD = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def redis_view(request):
    redis.Redis.from_url(DEAD, socket_connect_timeout=1).ping()


def plain_bug_view(request):
    raise KeyError("a bug, not an outage")


class RedisInMiddleware:
    """Raises outside any view (like a session saved to an unreachable store)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/outage/middleware/":
            redis.Redis.from_url(DEAD, socket_connect_timeout=1).ping()
        return self.get_response(request)


urlpatterns = [
    path("outage/redis/", redis_view),
    path("outage/bug/", plain_bug_view),
    *urlpatterns,
]
