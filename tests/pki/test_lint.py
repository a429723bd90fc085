"""ramis/ca/lint.py: the indexed traversal finds exactly what stock pkilint finds."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from pkilint import finding_filter, loader
from pkilint.etsi import create_decoding_validators, create_etsi_finding_filters, create_validators
from pkilint.etsi.etsi_constants import CertificateType
from pkilint.pkix import certificate

from ramis.ca import builder, lint, profiles

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr

SUBJECTS = {"signature": SIGNATURE_SUBJECT, "seal": SEAL_SUBJECT}


def stock_findings(der: bytes, etsi_type: str) -> list[lint.Finding]:
    """pkilint's own ValidatorContainer, built fresh (never indexed)."""
    ctype = CertificateType[etsi_type]
    validator = certificate.create_pkix_certificate_validator_container(
        create_decoding_validators(ctype), create_validators(ctype)
    )
    assert not hasattr(validator, "_ramis_index")
    doc = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
    results, _ = finding_filter.filter_results(create_etsi_finding_filters(ctype), validator.validate(doc.root))
    return lint._findings(results)


def drafts(pki):
    """Certificates of both profiles, good and broken in several ways (signed in memory)."""
    key = rsa.generate_private_key(65537, 2048)
    urls = {"public": pki.urls, "loopback": builder.CAUrls("http://127.0.0.1:8000", "issuing")}
    broken = {
        "good": {},
        "key_cert_sign": {"key_usage": frozenset({"digital_signature", "key_cert_sign"})},
        "no_key_usage_critical": {"key_usage_critical": False},
        "no_eku": {"extended_key_usage": ()},
        "no_policies": {"policies": ()},
    }
    for profile_name, subject in SUBJECTS.items():
        for label, changes in broken.items():
            for where, u in urls.items():
                prof = dataclasses.replace(profiles.get_profile(profile_name), **changes)
                _k, csr = make_csr("ec-p256" if label != "no_eku" else "rsa2048")
                b = builder.end_entity_builder(
                    profile=prof, public_key=x509.load_pem_x509_csr(csr).public_key(),
                    subject=profiles.build_subject(prof, subject), issuer=pki.issuing, urls=u,
                )
                yield f"{profile_name}-{label}-{where}", prof.etsi_type, builder.der(b.sign(key, hashes.SHA256()))


def test_indexed_traversal_finds_what_stock_pkilint_finds(pki):
    seen_errors = 0
    for label, etsi_type, der in drafts(pki):
        ours = lint.lint_certificate(der, etsi_type)
        assert sorted(ours) == sorted(stock_findings(der, etsi_type)), label
        seen_errors += bool(lint.blocking(ours))
        # a second pass over the (now warm) index gives the same again
        assert sorted(lint.lint_certificate(der, etsi_type)) == sorted(ours), label
    assert seen_errors >= 4  # the broken drafts really were broken


@pytest.mark.parametrize("etsi_type", ["NCP_NATURAL_PERSON_CERTIFICATE", "NCP_LEGAL_PERSON_CERTIFICATE"])
def test_every_container_of_the_cached_validators_is_indexed(etsi_type):
    from pkilint.validation import ValidatorContainer

    validator, _filters = lint._etsi_cert_validator(etsi_type)
    stack, containers = [validator], 0
    while stack:
        v = stack.pop()
        if isinstance(v, ValidatorContainer):
            containers += 1
            assert hasattr(v, "_ramis_index")
            stack.extend(v.validators)
    assert containers > 5
