"""ASGI entry point for the OCSP tier.

    gunicorn ramis.ca.asgi:application -k uvicorn_worker.UvicornWorker -w 2

Why ASGI under uvicorn's worker rather than gunicorn's own (WSGI) workers: an
answer here is a dict lookup of a few microseconds, and what it costs is the
HTTP server around it. Measured on the 2-core development machine
(bench/pki.py), gunicorn's sync/gthread workers spend ~160–200 µs of CPU per
answer (its HTTP parsing is Python), more than ``openssl ocsp`` spends signing
one; uvicorn's worker (httptools' C parser, uvloop, HTTP/1.1 keep-alive)
spends ~30–60 µs. gunicorn still runs the workers (``-w``, restarts,
signals, graceful reload).

Requests under ``/ca/ocsp/`` (POST, and GET with the base64 request in the
path) are answered here: a malformed request or a cached answer right on the
event loop (:func:`ramis.ca.responder.cached`, no I/O), anything else —
a database lookup, or an ``unknown`` answer fetched from the signing queue —
in a thread (:func:`ramis.ca.responder.answer`), so the loop never blocks.
The bytes are those :func:`ramis.ca.views.ocsp_responder` returns. Every
other path goes to Django's ASGI application, so this module can serve the
whole site too. ``ramis.ca.wsgi`` is the same for WSGI servers.
"""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from django.db import close_old_connections  # noqa: E402

from . import ocsp, responder  # noqa: E402
from .views import MAX_REQUEST_BYTES  # noqa: E402

PREFIX = "/ca/ocsp/"
_CONTENT_TYPE = (b"content-type", b"application/ocsp-response")


async def _read_body(receive, limit: int) -> bytes:
    """The request body, or b"" if it is longer than ``limit`` (still read to the end)."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        body = message.get("body", b"")
        size += len(body)
        if size <= limit:
            chunks.append(body)
        more = message.get("more_body", False)
    return b"".join(chunks) if size <= limit else b""


def _answer_in_thread(body: bytes) -> bytes:
    raw = responder.answer(body)
    if raw == ocsp.INTERNAL_ERROR:
        close_old_connections()  # e.g. the database went away: reconnect next time
    return raw


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    path, method = scope.get("path", ""), scope.get("method", "GET")
    if scope["type"] != "http" or not path.startswith(PREFIX) or method not in ("GET", "POST"):
        return await django_application(scope, receive, send)
    if method == "POST":
        body = await _read_body(receive, MAX_REQUEST_BYTES)
    else:
        body = b""
        encoded = path[len(PREFIX):].partition("/")[2]
        if encoded:
            try:
                body = ocsp.decode_get_path(encoded)
            except ocsp.MalformedRequest:
                body = b""
    raw = responder.cached(body)
    if raw is None:
        raw = await asyncio.get_running_loop().run_in_executor(None, _answer_in_thread, body)
    headers = [_CONTENT_TYPE, (b"content-length", str(len(raw)).encode())]
    if method == "GET" and raw not in responder.ERRORS:
        headers.append((b"cache-control", f"public, max-age={responder.cache_seconds()}".encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
