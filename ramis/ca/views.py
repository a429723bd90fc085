"""Public PKI endpoints: CRL, CA certificates, OCSP. No session, no token, no signing.

An ``unknown`` OCSP answer for a serial nobody issued is signed by the
``signing`` queue (in-process only when Celery runs eagerly, the embedded
default); see :mod:`ramis.ca.responder`. The OCSP tier serves the same
answers through :mod:`ramis.ca.ocsp_server` (``manage.py ca ocsp-serve``).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from ramis.common import metrics

from . import ocsp, responder, tsa, tsa_front
from .models import CRL, CertificateAuthority
from .ocsp_wsgi import MAX_REQUEST_BYTES


def crl(request, slug: str) -> HttpResponse:
    row = CRL.objects.filter(ca__slug=slug).order_by("-number").values_list("der", flat=True).first()
    if row is None:
        raise Http404
    resp = HttpResponse(bytes(row), content_type="application/pkix-crl")
    resp["Cache-Control"] = "public, max-age=60"
    resp["Content-Disposition"] = f'inline; filename="{slug}.crl"'
    return resp


def ca_certificate(request, slug: str) -> HttpResponse:
    der = CertificateAuthority.objects.filter(slug=slug).values_list("certificate_der", flat=True).first()
    if der is None:
        raise Http404
    resp = HttpResponse(bytes(der), content_type="application/pkix-cert")
    resp["Cache-Control"] = "public, max-age=86400"
    resp["Content-Disposition"] = f'inline; filename="{slug}.crt"'
    return resp


@csrf_exempt
def ocsp_responder(request, slug: str, encoded: str | None = None) -> HttpResponse:
    if request.method == "POST":
        body = request.body if len(request.body) <= MAX_REQUEST_BYTES else b""
    elif request.method == "GET" and encoded:
        try:
            body = ocsp.decode_get_path(encoded)
        except ocsp.MalformedRequest:
            body = b""
    elif request.method == "GET":
        body = b""
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    raw = responder.answer(body)
    metrics.count_ocsp_answer(raw)
    resp = HttpResponse(raw, content_type="application/ocsp-response")
    if request.method == "GET":  # RFC 5019 §6.2, the same headers as every other front's
        for name, value in responder.http_headers(raw):
            resp[name] = value
    return resp


TSA_QUERY = "application/timestamp-query"


@csrf_exempt
def tsa_endpoint(request) -> HttpResponse:
    """RFC 3161 over HTTP (§3.4): a ``TimeStampReq`` POSTed as application/timestamp-query, a
    ``TimeStampResp`` back as application/timestamp-reply — a rejection with its failInfo for
    anything that is not a request we honour, never an HTTP error (but for a method not POST)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if request.content_type != TSA_QUERY:
        raw = tsa.rejection("bad_request", f"Content-Type must be {TSA_QUERY}")
    elif length > tsa.MAX_REQUEST_BYTES:
        raw = tsa.rejection("bad_request", "not a time-stamp request (too large)")
    else:
        raw = tsa_front.answer(request.body)
    resp = HttpResponse(raw, content_type="application/timestamp-reply")
    resp["Cache-Control"] = "no-store"
    return resp
