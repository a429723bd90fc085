"""Prometheus counters of the portal's own (docs/operator/metrics.md); the gauges read from the
database at scrape time are in ramis/metrics.py. Request latency comes from django-prometheus."""

from __future__ import annotations

from cryptography.x509 import ocsp as x509_ocsp
from prometheus_client import Counter

OCSP_ANSWERS = Counter("ramis_ocsp_answers", "OCSP answers given by the web tier, per status",
                       ["status"])

_labels: dict[bytes, str] = {}


def ocsp_status(raw: bytes) -> str:
    """good, revoked, unknown, or the response status (malformedRequest, tryLater, unauthorized …)."""
    label = _labels.get(raw)
    if label is None:
        try:
            answer = x509_ocsp.load_der_ocsp_response(raw)
            if answer.response_status == x509_ocsp.OCSPResponseStatus.SUCCESSFUL:
                label = answer.certificate_status.name.lower()
            else:
                label = answer.response_status.name.lower()
        except ValueError:
            label = "unparsable"
        if len(_labels) > 10_000:
            _labels.clear()
        _labels[raw] = label
    return label


def count_ocsp_answer(raw: bytes) -> None:
    OCSP_ANSWERS.labels(status=ocsp_status(raw)).inc()
