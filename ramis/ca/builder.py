"""Certificates: root and issuing CA, the OCSP responder, end entities from a CSR.

Every signing key here is whatever ``cryptography`` private key the caller
passes: in production and in the tests it is a :mod:`tokens` key whose
``sign()`` runs on the token. Every certificate is linted with pkilint
before it is signed for real (:func:`lint_then_sign`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from . import der as der_
from . import findings as findings_
from .profiles import Profile, build_subject, ca_policy_oids, key_usage, policy_oids, subject_email

UTC = dt.UTC
BACKDATE = dt.timedelta(minutes=5)  # tolerate clients whose clocks run slow


class IssuanceError(ValueError):
    """The request cannot be turned into a certificate (one English line)."""


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def random_serial() -> int:
    """A positive 159-bit random serial (≥ 64 bits of entropy; ≤ 20 octets DER)."""
    while True:
        serial = secrets.randbits(159)
        if serial >= 1 << 64:  # never a short serial, by chance
            return serial


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def key_type_of(public_key: Any) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ec-p256", "secp384r1": "ec-p384"}.get(public_key.curve.name, public_key.curve.name)
    return type(public_key).__name__


def signature_hash(key: Any) -> hashes.HashAlgorithm:
    """SHA-256 for RSA and P-256 (SHA-384 for P-384)."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def fingerprint(cert: x509.Certificate, algorithm: hashes.HashAlgorithm | None = None) -> str:
    return cert.fingerprint(algorithm or hashes.SHA256()).hex().upper()


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class CAUrls:
    """The public URLs a certificate issued by CA ``slug`` names."""

    base_url: str  # e.g. "http://pki.example.ir" (no trailing slash)
    slug: str  # the issuer: "root", "issuing", ...

    @property
    def crl(self) -> str:
        return f"{self.base_url.rstrip('/')}/ca/crl/{self.slug}.crl"

    @property
    def ca_issuers(self) -> str:
        return f"{self.base_url.rstrip('/')}/ca/certs/{self.slug}.crt"

    @property
    def ocsp(self) -> str:
        return f"{self.base_url.rstrip('/')}/ca/ocsp/{self.slug}/"


@dataclass
class Signer:
    """A CA that signs: its certificate and its (token) private key."""

    cert: x509.Certificate
    key: Any
    slug: str

    @property
    def ski(self) -> x509.SubjectKeyIdentifier:
        return self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def _aki(issuer: Signer) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer.ski)


def _revocation_and_aia(builder: x509.CertificateBuilder, urls: CAUrls, ocsp: bool = True) -> x509.CertificateBuilder:
    builder = builder.add_extension(
        x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(urls.crl)], None, None, None)]
        ),
        critical=False,
    )
    access = [x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(urls.ca_issuers))]
    if ocsp:
        access.insert(0, x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)))
    return builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)


# --------------------------------------------------------------------------
# Lint, then sign
# --------------------------------------------------------------------------


# A development base URL (http://127.0.0.1:8000) is an "internal domain name"
# to the ETSI linter; production names a public host and allows nothing.
DEV_ALLOW = frozenset({"etsi.internal_domain_name"})


@functools.lru_cache(maxsize=64)
def is_development_host(base_url: str) -> bool:
    """True for a URL on no host, ``localhost`` (and ``*.localhost``) or an IP address: a base
    URL a relying party on the internet cannot reach by name."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(base_url).hostname or ""
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _production() -> bool:
    from django.conf import settings

    return bool(settings.configured and getattr(settings, "PRODUCTION", False))


def lint_allowances(urls: CAUrls, production: bool | None = None) -> frozenset[str]:
    """The non-blocking finding codes for certificates naming ``urls``: :data:`DEV_ALLOW` for a
    development host (:func:`is_development_host`) outside production, nothing otherwise — in
    production such a certificate is refused (and ``check --deploy`` reports the setting,
    ``ca.E001``). ``production`` defaults to ``settings.PRODUCTION``."""
    if production is None:
        production = _production()
    if production or not is_development_host(urls.base_url):
        return frozenset()
    return DEV_ALLOW


class _SignatureRecorder:
    """Stands in for the signing key while cryptography builds the certificate: it records what
    cryptography asks to have signed (the TBS bytes and the padding/hash it chose) and answers a
    placeholder of the real signature's size. pkilint never reads the signature value."""

    def __init__(self, public_key: Any):
        self._public = public_key
        self.request: tuple[bytes, tuple] | None = None

    def public_key(self) -> Any:
        return self._public

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def sign(self, data: bytes, *args: Any) -> bytes:
        self.request = (bytes(data), args)
        if isinstance(self._public, rsa.RSAPublicKey):
            return b"\x5a" * ((self._public.key_size + 7) // 8)
        n = (self._public.key_size + 7) // 8  # an ECDSA-Sig-Value of the usual length: r, s positive
        integer = b"\x02" + bytes([n]) + b"\x5a" * n
        return b"\x30" + bytes([2 * len(integer)]) + integer * 2

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a placeholder key signs nothing but the lint draft")

    decrypt = exchange = private_bytes = private_numbers = _refuse

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict) -> Any:
        return self


class _RSARecorder(_SignatureRecorder, rsa.RSAPrivateKey):
    pass


class _ECRecorder(_SignatureRecorder, ec.EllipticCurvePrivateKey):
    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve


def signature_recorder(key: Any) -> _SignatureRecorder:
    """A stand-in for ``key`` that records what ``cryptography`` asks it to sign, and how
    (``.request`` = (data, args)); TypeError for a key type it cannot stand in for."""
    return _recorder(key)


def _recorder(key: Any) -> _SignatureRecorder:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return _RSARecorder(public)
    if isinstance(public, ec.EllipticCurvePublicKey):
        return _ECRecorder(public)
    raise TypeError(f"no lint draft for a {type(public).__name__} signing key")


def _with_signature(draft_der: bytes, signature: bytes) -> bytes:
    """``draft_der`` (Certificate: tbsCertificate, signatureAlgorithm, signatureValue) with
    ``signature`` as its signatureValue; the TBS and the algorithm byte for byte the draft's."""
    tbs, algorithm, _placeholder = der_.inside(draft_der, der_.elements(draft_der)[0])
    return der_.tlv(0x30, draft_der[tbs[1]:algorithm[2]] + der_.tlv(0x03, b"\x00" + signature))


def lint_then_sign(
    builder: x509.CertificateBuilder,
    key: Any,
    what: str,
    etsi_type: str | None = None,
    allow: frozenset[str] = frozenset(),
) -> tuple[x509.Certificate, list[findings_.Finding]]:
    """Build the certificate once, lint it, and only then have ``key`` sign its TBS.

    cryptography builds the draft with a stand-in for ``key`` (:class:`_SignatureRecorder`) that
    records the exact TBS bytes and the padding and hash cryptography chose, and answers a
    placeholder signature. pkilint lints that draft — the very TBS the token will sign, with the
    same signature algorithm. Any ERROR/FATAL finding raises :class:`ramis.ca.findings.LintError` and the token
    is never asked to sign. Otherwise ``key`` signs the recorded TBS as cryptography would have
    asked it to, the signature takes the placeholder's place, and it is verified with ``key``'s
    public key (the issuer's) before the certificate is returned. ``allow`` lists finding codes that do not block (only
    :data:`DEV_ALLOW`, for a development base URL on loopback).
    """
    algorithm = signature_hash(key)
    recorder = _recorder(key)
    draft = builder.sign(recorder, algorithm)
    draft_der = der(draft)
    from . import lint  # pkilint, imported where something is linted (ramis/ca/findings.py)

    findings = findings_.require_clean(what, lint.lint_certificate(draft_der, etsi_type), allow)
    tbs, args = recorder.request
    signature = key.sign(tbs, *args)
    key.public_key().verify(signature, tbs, *args)  # raises InvalidSignature: nothing is returned
    return x509.load_der_x509_certificate(_with_signature(draft_der, signature)), findings


# --------------------------------------------------------------------------
# CA certificates
# --------------------------------------------------------------------------


def build_root_ca(
    *,
    key: Any,
    subject: x509.Name,
    validity_days: int = 7300,
    path_length: int | None = 1,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """A self-signed root CA certificate (key on the token)."""
    start = (not_before or now()) - BACKDATE
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(frozenset({"key_cert_sign", "crl_sign", "digital_signature"})), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    cert, _ = lint_then_sign(builder, key, "root CA certificate")
    return cert


def build_issuing_ca(
    *,
    public_key: Any,
    subject: x509.Name,
    issuer: Signer,
    urls: CAUrls,
    validity_days: int = 3650,
    path_length: int | None = 0,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """An issuing CA certificate signed by ``issuer`` (the root).

    ``urls`` are the *issuer's* (root's): its CRL (the ARL, which lists the CA certificates the
    root revoked) as the CRL distribution point, and its certificate. The certificate asserts the
    policies of every profile (:func:`profiles.ca_policy_oids`). Reissuing (same key, same
    subject: :func:`ramis.ca.services.issuing_ca_reissue`) calls this again with the same
    ``public_key``.
    """
    start = (not_before or now()) - BACKDATE
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(min(not_after or start + dt.timedelta(days=validity_days), issuer.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(frozenset({"key_cert_sign", "crl_sign", "digital_signature"})), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    policies = ca_policy_oids()
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(oid, None) for oid in policies]), critical=False
        )
    builder = _revocation_and_aia(builder, urls, ocsp=False)
    cert, _ = lint_then_sign(builder, issuer.key, "issuing CA certificate")
    return cert


def build_ocsp_responder(
    *,
    public_key: Any,
    subject: x509.Name,
    issuer: Signer,
    validity_days: int = 90,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """A delegated OCSP responder certificate (EKU OCSPSigning, ocsp-nocheck)."""
    start = (not_before or now()) - BACKDATE
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(min(start + dt.timedelta(days=validity_days), issuer.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(frozenset({"digital_signature"})), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    cert, _ = lint_then_sign(builder, issuer.key, "OCSP responder certificate")
    return cert


def build_tsa(
    *,
    public_key: Any,
    subject: x509.Name,
    issuer: Signer,
    urls: CAUrls,
    validity_days: int = 1825,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """The timestamp authority's certificate (RFC 3161 §2.3: extendedKeyUsage timeStamping only,
    critical), with the issuing CA's CRL, OCSP and caIssuers URLs so that a relying party checks it
    like any certificate of ours."""
    start = (not_before or now()) - BACKDATE
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(min(start + dt.timedelta(days=validity_days), issuer.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(frozenset({"digital_signature"})), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    builder = _revocation_and_aia(builder, urls)
    cert, _ = lint_then_sign(builder, issuer.key, "TSA certificate", allow=lint_allowances(urls))
    return cert


# --------------------------------------------------------------------------
# End entities from a CSR
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    findings: list[findings_.Finding]

    @property
    def serial_hex(self) -> str:
        return format(self.cert.serial_number, "x")


def load_csr(csr: bytes | str) -> x509.CertificateSigningRequest:
    data = csr.encode() if isinstance(csr, str) else csr
    try:
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except ValueError as exc:
        raise IssuanceError(f"not a valid CSR: {exc}") from None


def end_entity_builder(
    *,
    profile: Profile,
    public_key: Any,
    subject: x509.Name,
    issuer: Signer,
    urls: CAUrls,
    validity_days: int | None = None,
    not_before: dt.datetime | None = None,
    email: str | None = None,
) -> x509.CertificateBuilder:
    """The TBS of a ``profile`` certificate, from the profile table only; ``email`` (confirmed by
    the caller) as the subjectAltName's rfc822Name."""
    start = (not_before or now()) - BACKDATE
    days = validity_days or profile.validity_days
    not_after = min(start + dt.timedelta(days=days), issuer.cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    usage, after_ski = _profile_extensions(
        profile.key_usage, profile.key_usage_critical, profile.extended_key_usage, tuple(policy_oids(profile)),
        issuer.ski.digest, urls)
    builder = builder.add_extension(*usage).add_extension(
        x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    first, *rest = after_ski
    builder = builder.add_extension(*first)
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    for extension in rest:
        builder = builder.add_extension(*extension)
    return builder


@functools.lru_cache(maxsize=64)
def _profile_extensions(key_usage_names: frozenset[str], key_usage_critical: bool,
                        extended_key_usage: tuple, policies: tuple, issuer_ski: bytes, urls: CAUrls):
    """The extensions every certificate of a profile from one CA carries, made once per process
    (they are immutable): (keyUsage, [the authorityKeyIdentifier, then extendedKeyUsage,
    certificatePolicies, the CRL distribution point and the authorityInformationAccess]), each as
    (value, critical) — what :func:`end_entity_builder` adds around the subject key identifier and
    the subjectAltName, in the order it always added them."""
    usage = (key_usage(key_usage_names), key_usage_critical)
    after = [(x509.AuthorityKeyIdentifier(issuer_ski, None, None), False)]
    if extended_key_usage:
        after.append((x509.ExtendedKeyUsage(list(extended_key_usage)), False))
    if policies:
        after.append((x509.CertificatePolicies([x509.PolicyInformation(oid, None) for oid in policies]), False))
    after.append((x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(urls.crl)], None, None, None)]), False))
    after.append((x509.AuthorityInformationAccess([
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)),
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(urls.ca_issuers)),
    ]), False))
    return usage, tuple(after)


def issue_from_csr(
    *,
    profile: Profile,
    csr: bytes | str | x509.CertificateSigningRequest,
    subject: dict[str, str],
    issuer: Signer,
    urls: CAUrls,
    validity_days: int | None = None,
    not_before: dt.datetime | None = None,
) -> Issued:
    """Check the CSR, build from the profile, lint, sign on the CA token.

    The CSR contributes its public key and nothing else: the subject comes
    from ``subject`` (the verified request), and the CSR's extensions are
    ignored.
    """
    req = csr if isinstance(csr, x509.CertificateSigningRequest) else load_csr(csr)
    if not req.is_signature_valid:
        raise IssuanceError("proof of possession failed: the CSR signature does not verify")
    public_key = req.public_key()
    kt = key_type_of(public_key)
    if kt not in profile.key_types:
        raise IssuanceError(
            f"key type {kt} not allowed for profile {profile.name} (allowed: {', '.join(sorted(profile.key_types))})"
        )
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.public_numbers().e != 65537:
        raise IssuanceError("RSA public exponent must be 65537")
    try:
        name = build_subject(profile, subject)
        email = subject_email(profile, subject)
    except ValueError as exc:
        raise IssuanceError(str(exc)) from None
    builder = end_entity_builder(
        profile=profile,
        public_key=public_key,
        subject=name,
        issuer=issuer,
        urls=urls,
        validity_days=validity_days,
        not_before=not_before,
        email=email,
    )
    cert, findings = lint_then_sign(
        builder, issuer.key, f"{profile.name} certificate", profile.etsi_type, lint_allowances(urls)
    )
    return Issued(cert, findings)


def issuer_hashes(cert: x509.Certificate) -> dict[str, tuple[bytes, bytes]]:
    """(issuerNameHash, issuerKeyHash) of CA ``cert`` for SHA-1 and SHA-256 CertIDs."""
    name = cert.subject.public_bytes()
    key = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # issuerKeyHash is over the subjectPublicKey BIT STRING value, not the SPKI.
    from asn1crypto.keys import PublicKeyInfo

    bits = PublicKeyInfo.load(key)["public_key"].contents[1:]
    return {
        "sha1": (hashlib.sha1(name).digest(), hashlib.sha1(bits).digest()),  # noqa: S324 - OCSP CertIDs (RFC 6960) hash with SHA-1
        "sha256": (hashlib.sha256(name).digest(), hashlib.sha256(bits).digest()),
    }
