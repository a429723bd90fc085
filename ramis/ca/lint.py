"""pkilint, as a gate and as a checker.

Which validator set:

* End-entity certificates (``signature``, ``seal``) are linted with pkilint's
  **ETSI EN 319 412** validators for the profile's ETSI type
  (``NCP_NATURAL_PERSON_CERTIFICATE`` = EN 319 412-2 for a person,
  ``NCP_LEGAL_PERSON_CERTIFICATE`` = EN 319 412-3 for a legal person's seal).
  That set includes pkilint's RFC 5280 certificate validators, so one run
  covers both. The CA/B Forum S/MIME linter is **not** used: the S/MIME BRs
  apply to certificates that carry a mailbox address, and ours carry none
  (emailProtection is there for signing documents/mail with a key whose
  certificate is found by other means); CABF server-auth is not applicable.
* CA certificates and the OCSP responder certificate: RFC 5280 validators
  (pkilint has no ETSI type for them).
* CRLs: RFC 5280 CRL validators (type CRL for the issuing CA, ARL for root).
* OCSP responses: RFC 6960 validators.

``ERROR`` and ``FATAL`` findings refuse an artefact; ``WARNING``/``NOTICE``/
``INFO`` are returned for display.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from pkilint import finding_filter, loader, pkix
from pkilint.etsi import create_decoding_validators as etsi_decoders
from pkilint.etsi import create_etsi_finding_filters
from pkilint.etsi import create_validators as etsi_validators
from pkilint.etsi.etsi_constants import CertificateType
from pkilint.pkix import certificate, crl, extension, name, ocsp
from pkilint.validation import ValidationFindingSeverity

BLOCKING = (ValidationFindingSeverity.FATAL, ValidationFindingSeverity.ERROR)


class Finding(NamedTuple):
    severity: str
    code: str
    message: str | None
    path: str

    def __str__(self) -> str:
        msg = f": {self.message}" if self.message else ""
        return f"{self.code} ({self.severity}) at {self.path}{msg}"


class LintError(Exception):
    """pkilint found ERROR or FATAL findings; nothing was signed."""

    def __init__(self, what: str, findings: list[Finding]):
        self.findings = findings
        blocking = [f for f in findings if f.severity in ("ERROR", "FATAL")]
        super().__init__(f"pkilint refused the {what}: " + "; ".join(str(f) for f in blocking))


@functools.cache
def _pkix_cert_validator():
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


@functools.cache
def _etsi_cert_validator(etsi_type: str):
    ctype = CertificateType[etsi_type]
    return (
        certificate.create_pkix_certificate_validator_container(
            etsi_decoders(ctype), etsi_validators(ctype)
        ),
        create_etsi_finding_filters(ctype),
    )


@functools.cache
def _crl_validator(crl_type: str):
    return crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container([]),
            crl.create_extensions_validator_container([]),
        ],
    )


@functools.cache
def _ocsp_validator():
    return ocsp.create_pkix_ocsp_response_validator_container(
        [
            ocsp.create_response_decoder(),
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [],
    )


def _findings(results) -> list[Finding]:
    out = []
    for result in results:
        for fd in result.finding_descriptions:
            out.append(Finding(fd.finding.severity.name, fd.finding.code, fd.message, result.node.path))
    return out


def lint_certificate(der: bytes, etsi_type: str | None = None) -> list[Finding]:
    """All findings for a DER certificate (RFC 5280, plus ETSI if a type is given)."""
    doc = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
    if etsi_type:
        validator, filters = _etsi_cert_validator(etsi_type)
        results = validator.validate(doc.root)
        results, _ = finding_filter.filter_results(filters, results)
    else:
        results = _pkix_cert_validator().validate(doc.root)
    return _findings(results)


def lint_crl(der: bytes, crl_type: str = "CRL") -> list[Finding]:
    doc = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
    return _findings(_crl_validator(crl_type).validate(doc.root))


def lint_ocsp_response(der: bytes) -> list[Finding]:
    doc = loader.RFC6960OCSPResponseDocumentLoader().load_der_document(der, "ocsp")
    return _findings(_ocsp_validator().validate(doc.root))


def blocking(findings: list[Finding], allow: frozenset[str] = frozenset()) -> list[Finding]:
    return [f for f in findings if f.severity in ("ERROR", "FATAL") and f.code not in allow]


def require_clean(what: str, findings: list[Finding], allow: frozenset[str] = frozenset()) -> list[Finding]:
    """Raise :class:`LintError` on any ERROR/FATAL not in ``allow``; else return all findings."""
    if blocking(findings, allow):
        raise LintError(what, [f for f in findings if f.code not in allow])
    return findings
