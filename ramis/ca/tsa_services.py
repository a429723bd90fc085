"""The timestamp authority: its key and certificate (``ca init``) and each timestamp it grants.

The TSA key is generated on its own token (``CA_TSA["token"]``, non-extractable, like every
key of ours) and certified by the issuing CA as an :class:`IssuedCertificate` of profile
``tsa``, so that OCSP and the CRL answer for it and ``ca revoke`` can revoke it.

:func:`timestamp_reply` signs; it runs only where ``CA_TSA["pin"]`` is: the TSA signing worker
(the Celery queue ``CA_TSA_QUEUE``, :func:`ramis.ca.tasks.tsa_sign`) in production, the web
process itself when Celery runs eagerly (the embedded default). The web tier reaches it
through :func:`ramis.ca.tsa_front.answer`.
"""

from __future__ import annotations

import functools
import logging
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ramis.common import audit
from tokens.errors import KeyNotFound, TokenError

from . import builder, ocsp, signing, tsa
from .models import CertificateAuthority, IssuedCertificate, TimestampToken

log = logging.getLogger(__name__)

TSA_KEY_LABEL = "tsa"


def tsa_init(*, issuing: CertificateAuthority, issuer: builder.Signer, actor=None) -> IssuedCertificate | None:
    """Create, if absent, the TSA's key on its token and its certificate from the issuing CA;
    record the certificate (with pre-signed OCSP answers). Idempotent. None when no TSA PIN is
    configured here (no TSA)."""
    from . import services  # services.ca_init calls this

    conf = settings.CA_TSA
    if not conf["pin"]:
        log.warning("no CA_TSA_PIN: the timestamp authority is not set up")
        return None
    token = services._ensure_token(conf)
    key = services._ensure_key(token, TSA_KEY_LABEL, conf["key_type"])
    cert = token.certificate(key.key_id)
    if cert is None or cert.issuer != issuer.cert.subject:
        cert = builder.build_tsa(
            public_key=key.public_key(), subject=x509.Name.from_rfc4514_string(conf["name"]), issuer=issuer,
            urls=signing.urls(issuing.slug), validity_days=conf["validity_days"],
        )
        token.import_certificate(cert, key.key_id, TSA_KEY_LABEL)
    serial_hex = format(cert.serial_number, "x")
    existing = IssuedCertificate.objects.filter(serial_hex=serial_hex).first()
    if existing is not None:
        return existing
    responses = signing.responder(issuing).sign_all(ocsp.Status(cert.serial_number, "good"))
    with transaction.atomic():
        row = IssuedCertificate.objects.create(
            ca=issuing,
            serial_hex=serial_hex,
            profile=IssuedCertificate.Profile.TSA,
            subject=cert.subject.rfc4514_string(),
            subject_data={"token": token.label, "key_id": key.key_id.hex()},
            der=builder.der(cert),
            sha1=builder.fingerprint(cert, hashes.SHA1()),  # noqa: S303 - a fingerprint for display
            sha256=builder.fingerprint(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            issued_by=actor if getattr(actor, "pk", None) else None,
        )
        services._store_ocsp(issuing, row, responses, "good")
        audit.record(actor=actor, target=row, event="tsa.certified", new=row.status,
                     extra={"serial": serial_hex, "sha256": row.sha256, "token": token.label,
                            "policy": settings.CA_TSA_POLICY})
    return row


@functools.lru_cache(maxsize=4)
def _stamper(token_label: str, pin: str, policy: str, accuracy_ms: int) -> tsa.Stamper:
    token = signing.open_token(token_label, pin)
    key = token.private_key(label=TSA_KEY_LABEL)
    cert = token.certificate(key.key_id)
    if cert is None:
        raise KeyNotFound(f"no TSA certificate on token {token_label!r}: run `manage.py ca init`")
    return tsa.Stamper(cert=cert, key=key, policy=policy, accuracy_ms=accuracy_ms)


def stamper() -> tsa.Stamper:
    """The TSA of this process (token opened once, certificate and key cached)."""
    conf = settings.CA_TSA
    if not conf["pin"]:
        raise KeyNotFound("this process holds no CA_TSA_PIN: timestamps are signed by the TSA worker")
    return _stamper(conf["token"], conf["pin"], settings.CA_TSA_POLICY, settings.CA_TSA_ACCURACY_MS)


STATUS_SECONDS = 5  # how long a process trusts its last look at its certificate's status
_status: dict[int, tuple[float, bool]] = {}  # TSA certificate serial -> (checked at, usable)


def clear_cache() -> None:
    _stamper.cache_clear()
    _status.clear()


def _usable(cert: x509.Certificate) -> bool:
    """The TSA certificate is active in the CA's records (not revoked, held or expired) and within
    its validity: looked up at most every :data:`STATUS_SECONDS` per process, so a revocation
    stops the TSA within that time."""
    now = time.monotonic()
    seen = _status.get(cert.serial_number)
    if seen is None or now - seen[0] > STATUS_SECONDS:
        active = IssuedCertificate.objects.filter(
            serial_hex=format(cert.serial_number, "x"), status=IssuedCertificate.Status.ACTIVE).exists()
        seen = (now, active and cert.not_valid_after_utc > timezone.now())
        _status[cert.serial_number] = seen
    return seen[1]


def _next_serial(request: tsa.Request, gen_time) -> int:
    """A unique serial: the id of the row that records the timestamp (autocommit, one INSERT)."""
    return TimestampToken.objects.create(
        gen_time=gen_time, hash_algorithm=request.hash_name, imprint=request.digest.hex()
    ).pk


def timestamp_reply(der: bytes) -> bytes:
    """The ``TimeStampResp`` for request bytes ``der``, signed here; never raises.

    Not audited one by one: every granted timestamp is a :class:`TimestampToken` row (serial,
    time, imprint), and the TSA's certificate is audited when it is made (``tsa.certified``).
    """
    try:
        s = stamper()
    except TokenError as exc:
        log.error("the TSA cannot sign: %s", exc)
        return tsa.rejection("system_failure", "the timestamp authority is not available")
    if not _usable(s.cert):
        log.error("the TSA certificate %x is revoked, held or expired: not signing", s.cert.serial_number)
        return tsa.rejection("system_failure", "the timestamp authority's certificate is not valid")
    return s.reply(der, _next_serial)
