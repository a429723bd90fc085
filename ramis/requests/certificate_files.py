"""What a holder takes away from the certificate page (X5, X9): the certificate as DER and PEM,
its chain as PKCS#7, its subject in Persian labels and its fingerprints.

Plain functions over the CA's record (``ramis.ca.models.IssuedCertificate``); the chain is the
issuing CA and its parents as the CA room stores them. PKCS#7 comes from ``cryptography``'s
``pkcs7.serialize_certificates`` (a certs-only SignedData, what Windows and browsers import as
``.p7b``)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ramis.ca.models import IssuedCertificate

# Subject attributes as a person reads them, in the order the page lists them.
SUBJECT_LABELS = {
    NameOID.COMMON_NAME: "نام در گواهی",
    NameOID.GIVEN_NAME: "نام",
    NameOID.SURNAME: "نام خانوادگی",
    NameOID.SERIAL_NUMBER: "کد ملی",
    NameOID.ORGANIZATION_IDENTIFIER: "شناسه ملی شخص حقوقی",
    NameOID.ORGANIZATION_NAME: "سازمان",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "واحد سازمانی",
    NameOID.TITLE: "سمت",
    NameOID.EMAIL_ADDRESS: "رایانامه",
    NameOID.COUNTRY_NAME: "کشور",
}
COUNTRIES = {"IR": "ایران"}
# ETSI EN 319 412-1 semantics prefixes the profiles put before the identifier ("PNOIR-…").
_ID_PREFIXES = ("PNOIR-", "NTRIR-")


def load(issued: IssuedCertificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(issued.der))


def subject_rows(cert: x509.Certificate) -> list[tuple[str, str]]:
    """(Persian label, value) for each subject attribute, in ``SUBJECT_LABELS`` order; an
    attribute without a label keeps its RFC 4514 name."""
    order = list(SUBJECT_LABELS)
    attrs = sorted(cert.subject, key=lambda a: order.index(a.oid) if a.oid in order else len(order))
    rows = []
    for attr in attrs:
        value = attr.value if isinstance(attr.value, str) else attr.value.hex()
        if attr.oid in (NameOID.SERIAL_NUMBER, NameOID.ORGANIZATION_IDENTIFIER):
            value = next((value[len(p):] for p in _ID_PREFIXES if value.startswith(p)), value)
        if attr.oid == NameOID.COUNTRY_NAME:
            value = COUNTRIES.get(value, value)
        rows.append((SUBJECT_LABELS.get(attr.oid, attr.rfc4514_attribute_name), value))
    return rows


def fingerprint(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    """Upper-case hex pairs separated by colons, as certificate viewers show them."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(algorithm))


def chain(issued: IssuedCertificate) -> list[x509.Certificate]:
    """The certificate, its issuing CA, and that CA's parents up to the root."""
    certs = [load(issued)]
    ca = issued.ca
    while ca is not None:
        certs.append(x509.load_der_x509_certificate(bytes(ca.certificate_der)))
        ca = ca.parent
    return certs


def as_der(issued: IssuedCertificate) -> bytes:
    return bytes(issued.der)


def as_pem(issued: IssuedCertificate) -> bytes:
    return load(issued).public_bytes(serialization.Encoding.PEM)


def as_p7b(issued: IssuedCertificate) -> bytes:
    """The chain as a DER PKCS#7 certs-only bundle (.p7b)."""
    return pkcs7.serialize_certificates(chain(issued), serialization.Encoding.DER)
