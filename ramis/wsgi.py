import json
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")

django_application = get_wsgi_application()

_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _probe(path: str) -> tuple[str, bytes]:
    if path == "/healthz":
        return "200 OK", b'{"status": "ok"}'
    from ramis.common import health

    ready, body = health.readiness()  # a broken database connection is closed by the check itself
    return ("200 OK" if ready else "503 Service Unavailable"), json.dumps(body).encode()


def application(environ, start_response):
    """Django, with the liveness and readiness probes answered before it: a container or load
    balancer health check reaches the process as 127.0.0.1, which is (rightly) not one of the
    ALLOWED_HOSTS (docs/operator/health.md)."""
    path = environ.get("PATH_INFO")
    if path in ("/healthz", "/readyz"):
        status, body = _probe(path)
        start_response(status, [*_HEADERS, ("Content-Length", str(len(body)))])
        return [body]
    return django_application(environ, start_response)
