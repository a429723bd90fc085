"""OCSP at request time: a lookup of pre-signed bytes (database + per-process cache).

The cache holds an answer for ``CA_OCSP_CACHE_SECONDS`` (20 s by default), so
a revocation shows in OCSP within that time plus the re-signing task (R19: a
minute). Nothing here touches a token, except :func:`_sign_unknown`: for a
serial of a CA we serve that nobody issued, an ``unknown`` answer can only be
signed on demand. It is signed only in a process configured with the CA's PIN
(the embedded default; in production the web tier has none and answers
``unauthorized``), at most :data:`UNKNOWN_PER_SECOND` per second per process,
and cached.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from . import ocsp
from .models import CertificateAuthority, OCSPResponse

ERRORS = {ocsp.MALFORMED_REQUEST, ocsp.INTERNAL_ERROR, ocsp.TRY_LATER, ocsp.UNAUTHORIZED}
UNKNOWN_PER_SECOND = 20
MAX_CACHED = 50_000

_cache: dict[ocsp.CertIdKey, tuple[float, bytes]] = {}
_issuers: dict[tuple[str, bytes, bytes], str] = {}
_issuers_loaded = 0.0
_lock = threading.Lock()
_unknown_budget = [0.0, float(UNKNOWN_PER_SECOND)]  # [last refill time, tokens]


def cache_seconds() -> int:
    return int(getattr(settings, "CA_OCSP_CACHE_SECONDS", 20))


def clear_cache() -> None:
    global _issuers_loaded
    with _lock:
        _cache.clear()
        _issuers.clear()
        _issuers_loaded = 0.0


def _issuer_slug(key: tuple[str, bytes, bytes]) -> str | None:
    global _issuers_loaded
    now = time.monotonic()
    if now - _issuers_loaded > 60:
        from cryptography import x509

        fresh: dict[tuple[str, bytes, bytes], str] = {}
        for slug, der in CertificateAuthority.objects.exclude(ocsp_key_id="").values_list("slug", "certificate_der"):
            for k in ocsp.issuer_keys(x509.load_der_x509_certificate(bytes(der))):
                fresh[k] = slug
        with _lock:
            _issuers.clear()
            _issuers.update(fresh)
            _issuers_loaded = now
    return _issuers.get(key)


def _lookup(key: ocsp.CertIdKey) -> bytes | None:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    der = (
        OCSPResponse.objects.filter(
            hash_algorithm=key.hash,
            issuer_key_hash=key.issuer_key_hash.hex(),
            issuer_name_hash=key.issuer_name_hash.hex(),
            serial_hex=format(key.serial, "x"),
        )
        .values_list("der", flat=True)
        .first()
    )
    if der is None:
        return None
    der = bytes(der)
    with _lock:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[key] = (now + cache_seconds(), der)
    return der


def _take_unknown_budget() -> bool:
    with _lock:
        now = time.monotonic()
        last, tokens = _unknown_budget
        tokens = min(float(UNKNOWN_PER_SECOND), tokens + (now - last) * UNKNOWN_PER_SECOND)
        if tokens < 1:
            _unknown_budget[:] = [now, tokens]
            return False
        _unknown_budget[:] = [now, tokens - 1]
        return True


def _sign_unknown(key: ocsp.CertIdKey) -> bytes | None:
    slug = _issuer_slug(key.issuer)
    if slug is None:
        return None
    from . import signing

    if not signing.ca_settings(slug).get("pin"):
        return None  # this process holds no CA PIN: unauthorized
    if not _take_unknown_budget():
        return ocsp.TRY_LATER
    ca = CertificateAuthority.objects.get(slug=slug)
    der = signing.responder(ca).sign(ocsp.Status(key.serial, "unknown"), key.hash)
    with _lock:
        _cache[key] = (time.monotonic() + cache_seconds(), der)
    return der


def answer(der: bytes) -> bytes:
    return ocsp.answer(
        der, _lookup, known_issuer=lambda k: _issuer_slug(k) is not None, on_miss=_sign_unknown
    )
