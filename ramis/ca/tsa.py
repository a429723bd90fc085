"""RFC 3161 time-stamp protocol: requests parsed, tokens built and signed, rejections — no Django.

A :class:`Stamper` holds the TSA's certificate and its (token) private key; its
:meth:`Stamper.reply` turns a ``TimeStampReq`` (DER) into a ``TimeStampResp`` (DER)
and never raises: a request it cannot honour gets ``PKIStatus`` *rejection* with the
``PKIFailureInfo`` bit RFC 3161 §2.4.2 names (badAlg, badRequest, badDataFormat,
unacceptedPolicy, unacceptedExtension, systemFailure). The serial number comes
from the caller (``next_serial``: a database row in :mod:`ramis.ca.tsa_services`)
and the time from the system clock.

The token is a CMS ``SignedData`` (RFC 5652) over ``TSTInfo`` with the signed
attributes contentType, messageDigest and ESS signingCertificateV2 (RFC 5816,
SHA-256 of the TSA certificate with its issuer and serial), signed with
``cryptography``'s ``sign()`` — on the TSA's token when the key is a :mod:`tokens`
key. Requests parsed and the fixed parts of a token encoded with asn1crypto (its ``tsp``
and ``cms`` modules), the per-token parts joined as DER by :meth:`Stamper.token`; hashed
with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

log = logging.getLogger(__name__)

# The message imprints we accept (RFC 3161 §2.4.1: "the TSA SHOULD check that the hash algorithm
# is known and considered sufficient"): SHA-1 and MD5 are refused as badAlg.
HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
    "sha3_256": hashes.SHA3_256(),
    "sha3_384": hashes.SHA3_384(),
    "sha3_512": hashes.SHA3_512(),
}
MAX_REQUEST_BYTES = 4096  # a request is ~60-100 bytes; anything this large is not one


class TimeStampResp(core.Sequence):
    """RFC 3161's TimeStampResp, whose token is OPTIONAL (absent in a rejection; asn1crypto's
    ``tsp.TimeStampResp`` requires it)."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class Rejected(Exception):
    """A request the TSA does not honour: the failInfo bit and a status text (English)."""

    def __init__(self, fail_info: str, text: str):
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


@dataclass(frozen=True)
class Request:
    """What a valid request asks for."""

    hash_name: str
    digest: bytes
    nonce: int | None
    cert_req: bool
    policy: str | None
    imprint: tsp.MessageImprint = field(repr=False, compare=False)


def parse_request(der: bytes) -> Request:
    """A ``TimeStampReq`` checked against RFC 3161 §2.4.1; raises :class:`Rejected`."""
    if not der or len(der) > MAX_REQUEST_BYTES:
        raise Rejected("bad_request", "not a time-stamp request")
    try:
        req = tsp.TimeStampReq.load(der, strict=True)
        version = int(req["version"])
        imprint = req["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        nonce = req["nonce"].native
        cert_req = bool(req["cert_req"].native)
        extensions = req["extensions"].native
        policy = req["req_policy"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise Rejected("bad_request", f"not a DER TimeStampReq ({exc})") from None
    if version != 1:
        raise Rejected("bad_request", f"unsupported TimeStampReq version {version}")
    if algorithm not in HASHES:
        raise Rejected("bad_alg", f"hash algorithm {algorithm} not accepted (use {', '.join(HASHES)})")
    if len(digest) != HASHES[algorithm].digest_size:
        raise Rejected("bad_data_format", f"the {algorithm} imprint has {len(digest)} bytes")
    if extensions:
        raise Rejected("unaccepted_extensions", "no request extension is supported")
    return Request(algorithm, digest, nonce, cert_req, policy, imprint)


def rejection(fail_info: str, text: str) -> bytes:
    """A ``TimeStampResp`` with status rejection, ``fail_info`` set and ``text`` as statusString."""
    return TimeStampResp({
        "status": tsp.PKIStatusInfo({
            "status": "rejection",
            "status_string": tsp.PKIFreeText([text]),
            "fail_info": tsp.PKIFailureInfo({fail_info}),
        })
    }).dump()


def accuracy(millis: int) -> tsp.Accuracy:
    """RFC 3161 Accuracy from milliseconds (seconds, then millis; a zero part is left out)."""
    seconds, rest = divmod(int(millis), 1000)
    value: dict[str, int] = {}
    if seconds:
        value["seconds"] = seconds
    if rest:
        value["millis"] = rest
    return tsp.Accuracy(value)


def _tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


_V1 = core.Integer(1).dump()
_V3 = core.Integer(3).dump()
_GRANTED = _tlv(0x30, core.Integer(0).dump())  # PKIStatusInfo { status granted }
_OID_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
_OID_TST_INFO = core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump()
_OID_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").dump()


def _signature_hash(key: Any) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


@dataclass
class Stamper:
    """The TSA: certificate, private key (on its token), policy OID and accuracy."""

    cert: x509.Certificate
    key: Any
    policy: str
    accuracy_ms: int = 1000
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        der = self.cert.public_bytes(serialization.Encoding.DER)
        self._a_cert = a_x509.Certificate.load(der)
        self._hash = _signature_hash(self.key)
        self._hash_name = self._hash.name  # "sha256" | "sha384"
        h = hashes.Hash(hashes.SHA256())
        h.update(der)
        ess = tsp.SigningCertificateV2({"certs": [tsp.ESSCertIDv2({
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "cert_hash": h.finalize(),
            "issuer_serial": {
                "issuer": [a_x509.GeneralName({"directory_name": self._a_cert.issuer})],
                "serial_number": self._a_cert.serial_number,
            },
        })]})
        self._ess_attr = cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]})
        self._sid = cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": self._a_cert.issuer, "serial_number": self._a_cert.serial_number})})
        self._tsa_name = a_x509.GeneralName({"directory_name": self._a_cert.subject})
        self._accuracy = accuracy(self.accuracy_ms)
        # DER pieces that are the same in every token (see token())
        self._cert_der = der
        self._ess_der = self._ess_attr.dump()
        self._sid_der = self._sid.chosen.dump()
        self._tsa_name_der = _tlv(0xA0, self._tsa_name.dump())
        self._accuracy_der = self._accuracy.dump()
        self._policy_der = core.ObjectIdentifier(self.policy).dump()
        self._digest_alg_der = algos.DigestAlgorithm({"algorithm": self._hash_name}).dump()
        self._content_type_attr = cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump()
        if isinstance(self.key, rsa.RSAPrivateKey):
            self._sig_alg = cms.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"})
        elif isinstance(self.key, ec.EllipticCurvePrivateKey):
            self._sig_alg = cms.SignedDigestAlgorithm({"algorithm": f"{self._hash_name}_ecdsa"})
        else:
            raise TypeError(f"unsupported TSA key {type(self.key).__name__}")
        self._sig_alg_der = self._sig_alg.dump()

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), self._hash)
        return self.key.sign(data, ec.ECDSA(self._hash))

    def gen_time(self) -> dt.datetime:
        """The system clock, to the millisecond (the precision stated beside the accuracy)."""
        now = self.clock().astimezone(dt.UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def token(self, request: Request, serial: int, gen_time: dt.datetime) -> bytes:
        """The signed ``TimeStampToken`` (DER of a CMS ContentInfo) for a checked request.

        Encoded by hand from DER pieces made once by asn1crypto in ``__post_init__``: building
        it with asn1crypto's objects cost ~9 ms of CPU per token (profiled: re-encoding and
        copying the certificate and attributes on every dump), this well under one. The tests
        parse every token with asn1crypto, OpenSSL and pyHanko.
        """
        tst = _tlv(0x30, b"".join((
            _V1, self._policy_der, request.imprint.dump(), core.Integer(serial).dump(),
            core.GeneralizedTime(gen_time).dump(), self._accuracy_der,
            b"" if request.nonce is None else core.Integer(request.nonce).dump(),
            self._tsa_name_der,
        )))
        h = hashes.Hash(self._hash)
        h.update(tst)
        digest_attr = _tlv(0x30, _OID_MESSAGE_DIGEST + _tlv(0x31, _tlv(0x04, h.finalize())))
        attrs = b"".join(sorted((self._content_type_attr, digest_attr, self._ess_der)))  # DER SET OF order
        signature = self._sign(_tlv(0x31, attrs))  # signed as a SET OF (RFC 5652 §5.4), sent as [0]
        signer = _tlv(0x30, b"".join((
            _V1, self._sid_der, self._digest_alg_der, _tlv(0xA0, attrs), self._sig_alg_der, _tlv(0x04, signature),
        )))
        signed = _tlv(0x30, b"".join((
            _V3, _tlv(0x31, self._digest_alg_der),
            _tlv(0x30, _OID_TST_INFO + _tlv(0xA0, _tlv(0x04, tst))),
            _tlv(0xA0, self._cert_der) if request.cert_req else b"",
            _tlv(0x31, signer),
        )))
        return _tlv(0x30, _OID_SIGNED_DATA + _tlv(0xA0, signed))

    def reply(self, der: bytes, next_serial: Callable[[Request, dt.datetime], int]) -> bytes:
        """``TimeStampResp`` DER for request bytes ``der``; never raises.

        ``next_serial(request, gen_time)`` hands out a unique serial (and may record the
        token's request); it is called only for a request that will be granted.
        """
        try:
            request = parse_request(der)
            if request.policy is not None and request.policy != self.policy:
                raise Rejected("unaccepted_policy",
                               f"policy {request.policy} not offered (this TSA: {self.policy})")
        except Rejected as exc:
            return rejection(exc.fail_info, exc.text)
        try:
            gen_time = self.gen_time()
            serial = next_serial(request, gen_time)
            token = self.token(request, serial, gen_time)
        except Exception:
            log.exception("time-stamp signing failed")
            return rejection("system_failure", "the time-stamp could not be signed; try again later")
        return _tlv(0x30, _GRANTED + token)


def parse_reply(der: bytes) -> tuple[str, set[str], tsp.TSTInfo | None]:
    """(status, failInfo bits, TSTInfo or None) of a ``TimeStampResp`` — for tests and the bench."""
    resp = TimeStampResp.load(der)
    status = resp["status"]["status"].native
    fail = resp["status"]["fail_info"].native or set()
    token = resp["time_stamp_token"]
    if not isinstance(token, cms.ContentInfo):
        return status, set(fail), None
    info = token["content"]["encap_content_info"]["content"].parsed
    return status, set(fail), info
