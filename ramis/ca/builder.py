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

from . import lint
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


@functools.lru_cache(maxsize=8)
def _throwaway_key(key_type: str) -> Any:
    """An in-memory key of the CA key's type, for the lint copy only.

    Cached per process: generating RSA keys costs 50–500 ms, and the copy's
    signature is never trusted by anyone (pkilint does not verify it).
    """
    if key_type.startswith("rsa"):
        return rsa.generate_private_key(65537, int(key_type[3:]))
    curve = {"ec-p256": ec.SECP256R1(), "ec-p384": ec.SECP384R1()}[key_type]
    return ec.generate_private_key(curve)


def lint_then_sign(
    builder: x509.CertificateBuilder,
    key: Any,
    what: str,
    etsi_type: str | None = None,
    allow: frozenset[str] = frozenset(),
) -> tuple[x509.Certificate, list[lint.Finding]]:
    """Sign a throwaway copy with an in-memory key, lint it, then sign on ``key``.

    The copy has the same TBS fields (issuer name, AKI, serial, ...) and the
    same signature algorithm, so pkilint sees what the real certificate
    will be. Any ERROR/FATAL finding raises :class:`lint.LintError` and the
    token is never asked to sign. ``allow`` lists finding codes that do not
    block (only :data:`DEV_ALLOW`, for a development base URL on loopback).
    """
    algorithm = signature_hash(key)
    throwaway = _throwaway_key(key_type_of(key.public_key()))
    draft = builder.sign(throwaway, algorithm)
    findings = lint.require_clean(what, lint.lint_certificate(der(draft), etsi_type), allow)
    return builder.sign(key, algorithm), findings


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
    findings: list[lint.Finding]

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
        .add_extension(key_usage(profile.key_usage), critical=profile.key_usage_critical)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    if profile.extended_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(profile.extended_key_usage)), critical=False)
    if profile.policies:
        builder = builder.add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(oid, None) for oid in policy_oids(profile)]
            ),
            critical=False,
        )
    return _revocation_and_aia(builder, urls)


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
