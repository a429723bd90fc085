import json
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")

django_application = get_wsgi_application()

from ramis.ca import ocsp_wsgi  # noqa: E402 (after Django is set up)

_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _probe(path: str) -> tuple[str, bytes]:
    if path == "/healthz":
        return "200 OK", b'{"status": "ok"}'
    from ramis.common import health

    ready, body = health.readiness()  # a broken database connection is closed by the check itself
    return ("200 OK" if ready else "503 Service Unavailable"), json.dumps(body).encode()


def _metrics(environ, start_response):
    """/metrics for a scraper on the machine (or with METRICS_TOKEN): the view's own check decides."""
    from django.core.handlers.wsgi import WSGIRequest
    from django.http import Http404

    from ramis.metrics import metrics

    try:
        response = metrics(WSGIRequest(environ))
    except Http404:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


def application(environ, start_response):
    """Django, with the liveness and readiness probes and the metrics answered before it: a health
    check or a scraper reaches the process as 127.0.0.1, which is (rightly) not one of the
    ALLOWED_HOSTS, over plain HTTP (docs/operator/health.md, metrics.md). OCSP is answered before
    it too: the web tier's /ca/ocsp/ (the fallback when the OCSP tier is away) costs what the
    OCSP tier's WSGI entry costs (ramis/ca/ocsp_wsgi.py)."""
    path = environ.get("PATH_INFO")
    if path in ("/healthz", "/readyz"):
        status, body = _probe(path)
        start_response(status, [*_HEADERS, ("Content-Length", str(len(body)))])
        return [body]
    if path == "/metrics":
        return _metrics(environ, start_response)
    if ocsp_wsgi.handles(environ):  # OCSP needs none of the middleware (ramis/ca/ocsp_wsgi.py)
        return ocsp_wsgi.answer(environ, start_response)
    return django_application(environ, start_response)
