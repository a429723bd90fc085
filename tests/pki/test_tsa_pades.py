"""pyHanko signs PDFs at PAdES B-T, B-LT and B-LTA with our TSA (over HTTP, a live server on
127.0.0.1), with a signing certificate issued by our CA; pyhanko-certvalidator validates them with
our root as the only trust root and revocation information from our OCSP responder and CRLs."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest
from asn1crypto import keys as a_keys
from asn1crypto import x509 as a_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ramis.ca import responder, services, signing, tsa_services
from ramis.ca.models import IssuedCertificate, TimestampToken

from .conftest import SIGNATURE_SUBJECT, make_csr


@pytest.fixture
def live_pki(live_server, settings):
    """A CA of its own (own tokens) whose certificates name the live server's CRL and OCSP URLs,
    and its TSA; yields (root, issuing, tsa row) as asn1crypto certificates and the TSA URL."""
    base = live_server.url.replace("//localhost:", "//127.0.0.1:")  # pkilint refuses a dotless host name
    settings.CA_PUBLIC_URL = base
    settings.CA_ROOT = {**settings.CA_ROOT, "token": "pades-root"}
    settings.CA_ISSUING = {**settings.CA_ISSUING, "token": "pades-issuing"}
    settings.CA_TSA = {**settings.CA_TSA, "token": "pades-tsa"}
    for clear in (signing.clear_caches, responder.clear_cache, tsa_services.clear_cache):
        clear()
    root, issuing = services.ca_init(actor=None)
    tsa_row = IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA, ca=issuing)
    yield (a_x509.Certificate.load(bytes(root.certificate_der)),
           a_x509.Certificate.load(bytes(issuing.certificate_der)),
           a_x509.Certificate.load(bytes(tsa_row.der)),
           f"{base}/ca/tsa/")
    for clear in (signing.clear_caches, responder.clear_cache, tsa_services.clear_cache):
        clear()


def _signer(root, issuing) -> signers.SimpleSigner:
    key, csr = make_csr("ec-p256")
    cert = services.certificate_issue(profile="signature", csr_pem=csr, subject=SIGNATURE_SUBJECT, actor=None)
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=a_x509.Certificate.load(bytes(cert.der)),
        signing_key=a_keys.PrivateKeyInfo.load(pkcs8),
        cert_registry=SimpleCertificateStore.from_certs([issuing, root]),
    )


def _blank_pdf() -> io.BytesIO:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    out.seek(0)
    return out


def _sign(signer, tsa_url, root, *, lt: bool, lta: bool) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=lt,
        use_pades_lta=lta,
        validation_context=ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail"),
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(_blank_pdf()), meta, signer=signer,
                           timestamper=timestamps.HTTPTimeStamper(tsa_url, timeout=10), output=io.BytesIO())
    return out.getvalue()


def _online(root) -> ValidationContext:
    return ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail")


def _offline(reader, root) -> ValidationContext:
    """Only what the document carries (its DSS): no fetching, and revocation info required."""
    dss = DocumentSecurityStore.read_dss(reader)
    return dss.as_validation_context({"trust_roots": [root], "allow_fetching": False,
                                      "revocation_mode": "hard-fail"})


def _granted_here(signed_data) -> None:
    """The TSTInfo in ``signed_data`` is a timestamp our TSA recorded (serial and imprint)."""
    info = signed_data["encap_content_info"]["content"].parsed
    assert TimestampToken.objects.filter(
        pk=info["serial_number"].native, imprint=info["message_imprint"]["hashed_message"].native.hex()
    ).exists()


def _assert_timestamped_by_our_tsa(sig, status, tsa_cert, since):
    (token,) = [a["values"][0] for a in sig.signer_info["unsigned_attrs"]
                if a["type"].native == "signature_time_stamp_token"]
    _granted_here(token["content"])
    ts = status.timestamp_validity
    assert ts is not None, "no signature timestamp"
    assert ts.intact and ts.valid and ts.trusted, ts.pretty_print_details()
    assert ts.signing_cert.dump() == tsa_cert.dump()
    assert since <= ts.timestamp <= dt.datetime.now(dt.UTC)


def test_pades_b_t(live_pki):
    root, issuing, tsa_cert, url = live_pki
    since = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pdf = _sign(_signer(root, issuing), url, root, lt=False, lta=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = reader.embedded_signatures
    status = validate_pdf_signature(sig, _online(root))
    assert status.bottom_line, status.pretty_print_details()
    _assert_timestamped_by_our_tsa(sig, status, tsa_cert, since)
    assert not reader.embedded_timestamp_signatures


def test_pades_b_lt_validates_offline_from_its_dss(live_pki):
    root, issuing, tsa_cert, url = live_pki
    since = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pdf = _sign(_signer(root, issuing), url, root, lt=True, lta=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = reader.embedded_regular_signatures
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.ocsps or dss.crls
    # with nothing fetched: the signer's and the TSA's chains and their revocation info are in the file
    status = validate_pdf_signature(sig, _offline(reader, root))
    assert status.bottom_line, status.pretty_print_details()
    _assert_timestamped_by_our_tsa(sig, status, tsa_cert, since)
    # and with no DSS and no fetching, hard-fail refuses it: the test above is not vacuous
    bare = ValidationContext(trust_roots=[root], other_certs=[issuing], allow_fetching=False,
                             revocation_mode="hard-fail", crls=[], ocsps=[])
    assert not validate_pdf_signature(sig, bare).bottom_line


def test_pades_b_lta_has_a_document_timestamp_from_our_tsa(live_pki):
    root, issuing, tsa_cert, url = live_pki
    since = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pdf = _sign(_signer(root, issuing), url, root, lt=True, lta=True)
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = reader.embedded_regular_signatures
    (doc_ts,) = reader.embedded_timestamp_signatures
    status = validate_pdf_signature(sig, _offline(reader, root))
    assert status.bottom_line, status.pretty_print_details()
    _assert_timestamped_by_our_tsa(sig, status, tsa_cert, since)
    ts_status = validate_pdf_timestamp(doc_ts, _online(root))
    assert ts_status.valid and ts_status.intact and ts_status.trusted, ts_status.pretty_print_details()
    assert ts_status.signing_cert.dump() == tsa_cert.dump()
    _granted_here(doc_ts.signed_data)
