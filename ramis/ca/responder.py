"""OCSP at request time: a lookup of pre-signed bytes (per-process cache, then the database).

Nothing here touches a token. Three cases:

* **Ours, issued** (good / revoked / on hold): the pre-signed answer stored at
  issuance and re-signed on revocation and on schedule. It is kept in a dict
  per process for ``CA_OCSP_CACHE_SECONDS`` (20 s by default). A revocation,
  hold or release writes an :class:`~ramis.ca.models.OCSPChange` row in its own
  transaction; every process reads the recent ones every
  ``CA_OCSP_CHANGES_POLL_MS`` (100 ms) and forgets what it keeps for those
  serials (:func:`poll_changes`), so the change shows on every responder
  process well within a second of its commit (the test with two
  ``ocsp-serve`` processes and the web tier measures it). :func:`cached`
  answers from that dict without any I/O (the OCSP tier calls it on the event
  loop) — except when a poll is due: then it returns None and the request goes
  to :func:`answer`, in a thread, which polls first. One small indexed query
  per process per poll interval under load, none per answer.
* **Ours, never issued** (the CertID names our issuing CA, the serial is no
  certificate of ours): ``unknown``. A CertID carries the serial, so such an
  answer cannot be pre-signed; it is signed on demand by the ``signing``
  Celery queue — the only process that holds the CA token's PIN — through
  :func:`ramis.ca.tasks.ocsp_sign_unissued`, which puts it in the shared
  Django cache (Redis in production) for :data:`UNISSUED_VALIDITY` minutes.
  The responder waits for it up to ``CA_OCSP_UNKNOWN_WAIT_SECONDS`` (else
  ``tryLater``); at most :data:`UNKNOWN_PER_SECOND` new serials per second
  per process are sent for signing (``tryLater`` beyond that), one task per
  serial however many ask at once. In the embedded default Celery runs
  eagerly, so the task signs in-process before the answer is looked for.
* **Not ours** (an issuer we do not serve, or a CertID hash other than SHA-1
  and SHA-256): ``unauthorized`` (RFC 6960 §2.3; RFC 5019 §2.2.3).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from cryptography.x509 import ocsp as c_ocsp
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from . import ocsp
from .models import CertificateAuthority, OCSPChange, OCSPResponse

log = logging.getLogger(__name__)

ERRORS = {ocsp.MALFORMED_REQUEST, ocsp.INTERNAL_ERROR, ocsp.TRY_LATER, ocsp.UNAUTHORIZED}
UNKNOWN_PER_SECOND = 20
MAX_CACHED = 50_000
UNISSUED_VALIDITY = 60  # minutes an "unknown" answer is valid (and cached)
POLL_SECONDS = 0.02

_cache: dict[ocsp.CertIdKey, tuple[float, bytes]] = {}
_parsed: dict[bytes, ocsp.CertIdKey] = {}  # request bytes → CertID (see _key_of)
_issuers: dict[tuple[str, bytes, bytes], str] = {}
_issuers_loaded = 0.0
_lock = threading.Lock()
_unknown_budget = [0.0, float(UNKNOWN_PER_SECOND)]  # [last refill time, tokens]
# Status changes (see poll_changes): how far back each poll looks, and this process's view of them.
CHANGES_WINDOW = 30  # seconds: a change committed within this long after it was written is seen
_changes = {"next": 0.0, "last": 0.0, "generation": 0, "seen": frozenset()}


def cache_seconds() -> int:
    return int(getattr(settings, "CA_OCSP_CACHE_SECONDS", 20))


@dataclass(frozen=True)
class AnswerDates:
    """What the HTTP headers of one successful answer are made of (see :func:`http_headers`)."""

    fixed: tuple[tuple[str, str], ...]  # Last-Modified (thisUpdate), Expires (nextUpdate), ETag
    next_update: float  # nextUpdate as time.time(); thisUpdate if the answer has none (never cached)


_dates: dict[bytes, AnswerDates] = {}


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def answer_dates(raw: bytes) -> AnswerDates:
    """The RFC 5019 §6.2 headers of a successful answer that do not change with time (parsed once per answer)."""
    found = _dates.get(raw)
    if found is None:
        resp = c_ocsp.load_der_ocsp_response(raw)
        this_update = resp.this_update_utc.timestamp()
        next_update = resp.next_update_utc.timestamp() if resp.next_update_utc else this_update
        found = AnswerDates(
            (("Last-Modified", http_date(this_update)),
             ("Expires", http_date(next_update)),
             ("ETag", '"' + hashlib.sha256(raw).hexdigest()[:32] + '"')),
            next_update,
        )
        if len(_dates) >= MAX_CACHED:
            _dates.clear()
        _dates[raw] = found
    return found


def cache_control(dates: AnswerDates, now: float) -> str:
    """``max-age`` is ``CA_OCSP_CACHE_SECONDS``, never beyond nextUpdate (RFC 5019 §6.2)."""
    max_age = max(0, min(cache_seconds(), int(dates.next_update - now)))
    return f"public, max-age={max_age}, no-transform, must-revalidate"


def http_headers(raw: bytes, now: float | None = None) -> list[tuple[str, str]]:
    """The caching headers of the answer ``raw`` to a GET, the same on every front (the Django view,
    ``ramis.ca.wsgi``, ``manage.py ca ocsp-serve``): RFC 5019 §6.2's ``Last-Modified`` (thisUpdate),
    ``Expires`` (nextUpdate), ``ETag`` (a hash of the bytes) and ``Cache-Control``; an error answer
    (malformedRequest, tryLater, ...) is not to be cached: ``Cache-Control: no-store``. A POST's answer
    carries none of them (RFC 5019 §5: not for HTTP caches)."""
    if raw in ERRORS:
        return [("Cache-Control", "no-store")]
    dates = answer_dates(raw)
    return [*dates.fixed, ("Cache-Control", cache_control(dates, time.time() if now is None else now))]


def clear_cache() -> None:
    global _issuers_loaded
    with _lock:
        _cache.clear()
        _parsed.clear()
        _dates.clear()
        _issuers.clear()
        _issuers_loaded = 0.0
        _changes.update(next=0.0, last=0.0, generation=_changes["generation"] + 1, seen=frozenset())


def poll_seconds() -> float:
    return max(0, int(getattr(settings, "CA_OCSP_CHANGES_POLL_MS", 100))) / 1000


def poll_due(now: float | None = None) -> bool:
    interval = poll_seconds()
    return bool(interval) and (time.monotonic() if now is None else now) >= _changes["next"]


def poll_changes(*, force: bool = False) -> int:
    """Forget the answers kept for serials whose status changed (an :class:`OCSPChange` committed
    since the last poll). Runs at most every ``CA_OCSP_CHANGES_POLL_MS`` per process (``force``:
    now), one query for the changes of the last :data:`CHANGES_WINDOW` seconds. A process that did
    not poll for that long (idle) forgets everything instead. Returns how many serials changed."""
    now = time.monotonic()
    if not force and now < _changes["next"]:
        return 0
    interval = poll_seconds()
    if not interval:  # polling off: look at the setting again in a second
        _changes["next"] = now + 1.0
        return 0
    _changes["next"] = now + interval
    since = timezone.now() - dt.timedelta(seconds=CHANGES_WINDOW)
    try:
        rows = list(OCSPChange.objects.filter(created_at__gte=since).values_list("pk", "serial_hex"))
    except DatabaseError as exc:  # one line: the next poll tries again, and kept answers expire on their own
        log.warning("OCSP: could not read the status changes (%s)", str(exc).strip().splitlines()[0] if str(exc) else exc)
        return 0
    with _lock:
        fresh = {int(serial, 16) for pk, serial in rows if pk not in _changes["seen"]}
        idle = _changes["last"] and now - _changes["last"] > CHANGES_WINDOW / 2
        if idle:
            _cache.clear()
            fresh = {int(serial, 16) for _pk, serial in rows}
        elif fresh:
            for key in [k for k in _cache if k.serial in fresh]:
                del _cache[key]
        if idle or fresh:
            _changes["generation"] += 1
        _changes.update(last=now, seen=frozenset(pk for pk, _ in rows))
        issuers = list(_issuers)
    if fresh and issuers:
        # an answer signed on demand and handed over in the Django cache states the old status too:
        # the changing process deletes it from a shared cache (Redis) at commit, but a cache of this
        # process's own (the embedded default's local memory) only this process can forget
        cache.delete_many([unissued_cache_key(ocsp.CertIdKey(*issuer, serial))
                           for serial in fresh for issuer in issuers])
    return len(fresh)


def unissued_cache_key(key: ocsp.CertIdKey) -> str:
    """Where the signing queue leaves a signed ``unknown`` answer (shared Django cache)."""
    return f"ca:ocsp-unissued:{key.hash}:{key.issuer_name_hash.hex()}:{key.issuer_key_hash.hex()}:{key.serial:x}"


def _remember(key: ocsp.CertIdKey, der: bytes, now: float | None = None, generation: int | None = None) -> None:
    """Keep ``der`` — unless a status change was seen since it was read (``generation``): it may be
    the old answer, read just before the change committed."""
    with _lock:
        if generation is not None and generation != _changes["generation"]:
            return
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[key] = ((now or time.monotonic()) + cache_seconds(), der)


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


def _key_of(der: bytes) -> ocsp.CertIdKey:
    """The CertID a request asks about, remembered per request bytes: clients ask the same
    question again and again (no nonce: RFC 5019), and parsing is most of what a cache hit
    costs. Raises :class:`ocsp.MalformedRequest` (never remembered)."""
    key = _parsed.get(der)
    if key is None:
        key = ocsp.parse_request(der)
        if len(_parsed) >= MAX_CACHED:
            _parsed.clear()
        _parsed[der] = key
    return key


def cached(der: bytes | None) -> bytes | None:
    """The answer when it costs no I/O (a malformed request, a cache hit); else None."""
    if not der:
        return ocsp.MALFORMED_REQUEST
    try:
        key = _key_of(der)
    except ocsp.MalformedRequest:
        return ocsp.MALFORMED_REQUEST
    now = time.monotonic()
    if _changes["next"] <= now:  # a poll is due: answer() does it, off the event loop
        return None
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    return None


def _lookup(key: ocsp.CertIdKey) -> bytes | None:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    generation = _changes["generation"]
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
    _remember(key, der, now, generation)
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


def _unissued(key: ocsp.CertIdKey) -> bytes | None:
    """``unknown`` for a serial of our CA that nobody issued, signed by the signing queue."""
    slug = _issuer_slug(key.issuer)
    if slug is None:
        return None  # not our issuer: unauthorized
    generation = _changes["generation"]
    ckey = unissued_cache_key(key)
    der = cache.get(ckey)
    if der is None:
        if not _take_unknown_budget():
            return ocsp.TRY_LATER
        from . import tasks

        wait = float(getattr(settings, "CA_OCSP_UNKNOWN_WAIT_SECONDS", 2.0))
        if cache.add(ckey + ":pending", 1, timeout=max(1, int(wait) + 1)):  # one task per serial
            try:
                tasks.ocsp_sign_unissued.delay(slug, key.hash, format(key.serial, "x"))
            except Exception:  # broker down: say "try later", never 500
                log.warning("could not queue the unknown-serial OCSP answer", exc_info=True)
                cache.delete(ckey + ":pending")
                return ocsp.TRY_LATER
            if tasks.ocsp_sign_unissued.app.conf.task_always_eager:
                wait = 0  # it ran here, in this thread: nothing more will come
                cache.delete(ckey + ":pending")  # nor is it pending (it may have failed: ask again next time)
        deadline = time.monotonic() + wait
        while (der := cache.get(ckey)) is None:
            if time.monotonic() >= deadline:
                return ocsp.TRY_LATER
            time.sleep(POLL_SECONDS)
    der = bytes(der)
    _remember(key, der, generation=generation)
    return der


def answer(der: bytes | None) -> bytes:
    """The response bytes for a DER request; never raises, never signs."""
    poll_changes()
    return ocsp.answer(der, _lookup, known_issuer=lambda k: _issuer_slug(k) is not None, on_miss=_unissued)
