"""Where the CA keys are: the configured tokens, opened once per process.

Only the signing side (``manage.py ca``, the ``signing`` Celery queue, and in
the embedded default the web process with Celery eager) imports this; the
OCSP/CRL views never do.
"""

from __future__ import annotations

import functools
import gc
from urllib.parse import urlsplit

from cryptography import x509
from django.conf import settings

from tokens.conf import get_manager
from tokens.manager import Token

from . import builder, ocsp, profiles
from .models import CertificateAuthority


def ca_settings(slug: str) -> dict:
    return {"root": settings.CA_ROOT, "issuing": settings.CA_ISSUING}[slug]


def public_url() -> str:
    """The base of the URLs certificates name: ``CA_PUBLIC_URL``, else plain ``http://`` on the
    host (and port) of ``PUBLIC_BASE_URL``."""
    if settings.CA_PUBLIC_URL:
        return settings.CA_PUBLIC_URL
    return "http://" + urlsplit(settings.PUBLIC_BASE_URL).netloc


def urls(slug: str) -> builder.CAUrls:
    return builder.CAUrls(public_url(), slug)


def open_token(label: str, pin: str) -> Token:
    return get_manager().open(label=label, pin=pin)


@functools.lru_cache(maxsize=16)
def _signer(slug: str, token_label: str, key_id: str, der: bytes) -> builder.Signer:
    token = open_token(token_label, ca_settings(slug)["pin"])
    return builder.Signer(x509.load_der_x509_certificate(der), token.private_key(id=bytes.fromhex(key_id)), slug)


def signer(ca: CertificateAuthority) -> builder.Signer:
    """The CA's certificate and token key (cached per process)."""
    return _signer(ca.slug, ca.token_label, ca.key_id, bytes(ca.certificate_der))


@functools.lru_cache(maxsize=16)
def _responder(slug: str, token_label: str, key_id: str, ca_der: bytes, resp_der: bytes, hours: int) -> ocsp.Responder:
    import datetime as dt

    token = open_token(token_label, ca_settings(slug)["pin"])
    return ocsp.Responder(
        issuer_cert=x509.load_der_x509_certificate(ca_der),
        responder_cert=x509.load_der_x509_certificate(resp_der),
        responder_key=token.private_key(id=bytes.fromhex(key_id)),
        validity=dt.timedelta(hours=hours),
    )


def responder(ca: CertificateAuthority) -> ocsp.Responder:
    if not ca.ocsp_certificate_der:
        raise ValueError(f"CA {ca.slug} has no OCSP responder certificate (run `manage.py ca init`)")
    return _responder(ca.slug, ca.token_label, ca.ocsp_key_id, bytes(ca.certificate_der),
                      bytes(ca.ocsp_certificate_der), settings.CA_OCSP_VALIDITY_HOURS)


def clear_caches() -> None:
    _signer.cache_clear()
    _responder.cache_clear()


def holds_a_pin() -> bool:
    """True in a process that can sign: the signing worker (only its environment has the CA PINs),
    the embedded setup, ``manage.py ca``."""
    return bool(settings.CA_ISSUING.get("pin") or settings.CA_ROOT.get("pin"))


def prepare_process() -> None:
    """Ready a signing process before its first task (the Celery signing worker's children call it
    on start, ``ramis/ca/tasks.py``; ``bench/pki.py`` calls it as they do).

    pkilint's validator trees for every profile are built now rather than in the first issuance,
    then every object alive — Django's apps, URL and template caches, those validators — is moved
    out of the garbage collector's reach (``gc.freeze``). The collector then no longer walks that
    static heap in each of its full collections, which pkilint's many short-lived pyasn1 objects
    triggered every few dozen issuances: about 0.5 ms less CPU per issuance (5.6 → 5.1 ms, alternating
    runs of 300 issuances, 2026-12-07, docs/developer/benchmarks.md; measured before ``lint._unlinked``
    made most of those objects go by reference counting, which leaves the collector far less to
    start for). Frozen objects are still freed
    when their last reference goes; only a reference cycle among them would outlive the process's
    need, and the startup heap is kept for the process's life anyway."""
    from . import lint  # pkilint: imported by the processes that lint (ramis/ca/findings.py)

    for etsi_type in {p.etsi_type for p in profiles.PROFILES.values()}:
        lint.warm(etsi_type)
    gc.collect()
    gc.freeze()
