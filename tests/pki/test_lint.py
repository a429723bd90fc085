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


def test_the_web_and_ocsp_tiers_start_without_pkilint_and_a_signing_process_loads_it():
    """pkilint and its ETSI tables are ~0.45 s and ~25 MB of a process (ramis/ca/findings.py):
    only a process that lints imports them. A fresh process that loads the portal's WSGI
    application and URLs, the OCSP tier's, and the modules that name a refusal has none of it;
    ``signing.prepare_process`` (the signing worker's start) loads it and builds the validators."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup()\n"
        "import ramis.wsgi, ramis.urls, ramis.ca.wsgi, ramis.ca.ocsp_wsgi, ramis.ca.services, ramis.desk.services\n"
        "from django.core.management import load_command_class\n"
        "load_command_class('ramis.ca', 'ca')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pkilint', 'iso639') or m == 'ramis.ca.lint'))\n"
        "from ramis.ca import signing; signing.prepare_process()\n"
        "from ramis.ca import lint\n"
        "print('pkilint' in sys.modules, lint._etsi_cert_validator.cache_info().currsize)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "ramis.settings"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    before, after = out.stdout.strip().splitlines()
    assert before == "[]"
    assert after == "True 2"  # the person's and the legal person's ETSI validators, built at start
