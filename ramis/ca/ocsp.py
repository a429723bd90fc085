"""OCSP (RFC 6960) with pre-signed responses.

Two halves:

* **Signing** (:class:`Responder`), where the responder's key is (on the
  token): for every certificate and for both CertID hash algorithms (SHA-1,
  which OpenSSL sends by default, and SHA-256), a complete signed
  ``OCSPResponse`` is built ahead of time, valid for a configurable period,
  and stored. It carries no nonce — a pre-signed answer cannot echo one, and
  RFC 6960 §4.4.1 / RFC 5019 §2.2 allow responders not to.
* **Answering** (:func:`answer`), in the web process: parse the request (POST
  body or GET path), look the bytes up by (hash algorithm, issuer name hash,
  issuer key hash, serial) and return them. No signing, no token. A request
  that cannot be parsed gets a ``malformedRequest`` response, never an
  exception.

A serial nobody stored (never issued by a CA we serve) has no pre-signed
answer: :func:`answer` calls ``on_miss`` if given (the Django layer fetches
an ``unknown`` answer from the signing queue there, rate-limited, and caches
it), else answers ``unauthorized`` (RFC 5019 §2.2.3), as it does for an
issuer we do not serve.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from .builder import issuer_hashes

UTC = dt.UTC

# Unsigned OCSPResponse { responseStatus } for the error statuses.
MALFORMED_REQUEST = bytes.fromhex("30030a0101")
INTERNAL_ERROR = bytes.fromhex("30030a0102")
TRY_LATER = bytes.fromhex("30030a0103")
UNAUTHORIZED = bytes.fromhex("30030a0106")

HASHES: dict[str, hashes.HashAlgorithm] = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256()}  # noqa: S303 - OpenSSL sends SHA-1 CertIDs by default

REASON_FLAGS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "ca_compromise": x509.ReasonFlags.ca_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
    "certificate_hold": x509.ReasonFlags.certificate_hold,
    "privilege_withdrawn": x509.ReasonFlags.privilege_withdrawn,
    "aa_compromise": x509.ReasonFlags.aa_compromise,
}


class CertIdKey(NamedTuple):
    """What a pre-signed response is stored and found by."""

    hash: str  # "sha1" | "sha256"
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial: int

    @property
    def issuer(self) -> tuple[str, bytes, bytes]:
        return (self.hash, self.issuer_name_hash, self.issuer_key_hash)


@dataclass(frozen=True)
class Status:
    serial: int
    status: str  # "good" | "revoked" | "unknown"
    revoked_at: dt.datetime | None = None
    reason: str | None = None


def issuer_keys(issuer_cert: x509.Certificate) -> list[tuple[str, bytes, bytes]]:
    """The (hash, name hash, key hash) triples requests for ``issuer_cert`` carry."""
    return [(alg, n, k) for alg, (n, k) in issuer_hashes(issuer_cert).items()]


@dataclass
class Responder:
    """Signs OCSP responses for the certificates of ``issuer_cert``."""

    issuer_cert: x509.Certificate
    responder_cert: x509.Certificate
    responder_key: Any
    validity: dt.timedelta = dt.timedelta(days=1)

    def __post_init__(self) -> None:
        self._hashes = issuer_hashes(self.issuer_cert)

    def key(self, serial: int, hash_name: str) -> CertIdKey:
        name_hash, key_hash = self._hashes[hash_name]
        return CertIdKey(hash_name, name_hash, key_hash, serial)

    def sign(self, status: Status, hash_name: str, this_update: dt.datetime | None = None) -> bytes:
        """One signed response for ``status`` with a ``hash_name`` CertID."""
        this_update = (this_update or dt.datetime.now(UTC)).replace(microsecond=0)
        name_hash, key_hash = self._hashes[hash_name]
        cert_status = {
            "good": ocsp.OCSPCertStatus.GOOD,
            "revoked": ocsp.OCSPCertStatus.REVOKED,
            "unknown": ocsp.OCSPCertStatus.UNKNOWN,
        }[status.status]
        revoked = status.status == "revoked"
        reason = status.reason if revoked and status.reason not in (None, "unspecified") else None
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=name_hash,
                issuer_key_hash=key_hash,
                serial_number=status.serial,
                algorithm=HASHES[hash_name],
                cert_status=cert_status,
                this_update=this_update,
                next_update=this_update + self.validity,
                revocation_time=status.revoked_at.replace(microsecond=0) if revoked else None,
                revocation_reason=REASON_FLAGS[reason] if reason else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.responder_cert)
            .certificates([self.responder_cert])
        )
        return builder.sign(self.responder_key, hashes.SHA256()).public_bytes(Encoding.DER)

    def sign_all(self, status: Status, this_update: dt.datetime | None = None) -> dict[CertIdKey, bytes]:
        """Responses for both CertID hash algorithms, keyed for lookup."""
        return {self.key(status.serial, h): self.sign(status, h, this_update) for h in HASHES}


# --------------------------------------------------------------------------
# Request side
# --------------------------------------------------------------------------


class MalformedRequest(ValueError):
    pass


def decode_get_path(path: str) -> bytes:
    """DER request from the last segment of a GET URL (RFC 6960 A.1).

    The segment is the base64 of the DER request, URL-encoded; some clients
    send it unencoded (with "/" inside), so everything after the responder's
    prefix is passed here. URL-safe base64 and missing padding are accepted.
    """
    # "/" is a base64 character: a request whose base64 ends in "/" keeps it; only a stray
    # trailing slash that leaves the text undecodable is dropped.
    text = unquote(path).strip().lstrip("/")
    text = text.replace("-", "+").replace("_", "/").replace(" ", "+")
    candidates = [text, text[:-1]] if text.endswith("/") else [text]
    for candidate in candidates:
        try:
            return base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
    raise MalformedRequest("GET path is not base64")


def parse_request(der: bytes) -> CertIdKey:
    try:
        req = ocsp.load_der_ocsp_request(der)
        alg = req.hash_algorithm
        return CertIdKey(alg.name, req.issuer_name_hash, req.issuer_key_hash, req.serial_number)
    except Exception as exc:  # cryptography raises ValueError, and others for odd DER
        raise MalformedRequest(str(exc)) from None


Lookup = Callable[[CertIdKey], "bytes | None"]


def answer(
    der: bytes | None,
    lookup: Lookup,
    *,
    known_issuer: Callable[[tuple[str, bytes, bytes]], bool] = lambda _k: False,
    on_miss: Lookup | None = None,
) -> bytes:
    """The response bytes for a DER request; never raises, never signs.

    ``lookup(key)`` returns stored bytes or None. For a known issuer with no
    stored answer, ``on_miss(key)`` may produce one (or return None).
    """
    try:
        if not der:
            return MALFORMED_REQUEST
        key = parse_request(der)
    except MalformedRequest:
        return MALFORMED_REQUEST
    try:
        found = lookup(key)
        if found is not None:
            return found
        if on_miss is not None and known_issuer(key.issuer):
            made = on_miss(key)
            if made is not None:
                return made
        return UNAUTHORIZED
    except Exception:
        return INTERNAL_ERROR


class MemoryStore:
    """A dict of pre-signed responses (tests, benchmarks, a tiny responder)."""

    def __init__(self) -> None:
        self.responses: dict[CertIdKey, bytes] = {}
        self.issuers: set[tuple[str, bytes, bytes]] = set()

    def add_issuer(self, issuer_cert: x509.Certificate) -> None:
        self.issuers.update(issuer_keys(issuer_cert))

    def put(self, responses: dict[CertIdKey, bytes]) -> None:
        self.responses.update(responses)

    def answer(self, der: bytes | None, on_miss: Lookup | None = None) -> bytes:
        return answer(der, self.responses.get, known_issuer=self.issuers.__contains__, on_miss=on_miss)
