"""Issue 16: OCSP answers assembled from their parts (``ramis/ca/ocsp.py``, ``Responder._assembled``)
are byte for byte the ones ``cryptography``'s ``OCSPResponseBuilder`` writes — the token's signature
apart — for every status, revocation reason, CertID hash and serial shape, with the responder key on
the token and with software keys of other types; taking the parts asks the token for nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp as c_ocsp

from ramis.ca import builder, lint, ocsp

from .conftest import name

UTC = dt.UTC
THIS_UPDATE = dt.datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)
REVOKED_AT = dt.datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=UTC)
SERIALS = [1, 0x7F, 0x80, 0xFF, 0x100, 2**64, 2**158 + 12345, 2**159 - 1]
STATUSES = [ocsp.Status(0, "good"), ocsp.Status(0, "unknown"), ocsp.Status(0, "revoked", REVOKED_AT, None),
            *(ocsp.Status(0, "revoked", REVOKED_AT, reason) for reason in ocsp.REASON_FLAGS)]


def _verifies(public_key, response: c_ocsp.OCSPResponse) -> bool:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(response.signature_hash_algorithm))
    else:
        public_key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(),
                          response.signature_hash_algorithm)
    return True  # verify() raised otherwise


def _assembled_and_built(responder: ocsp.Responder, status: ocsp.Status, hash_name: str) -> tuple[bytes, bytes]:
    """(ours, cryptography's) for the same status and times, both signed by one stand-in whose
    placeholder signature is the same bytes each time, so the whole responses compare."""
    stand_in = builder.signature_recorder(responder.responder_key)
    theirs = responder._built(status, hash_name, THIS_UPDATE, key=stand_in)
    produced_at = c_ocsp.load_der_ocsp_response(theirs).produced_at_utc
    ours = responder._assembled(responder._parts_for(hash_name), status, THIS_UPDATE, produced_at, key=stand_in)
    return ours, theirs


def _signed_for_real(responder: ocsp.Responder, status: ocsp.Status, hash_name: str) -> c_ocsp.OCSPResponse:
    return c_ocsp.load_der_ocsp_response(responder.sign(status, hash_name, THIS_UPDATE))


@pytest.mark.parametrize("hash_name", ["sha1", "sha256"])
def test_every_status_and_serial_shape_with_the_key_on_the_token(pki, hash_name):
    responder = ocsp.Responder(pki.issuing.cert, pki.responder_cert, pki.responder_key, dt.timedelta(hours=12))
    for status in STATUSES:
        for serial in SERIALS:
            status = ocsp.Status(serial, status.status, status.revoked_at, status.reason)
            ours, theirs = _assembled_and_built(responder, status, hash_name)
            assert ours == theirs, (status, hash_name)
        signed = _signed_for_real(responder, status, hash_name)
        assert signed.serial_number == status.serial and signed.certificate_status.name == status.status.upper()
        assert _verifies(pki.responder_cert.public_key(), signed)


@pytest.mark.parametrize("key", [rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1())],
                         ids=["rsa-2048", "ec-p384"])
def test_other_responder_key_types(key):
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = builder.build_root_ca(key=root_key, subject=name("RAMIS assembled OCSP root"))
    issuer = builder.Signer(root, root_key, "root")
    cert = builder.build_ocsp_responder(public_key=key.public_key(), subject=name("RAMIS assembled OCSP"), issuer=issuer)
    responder = ocsp.Responder(root, cert, key)
    for status in STATUSES[:4]:
        status = ocsp.Status(2**158 + 1, status.status, status.revoked_at, status.reason)
        ours, theirs = _assembled_and_built(responder, status, "sha256")
        assert ours == theirs, status
        assert _verifies(key.public_key(), _signed_for_real(responder, status, "sha256"))


def test_taking_the_parts_asks_the_token_for_nothing_and_one_signature_per_answer(pki, monkeypatch):
    signed = []
    real_sign = type(pki.responder_key).sign
    monkeypatch.setattr(type(pki.responder_key), "sign", lambda self, data, *a: signed.append(data) or real_sign(self, data, *a))
    responder = ocsp.Responder(pki.issuing.cert, pki.responder_cert, pki.responder_key)
    answers = responder.sign_all(ocsp.Status(2**100, "good"), THIS_UPDATE)
    assert len(signed) == 2  # the parts were taken from stand-in signatures; the token signed the two answers
    for key, der in answers.items():
        parsed = c_ocsp.load_der_ocsp_response(der)
        assert parsed.tbs_response_bytes in signed
        assert parsed.serial_number == key.serial == 2**100 and parsed.hash_algorithm.name == key.hash
        assert parsed.certificate_status == c_ocsp.OCSPCertStatus.GOOD
        assert parsed.this_update_utc == THIS_UPDATE and parsed.next_update_utc == THIS_UPDATE + responder.validity
        assert abs(parsed.produced_at_utc - dt.datetime.now(UTC)) < dt.timedelta(minutes=1)
        assert [f for f in lint.lint_ocsp_response(der) if f.severity in ("ERROR", "FATAL")] == []


def test_without_parts_cryptography_builds_the_answer(pki, monkeypatch):
    monkeypatch.setattr(ocsp._Parts, "taken_from", classmethod(lambda cls, responder, hash_name: None))
    responder = ocsp.Responder(pki.issuing.cert, pki.responder_cert, pki.responder_key)
    parsed = c_ocsp.load_der_ocsp_response(responder.sign(ocsp.Status(7, "revoked", REVOKED_AT, "superseded"), "sha1"))
    assert parsed.revocation_reason.name == "superseded" and parsed.revocation_time_utc == REVOKED_AT.replace(microsecond=0)
    assert _verifies(pki.responder_cert.public_key(), parsed)
