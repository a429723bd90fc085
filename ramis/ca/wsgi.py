"""WSGI entry point for an OCSP tier on a WSGI server: ``gunicorn ramis.ca.wsgi:application``.

Production uses ``manage.py ca ocsp-serve`` (:mod:`ramis.ca.ocsp_server`) instead,
at a fraction of the CPU per answer; this is the same thing for WSGI servers.

Requests under ``/ca/ocsp/`` are answered here, before Django's request
machinery (middleware, sessions, URL resolving): parse, look the pre-signed
bytes up (:mod:`ramis.ca.responder`: per-process cache, then one indexed
query), return them. Everything else goes to the normal Django application,
so this module can also serve the whole site. The answers are byte-for-byte
what :func:`ramis.ca.views.ocsp_responder` returns.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_application = get_wsgi_application()

from django.db import close_old_connections  # noqa: E402

from . import ocsp, responder  # noqa: E402
from .views import MAX_REQUEST_BYTES  # noqa: E402

PREFIX = "/ca/ocsp/"


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    if not path.startswith(PREFIX) or method not in ("GET", "POST"):
        return django_application(environ, start_response)
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
    headers = [("Content-Type", "application/ocsp-response"), ("Content-Length", str(len(raw)))]
    if method == "GET":  # RFC 5019 §6.2, the same headers as every other front's
        headers.extend(responder.http_headers(raw))
    start_response("200 OK", headers)
    return [raw]
