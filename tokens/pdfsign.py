"""PAdES signatures made with a key on a token, through pyHanko's PKCS#11 signer.

Used by ``python -m tokens.agent sign-pdf`` on the holder's own machine (the e-Namad commitment
letter, issue 14) and by the tests. Standalone like the rest of this package: no Django.

The result is PAdES B-LT when ``lt`` is true: a signature timestamp from ``tsa_url`` (RFC 3161,
our TSA) and, in the document's DSS, the certificates and the OCSP answers / CRLs of the signer's
and the TSA's chains, fetched from the URLs in the certificates. EC keys sign with the raw
``CKM_ECDSA`` mechanism (pyHanko hashes; SoftHSM and most tokens have no hash-and-sign ECDSA).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as a_x509


def load_certs(blobs: Iterable[bytes]) -> list[a_x509.Certificate]:
    """Certificates from DER or PEM blobs (a PEM blob may hold several)."""
    out = []
    for blob in blobs:
        if pem.detect(blob):
            out.extend(a_x509.Certificate.load(der) for _, _, der in pem.unarmor(blob, multiple=True))
        else:
            out.append(a_x509.Certificate.load(blob))
    return out


def sign_pdf(
    session: Any,
    data: bytes,
    *,
    chain: list[a_x509.Certificate],
    tsa_url: str | None,
    key_label: str | None = None,
    key_id: bytes | None = None,
    lt: bool = True,
    field_name: str | None = None,
    timeout: int = 20,
) -> bytes:
    """Sign ``data`` (a PDF) with the token key ``key_label``/``key_id`` and the certificate
    stored next to it; ``chain`` is the issuing CA and the root (the self-signed ones are the
    trust roots used to collect revocation data). Returns the signed PDF."""
    from pkcs11 import KeyType, ObjectClass
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.sign.pkcs11 import PKCS11Signer
    from pyhanko_certvalidator import ValidationContext

    find: dict[str, Any] = {"object_class": ObjectClass.PRIVATE_KEY}
    if key_label:
        find["label"] = key_label
    if key_id:
        find["id"] = key_id
    key = session.get_key(**find)  # exactly one, or python-pkcs11 says none / more than one
    # EC: raw CKM_ECDSA over pyHanko's digest; RSA: the token's own SHA-256 PKCS#1 v1.5
    signer = PKCS11Signer(session, key_label=key.label, key_id=key.id, cert_id=key.id, ca_chain=chain,
                          use_raw_mechanism=key.key_type == KeyType.EC, embed_roots=True)
    if field_name is None:
        # the document's one empty signature field (the commitment letter has one), else a new one
        from pyhanko.pdf_utils.reader import PdfFileReader

        empty = [name for name, _, _ in fields.enumerate_sig_fields(PdfFileReader(io.BytesIO(data)),
                                                                    filled_status=False)]
        field_name = empty[0] if len(empty) == 1 else "Signature1"
    roots = [c for c in chain if c.self_signed == "maybe" or c.self_signed == "yes"]
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=lt,
        validation_context=ValidationContext(trust_roots=roots, other_certs=chain, allow_fetching=True,
                                             revocation_mode="hard-fail") if lt else None,
    )
    timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=timeout) if tsa_url else None
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer,
                           timestamper=timestamper, output=io.BytesIO())
    return out.getvalue()
