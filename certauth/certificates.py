"""Certificate login, the certificate half: what the reverse proxy hands over, checked.

nginx asks for a client certificate on the certificate-login port only (``ssl_verify_client
optional_no_ca``: every check is made here, so that a refusal is a Persian page, not nginx's
400) and passes it, URL-escaped PEM, in ``X-SSL-Client-Cert``; every other server and location of
the site sets that header empty, so a client can never send its own (deploy/nginx/ramis.conf).
Django reads it only when the request came from a trusted proxy (:func:`header_trusted`).

:func:`check` then decides, in this order (the first failure is the reason):

1. a readable PEM certificate;
2. the path to our root (the issuing CA's certificate from our database), with cryptography's
   verifier at this moment: signatures, validity of every certificate, and the leaf's
   extendedKeyUsage ``clientAuth`` (the signature profile has it; a seal certificate does not);
3. keyUsage digitalSignature (a TLS client proves its key with a signature);
4. the status in our own OCSP answer at this moment (the responder's pre-signed answer, the
   same bytes an OCSP client gets): good, else revoked / on hold → refused;
5. the subject's ``serialNumber`` ``PNOIR-<national code>``.

Who that national code is (an applicant, an e-Namad account, staff) is the view's question.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from django.conf import settings
from django.utils import timezone

from ramis.ca import responder
from ramis.ca.models import CertificateAuthority
from ramis.common.client_ip import _address

HEADER = "HTTP_X_SSL_CLIENT_CERT"
NATIONAL_CODE = re.compile(r"PNOIR-(\d{10})")

MESSAGES = {
    "none": "گواهی الکترونیکی از مرورگر دریافت نشد. توکن را وصل کنید، آن را در مرورگر معرفی کنید و دوباره تلاش کنید.",
    "unreadable": "گواهی ارسال‌شده خوانا نیست.",
    "untrusted": "این گواهی را مرکز صدور گواهی این سامانه صادر نکرده است.",
    "expired": "گواهی شما منقضی شده یا هنوز معتبر نشده است.",
    "usage": "این گواهی برای ورود (احراز هویت) صادر نشده است؛ با گواهی امضای شخصی خود وارد شوید.",
    "revoked": "گواهی شما باطل شده است و با آن نمی‌توان وارد شد.",
    "on_hold": "گواهی شما تعلیق شده است و تا رفع تعلیق با آن نمی‌توان وارد شد.",
    "status": "وضعیت گواهی از پاسخ‌گوی OCSP این مرکز به دست نیامد؛ چند لحظه دیگر دوباره تلاش کنید.",
    "no_code": "در این گواهی کد ملی دارنده (PNOIR) نیامده است.",
    "unknown_person": "برای دارنده این گواهی حساب فعالی در این بخش سامانه پیدا نشد.",
}


class Refused(Exception):
    """The certificate cannot log anyone in: ``code`` (for the audit trail) and a Persian message."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        self.message = MESSAGES[code]
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class Checked:
    cert: x509.Certificate
    national_code: str
    serial_hex: str
    sha256: str


def _trusted_networks() -> list:
    import ipaddress

    return [ipaddress.ip_network(n.strip(), strict=False) for n in settings.CERTAUTH_TRUSTED_PROXIES if n.strip()]


def header_trusted(request) -> bool:
    """Whether this request's ``X-SSL-Client-Cert`` was set by our proxy: only when the portal runs
    behind one (``TRUSTED_PROXY_COUNT`` > 0) and the peer is one of ``CERTAUTH_TRUSTED_PROXIES``."""
    import ipaddress

    if settings.TRUSTED_PROXY_COUNT <= 0:
        return False
    peer = _address(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return False
    address = ipaddress.ip_address(peer)
    return any(address in network for network in _trusted_networks())


def presented_pem(request) -> str:
    """The client certificate the trusted proxy passed on ("" when none, or not from it)."""
    if not header_trusted(request):
        return ""
    return unquote(request.META.get(HEADER) or "").strip()


def _our_cas() -> tuple[x509.Certificate, list[x509.Certificate]]:
    """Our root and the intermediates (every CA of ours below it), from the database."""
    roots, intermediates = [], []
    for ca in CertificateAuthority.objects.all():
        cert = x509.load_der_x509_certificate(bytes(ca.certificate_der))
        (roots if ca.parent_id is None else intermediates).append(cert)
    if not roots:
        raise Refused("untrusted", "no CA in the database")
    return roots, intermediates


def _verify_path(cert: x509.Certificate, now: dt.datetime) -> x509.Certificate:
    """The path to our root at ``now``; returns the leaf's issuer."""
    roots, intermediates = _our_cas()
    # our end-entity certificates carry a subjectAltName only when they carry an e-mail address:
    # the WebPKI default (a required SAN) is relaxed to "may be present", nothing else
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    verifier = (PolicyBuilder().store(Store(roots)).time(now)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
                .build_client_verifier())
    try:
        chain = verifier.verify(cert, intermediates).chain
    except VerificationError as exc:
        text = str(exc)
        if cert.not_valid_after_utc < now or cert.not_valid_before_utc > now:
            raise Refused("expired", text) from None
        if "extended key usage" in text.lower() or "2.5.29.37" in text:
            raise Refused("usage", text) from None
        raise Refused("untrusted", text) from None
    return chain[1]


def _check_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise Refused("usage", str(exc)) from None
    if not usage.digital_signature or ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        raise Refused("usage", "no digitalSignature / clientAuth")


def ocsp_status(cert: x509.Certificate, issuer: x509.Certificate, now: dt.datetime) -> str:
    """``good``, ``revoked`` or ``on_hold`` from our responder's answer at this moment."""
    request = c_ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
    responder.poll_changes(force=True)  # a revocation or hold committed a moment ago counts now
    raw = responder.answer(request.public_bytes(serialization.Encoding.DER))
    try:
        answer = c_ocsp.load_der_ocsp_response(raw)
    except ValueError:
        raise Refused("status", "an unreadable OCSP answer") from None
    if answer.response_status != c_ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise Refused("status", answer.response_status.name)
    if answer.serial_number != cert.serial_number:
        raise Refused("status", "the answer names another certificate")
    if answer.next_update_utc is not None and answer.next_update_utc < now:
        raise Refused("status", "a stale answer")
    if answer.certificate_status == c_ocsp.OCSPCertStatus.GOOD:
        return "good"
    if answer.certificate_status == c_ocsp.OCSPCertStatus.REVOKED:
        if answer.revocation_reason == x509.ReasonFlags.certificate_hold:
            return "on_hold"
        return "revoked"
    raise Refused("status", "unknown")


def national_code_of(cert: x509.Certificate) -> str:
    for attribute in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        match = NATIONAL_CODE.fullmatch(str(attribute.value))
        if match:
            return match.group(1)
    raise Refused("no_code")


def check(pem: str, now: dt.datetime | None = None) -> Checked:
    """The certificate in ``pem``, checked as the module says; raises :class:`Refused`."""
    if not pem:
        raise Refused("none")
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise Refused("unreadable", str(exc)) from None
    now = now or timezone.now()
    issuer = _verify_path(cert, now)
    _check_usage(cert)
    status = ocsp_status(cert, issuer, now)
    if status != "good":
        raise Refused(status, format(cert.serial_number, "x"))
    return Checked(cert=cert, national_code=national_code_of(cert), serial_hex=format(cert.serial_number, "x"),
                   sha256=cert.fingerprint(hashes.SHA256()).hex())
