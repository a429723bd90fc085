"""Issue 16: one certificate build. pkilint lints the draft whose TBS the token then signs, byte
for byte, once; the signature is checked before the certificate leaves ``lint_then_sign``."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from ramis.ca import builder, lint, profiles

from .conftest import SEAL_SUBJECT, make_csr, name


def _issue(pki):
    _key, csr = make_csr()
    return builder.issue_from_csr(profile=profiles.get_profile("seal"), csr=csr, subject=SEAL_SUBJECT,
                                  issuer=pki.issuing, urls=pki.urls)


def test_the_token_signs_once_exactly_the_tbs_pkilint_saw(pki, monkeypatch):
    linted, signed = [], []
    real_lint = lint.lint_certificate
    monkeypatch.setattr(lint, "lint_certificate", lambda der, *a: linted.append(der) or real_lint(der, *a))
    real_sign = type(pki.issuing.key).sign
    monkeypatch.setattr(type(pki.issuing.key), "sign", lambda self, data, *a: signed.append(data) or real_sign(self, data, *a))

    cert = _issue(pki).cert

    assert len(linted) == 1 and len(signed) == 1
    draft = x509.load_der_x509_certificate(linted[0])
    assert signed[0] == draft.tbs_certificate_bytes == cert.tbs_certificate_bytes
    assert draft.signature_algorithm_oid == cert.signature_algorithm_oid
    assert draft.signature != cert.signature  # the draft carried a placeholder, never a signature
    cert.verify_directly_issued_by(pki.issuing.cert)


def test_an_ec_signing_key_gets_the_same_single_build():
    key = ec.generate_private_key(ec.SECP256R1())
    root = builder.build_root_ca(key=key, subject=name("RAMIS single-build EC root"))
    root.verify_directly_issued_by(root)
    assert root.signature_hash_algorithm.name == "sha256"


def test_a_signature_that_does_not_verify_is_never_returned(pki, monkeypatch):
    real_sign = type(pki.issuing.key).sign

    def corrupt(self, data, *a):
        sig = bytearray(real_sign(self, data, *a))
        sig[-1] ^= 1
        return bytes(sig)

    monkeypatch.setattr(type(pki.issuing.key), "sign", corrupt)
    with pytest.raises(InvalidSignature):
        _issue(pki)
