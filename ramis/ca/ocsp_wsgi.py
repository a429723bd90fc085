"""OCSP answered at the WSGI door, before Django's request machinery (middleware, sessions, URL
resolving): parse, look the pre-signed bytes up (:mod:`ramis.ca.responder`: per-process cache,
then one indexed query), return them, count them in the metrics.

Both WSGI entry points use it: the site's (``ramis.wsgi``, the web tier, whose ``/ca/ocsp/`` is
the fallback when the OCSP tier is away) and the OCSP tier's on a WSGI server (``ramis.ca.wsgi``).
The answers and headers are byte-for-byte what :func:`ramis.ca.views.ocsp_responder` returns
(tests/pki/test_services.py, test_ocsp_server.py); an OCSP answer needs none of what the
middleware adds (a session, CSRF, CSP, the user), and skipping it is what makes the web tier's
answer cost about what django-ca's pre-signed view costs (docs/developer/benchmarks.md).
"""

from __future__ import annotations

from django.db import close_old_connections

from ramis.common import metrics

from . import ocsp, responder

PREFIX = "/ca/ocsp/"
MAX_REQUEST_BYTES = 10_000


def handles(environ) -> bool:
    """Whether this request is an OCSP request this module answers (GET or POST under /ca/ocsp/)."""
    return environ.get("PATH_INFO", "").startswith(PREFIX) and environ.get("REQUEST_METHOD") in ("GET", "POST")


def answer(environ, start_response) -> list[bytes]:
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    body = b""
    if method == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if 0 < length <= MAX_REQUEST_BYTES:
            body = environ["wsgi.input"].read(length)
    else:
        encoded = path[len(PREFIX):].partition("/")[2]
        if encoded:
            try:
                body = ocsp.decode_get_path(encoded)
            except ocsp.MalformedRequest:
                body = b""
    raw = responder.answer(body)
    if raw == ocsp.INTERNAL_ERROR:
        close_old_connections()  # e.g. the database went away: reconnect next time
    metrics.count_ocsp_answer(raw)
    headers = [("Content-Type", "application/ocsp-response"), ("Content-Length", str(len(raw)))]
    if method == "GET":  # RFC 5019 §6.2, the same headers as every other front's
        headers.extend(responder.http_headers(raw))
    start_response("200 OK", headers)
    return [raw]
