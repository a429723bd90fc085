"""Issue 16: a profile's fixed parts are linted once (``ramis.ca.lint._fixed_parts``).

Three things are checked: that no pkilint validator inside a fixed subtree reads a varying field
(recorded node by node, for both profiles, three key types, with and without a mailbox); that
certificates linted with the remembered parts get exactly stock pkilint's findings; and that a
certificate whose fixed part differs gets the full lint and is refused when that part is bad."""

from __future__ import annotations

import dataclasses
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pkilint import document as pk_document
from pkilint import loader
from pkilint.etsi import create_decoding_validators, create_validators
from pkilint.etsi.etsi_constants import CertificateType
from pkilint.pkix import certificate
from pkilint.pkix.certificate import RFC5280Certificate
from pkilint.validation import ValidatorContainer

from ramis.ca import builder, lint, profiles
from ramis.ca import der as der_

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr
from .test_lint import stock_findings

SUBJECTS = {"signature": SIGNATURE_SUBJECT, "seal": SEAL_SUBJECT}


def _draft(pki, profile: str, key_type: str, email: str | None = None, subject: dict | None = None,
           prof: profiles.Profile | None = None) -> bytes:
    prof = prof or profiles.get_profile(profile)
    _k, csr = make_csr(key_type)
    data = {**(subject or SUBJECTS[profile]), **({"email": email} if email else {})}
    b = builder.end_entity_builder(
        profile=prof, public_key=x509.load_pem_x509_csr(csr).public_key(),
        subject=profiles.build_subject(prof, data), issuer=pki.issuing, urls=pki.urls,
        email=profiles.subject_email(prof, data),
    )
    return builder.der(b.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()))


def _cases(pki):
    for profile in ("signature", "seal"):
        for key_type in ("ec-p256", "ec-p384", "rsa2048"):
            for email in (None, "info@example.ir"):
                yield f"{profile}-{key_type}-{email}", profiles.get_profile(profile).etsi_type, \
                    _draft(pki, profile, key_type, email)


# pkilint helpers that read an ancestor's ``pdu`` only for its ASN.1 type (``isinstance``), which
# the schema fixes: checked by reading them (pkilint 0.13.3).
_TYPE_TESTS = frozenset({"is_nameconstraints_child_node"})


def _callers(frame, depth: int = 4) -> str:
    names = []
    while frame is not None and len(names) < depth:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return "<".join(names)


def _type_test_only(frame) -> bool:
    for _ in range(2):  # the helper itself, or its generator expression
        if frame is None:
            return False
        if frame.f_code.co_name in _TYPE_TESTS:
            return True
        frame = frame.f_back
    return False


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r + ".") for r in roots)


def test_no_validator_inside_a_fixed_subtree_reads_a_varying_field(pki, monkeypatch):
    """Every node a validator touches (its ``pdu`` or its ``children``) while it runs on a node of a
    fixed subtree lies in the fixed parts: the subtree itself, another fixed subtree, a varying
    extension's OID or criticality, or (``children`` only: the shape, fixed by the key) a node
    above a fixed subtree. Reading the whole certificate through cryptography counts as a
    violation too."""
    assert lint._CACHE_FIXED, "pkilint is not the version whose validators were read"
    stack: list = []
    violations: set = set()
    state = {"fixed": frozenset(), "allowed": frozenset(), "ancestors": frozenset()}
    real_getattribute = pk_document.PDUNode.__getattribute__

    def leaf():
        return stack[-1] if stack and not isinstance(stack[-1][0], ValidatorContainer) else None

    def spying(self, attr):
        if attr in ("pdu", "children") and (top := leaf()) is not None:
            v, node = top
            path = real_getattribute(self, "path")
            ok = _under(path, state["fixed"]) or path in state["allowed"] or (
                attr == "children" and path in state["ancestors"])
            if not ok and not _type_test_only(sys._getframe(1)):
                violations.add((type(v).__qualname__, node.path, path, attr, _callers(sys._getframe(1))))
        return real_getattribute(self, attr)

    real_visit = lint._visit

    def visit(self, node, results):
        if self._ramis_decoding or not _under(node.path, state["fixed"]):
            return real_visit(self, node, results)
        for v in self.validators:  # every validator, not the index's pre-filtered few
            stack.append((v, node))
            try:
                if v.match(node):
                    r = v.validate_wrapper(node)
                    results += r if isinstance(r, list) else [r]
            finally:
                stack.pop()
        for child in node.children.values():
            self._validate_rec(child, results)

    real_crypto = RFC5280Certificate.cryptography_object

    def crypto(doc):
        if (top := leaf()) is not None:
            violations.add((type(top[0]).__qualname__, top[1].path, "cryptography_object", ""))
        return real_crypto.fget(doc) if isinstance(real_crypto, property) else real_crypto.func(doc)

    monkeypatch.setattr(pk_document.PDUNode, "__getattribute__", spying)
    monkeypatch.setattr(lint, "_visit", visit)
    monkeypatch.setattr(RFC5280Certificate, "cryptography_object", property(crypto))
    monkeypatch.setattr(lint, "_PLAN", lint.contextvars.ContextVar("off", default=None))
    checked = 0
    for label, etsi_type, der in _cases(pki):
        _key, fixed, _varying = lint._fixed_parts(der, etsi_type)
        exts = x509.load_der_x509_certificate(der).extensions
        varying = [f"certificate.tbsCertificate.extensions.{i}" for i in range(len(exts))
                   if f"certificate.tbsCertificate.extensions.{i}" not in fixed]
        state["fixed"] = fixed
        state["allowed"] = frozenset(varying + [f"{p}.{c}" for p in varying for c in ("extnID", "critical")])
        state["ancestors"] = frozenset({"certificate", "certificate.tbsCertificate",
                                        "certificate.tbsCertificate.extensions",
                                        "certificate.tbsCertificate.subjectPublicKeyInfo", *varying})
        lint.lint_certificate(der, etsi_type)
        checked += 1
        assert not violations, (label, "\n".join(map(str, sorted(violations))))
    assert checked == 12
    # the spy sees a read of a varying field: a stand-in validator on a fixed node reads the subject

    root = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate").root
    stack.append((object(), root.navigate("tbsCertificate.extensions.0")))
    _ = root.navigate("tbsCertificate.subject").pdu
    stack.pop()
    assert any(v[2] == "certificate.tbsCertificate.subject" for v in violations)


def test_remembered_fixed_parts_give_stock_pkilints_findings(pki):
    lint.clear_fixed_cache()
    drafts = list(_cases(pki))
    other = {**SEAL_SUBJECT, "common_name": "شرکت دیگر", "organization": "شرکت دیگر"}
    drafts += [("seal-other-subject", profiles.get_profile("seal").etsi_type, _draft(pki, "seal", "ec-p256", None, other))]
    for _round in range(2):  # the first fills the cache, the second reads it
        for label, etsi_type, der in drafts:
            assert sorted(lint.lint_certificate(der, etsi_type)) == sorted(stock_findings(der, etsi_type)), label
    assert len(lint._FIXED) >= 6


def test_a_certificate_whose_fixed_part_differs_gets_the_full_lint_and_is_refused(pki):
    lint.clear_fixed_cache()
    etsi_type = profiles.get_profile("signature").etsi_type
    good = _draft(pki, "signature", "ec-p256")
    assert not lint.blocking(lint.lint_certificate(good, etsi_type))
    assert len(lint._FIXED) == 1
    broken = dataclasses.replace(profiles.get_profile("signature"),
                                 key_usage=frozenset({"digital_signature", "key_cert_sign"}))
    bad = _draft(pki, "signature", "ec-p256", prof=broken)
    assert lint._fixed_parts(bad, etsi_type)[0] != lint._fixed_parts(good, etsi_type)[0]
    with pytest.raises(lint.LintError, match="keyUsage"):
        lint.require_clean("certificate", lint.lint_certificate(bad, etsi_type))
    with pytest.raises(lint.LintError, match="keyUsage"):  # and again, from its own remembered parts
        lint.require_clean("certificate", lint.lint_certificate(_draft(pki, "signature", "ec-p256", prof=broken),
                                                                etsi_type))
    assert len(lint._FIXED) == 2


def test_unusual_shapes_are_never_cached():
    assert lint._fixed_parts(b"\x30\x03\x02\x01\x01", None) is None
    assert lint._fixed_parts(b"\x30\x85", None) is None


def test_sub_values_decoded_once_give_stock_pkilints_findings(pki):
    """Extension and attribute values whose bytes were decoded before are taken decoded
    (``lint._memo_decode_der``): on many varied certificates — both profiles, three key types, with
    and without a mailbox, other subjects, and the broken drafts of test_lint (refused as stock
    pkilint refuses them) — the findings are stock pkilint's, and the remembered values were used."""
    from .test_lint import drafts

    lint.clear_fixed_cache()
    cases = list(_cases(pki)) + list(drafts(pki))
    names = ["شرکت دیگر", "Another Co", "شرکت نمونهٔ بورس"]
    for i, name in enumerate(names):
        other = {**SEAL_SUBJECT, "common_name": name, "organization": name}
        cases.append((f"seal-subject-{i}", profiles.get_profile("seal").etsi_type,
                      _draft(pki, "seal", "ec-p256", f"user{i}@example.ir", other)))
    assert pk_document.decode_der is lint._memo_decode_der
    refused = 0
    for _round in range(2):
        for label, etsi_type, der in cases:
            ours = lint.lint_certificate(der, etsi_type)
            assert sorted(ours) == sorted(stock_findings(der, etsi_type)), label
            refused += bool(lint.blocking(ours))
    assert refused >= 8  # the broken drafts, refused in both rounds
    remembered = len(lint._DECODED)
    assert remembered > 20
    # another pass decodes nothing anew: every sub-value of every certificate was remembered
    for label, etsi_type, der in cases:
        assert sorted(lint.lint_certificate(der, etsi_type)) == sorted(stock_findings(der, etsi_type)), label
    assert len(lint._DECODED) == remembered


def test_a_bad_sub_value_is_refused_every_time_not_remembered(pki):
    """A value that does not decode raises in pkilint's decoder each time (nothing remembered)."""
    from pkilint.document import SubstrateDecodingFailedError
    from pyasn1_alt_modules import rfc5280

    lint.clear_fixed_cache()
    token = lint._MEMO.set(True)
    try:
        for _ in range(2):
            with pytest.raises(Exception) as caught:
                lint._memo_decode_der(b"\x03\x02\x07", asn1Spec=rfc5280.KeyUsage())
            assert not isinstance(caught.value, SubstrateDecodingFailedError)
            assert not lint._DECODED
        decoded, rest = lint._memo_decode_der(b"\x03\x02\x07\x80", asn1Spec=rfc5280.KeyUsage())
        again, _ = lint._memo_decode_der(b"\x03\x02\x07\x80", asn1Spec=rfc5280.KeyUsage())
        assert rest == b"" and decoded == again and again is not decoded  # another schema object: decoded anew
        spec = rfc5280.KeyUsage()
        first, _ = lint._memo_decode_der(b"\x03\x02\x07\x80", asn1Spec=spec)
        assert lint._memo_decode_der(b"\x03\x02\x07\x80", asn1Spec=spec)[0] is first
    finally:
        lint._MEMO.reset(token)


def _paths(node, out: list) -> list:
    out.append((node.path, type(node.pdu).__name__))
    for child in node.children.values():
        _paths(child, out)
    return out


def _tree(node, document, parent=None, out=None) -> list:
    """(path, name, type, DER) of every node, checking on the way that each belongs to ``document``
    and hangs under its parent."""
    from pyasn1.codec.der.encoder import encode

    out = [] if out is None else out
    assert node.document is document and node.parent is parent, node.path
    out.append((node.path, node.name, type(node.pdu).__name__,
                encode(node.pdu) if node.pdu.isValue else None))
    for child in node.children.values():
        _tree(child, document, node, out)
    return out


def _stock_linted(der: bytes, etsi_type: str):
    ctype = CertificateType[etsi_type]
    doc = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
    certificate.create_pkix_certificate_validator_container(
        create_decoding_validators(ctype), create_validators(ctype)).validate(doc.root)
    return doc


SHAPES = [(profile, key_type, email) for profile in ("signature", "seal")
          for key_type in ("ec-p256", "ec-p384", "rsa2048") for email in (None, "info@example.ir")]


def test_an_assembled_document_is_the_whole_decoding(pki, monkeypatch):
    """A certificate whose fixed parts were decoded before is decoded only in its varying parts
    (``lint._assembled``) and gets new nodes only there (``lint._grown``): its pyasn1 value is the
    whole decoding's, and once linted its node tree — every node's path, value, document and parent,
    with the decoded values hung under them — is the one pkilint's loader and validators make, and
    its findings are stock pkilint's; for both profiles, three key types, with and without a
    mailbox."""
    lint.clear_fixed_cache()
    assembled = []
    real = lint._assembled
    monkeypatch.setattr(lint, "_assembled", lambda *a: assembled.append(1) or real(*a))
    for shape in SHAPES:  # the first of each key: decoded whole, remembered
        lint.lint_certificate(_draft(pki, *shape), profiles.get_profile(shape[0]).etsi_type)
    assert not assembled
    for shape in SHAPES:
        etsi_type = profiles.get_profile(shape[0]).etsi_type
        again = _draft(pki, *shape)  # another key, serial, validity: the same fixed parts
        plan, _ = lint._plan_for(again, etsi_type)
        assert plan.template is not None and plan.nodes is not None, shape
        whole = loader.RFC5280CertificateDocumentLoader().load_der_document(again, "certificate")
        doc, grown = lint._document(again, plan)
        assert grown and doc.root.pdu == whole.root.pdu, shape
        linted, _results = lint._linted(again, etsi_type)
        stock = _stock_linted(again, etsi_type)
        ours_tree = _tree(linted.root, linted)
        assert ours_tree == _tree(stock.root, stock), shape
        assert len(ours_tree) > len(_paths(whole.root, [])), shape  # the decoded values are there
        assert sorted(lint.lint_certificate(again, etsi_type)) == sorted(stock_findings(again, etsi_type)), shape
    assert len(assembled) == 3 * len(SHAPES)


def test_a_grown_documents_decoding_is_its_own(pki):
    """The copied subtrees are this certificate's: a varying part's decoded value is its own (the
    subjectAltName's mailbox, the public key), and the remembered certificate's tree is untouched."""
    lint.clear_fixed_cache()
    etsi_type = profiles.get_profile("seal").etsi_type
    first_der = _draft(pki, "seal", "ec-p256", "first@example.ir")
    first, _ = lint._linted(first_der, etsi_type)
    before = _tree(first.root, first)
    second_der = _draft(pki, "seal", "ec-p256", "second@example.ir")
    second, _ = lint._linted(second_der, etsi_type)
    assert _tree(first.root, first) == before
    ours = {path: der for path, _name, _type, der in _tree(second.root, second)}
    stock_doc = _stock_linted(second_der, etsi_type)
    stock = {path: der for path, _name, _type, der in _tree(stock_doc.root, stock_doc)}
    assert ours == stock
    mailboxes = [der for path, der in ours.items() if path.endswith("rfc822Name")]
    assert mailboxes and all(b"second@example.ir" in der for der in mailboxes)
    assert not any(b"first@example.ir" in (der or b"") for der in ours.values())


def test_a_varying_part_that_does_not_decode_is_reported_as_pkilint_reports_it(pki):
    """Same fixed parts, a serial that is not DER (a needless leading zero octet): the assembly
    fails and pkilint's own loader decodes the whole certificate, raising what it always raised."""

    lint.clear_fixed_cache()
    etsi_type = profiles.get_profile("seal").etsi_type
    lint.lint_certificate(_draft(pki, "seal", "ec-p256"), etsi_type)
    der = bytearray(_draft(pki, "seal", "ec-p256"))
    (cert,) = der_.elements(der)
    _tag, at, _end = der_.inside(der, der_.inside(der, cert)[0])[1]  # the serial (19 or 20 octets)
    der[at + 2:at + 4] = b"\x00\x01"
    der = bytes(der)
    plan, _ = lint._plan_for(der, etsi_type)
    assert plan is not None and plan.template is not None  # the fixed parts are the remembered ones
    with pytest.raises(Exception) as stock:
        loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
    with pytest.raises(Exception) as ours:
        lint.lint_certificate(der, etsi_type)
    assert type(ours.value) is type(stock.value)
    assert str(ours.value) == str(stock.value)


def test_a_linted_document_leaves_nothing_for_the_garbage_collector(pki):
    """Certificates and a CRL linted one after another leave no reference cycle behind
    (``lint._unlinked``): their nodes are freed at once, not by the collector's search — except the
    one tree kept as the template of the certificates' fixed parts, which stays whole."""
    import datetime as dt
    import gc

    lint.clear_fixed_cache()
    etsi_type = profiles.get_profile("seal").etsi_type
    drafts = [_draft(pki, "seal", "ec-p256", f"user{i}@example.ir") for i in range(4)]
    now = builder.now()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(pki.issuing.cert.subject)
           .last_update(now).next_update(now + dt.timedelta(days=1)).sign(pki.issuing.key, hashes.SHA256()))
    lint.lint_certificate(drafts[0], etsi_type)  # the template, kept
    gc.collect()
    gc.disable()
    try:
        for der in drafts[1:]:
            assert not lint.blocking(lint.lint_certificate(der, etsi_type))
        lint.lint_crl(builder.der(crl))
        assert gc.collect() == 0
    finally:
        gc.enable()
    (template,) = [entry[2] for entry in lint._FIXED.values()]
    assert template.document.root is template and template.children["tbsCertificate"].parent is template


@pytest.mark.parametrize("subject", [
    x509.Name([]),
    x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "یک")]),
    x509.Name([x509.RelativeDistinguishedName([  # a multi-valued RDN (a SET of two)
        x509.NameAttribute(x509.NameOID.COMMON_NAME, "دو"), x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "سه")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "IR")])]),
    x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "x" * 200) for _ in range(3)]),  # long form lengths
], ids=["empty", "one", "multi-valued", "long"])
def test_a_subject_decoded_one_rdn_at_a_time_is_the_whole_decoding(subject):
    der = subject.public_bytes()
    whole, rest = lint._stock_decode_der(der, asn1Spec=lint._NAME_SPEC)
    lint.clear_fixed_cache()
    for _ in range(2):  # decoded, then remembered
        ours = lint._subject(der)
        assert not rest and ours == whole and ours.isValue
        assert pk_encode(ours) == der


def test_a_remembered_rdn_is_decoded_once_and_a_subject_that_is_not_der_is_refused():
    lint.clear_fixed_cache()
    country = x509.Name([x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "IR")])
    first = lint._subject(x509.Name([*country, x509.NameAttribute(x509.NameOID.COMMON_NAME, "الف")]).public_bytes())
    second = lint._subject(x509.Name([*country, x509.NameAttribute(x509.NameOID.COMMON_NAME, "ب")]).public_bytes())
    assert first[0][0] is second[0][0] and first[0][1] != second[0][1]
    der = country.public_bytes()
    not_der = b"\x30\x81" + der[1:2] + der[2:]  # the same content, its length in the long form
    with pytest.raises(ValueError):
        lint._subject(not_der)
    with pytest.raises(Exception):  # noqa: B017 - pkilint's decoder refuses it too (its own error type)
        lint._stock_decode_der(not_der, asn1Spec=lint._NAME_SPEC)


def pk_encode(value) -> bytes:
    from pyasn1.codec.der.encoder import encode

    return encode(value)


def test_a_fixed_subtree_is_copied_only_as_far_as_it_is_read(pki, monkeypatch):
    """A remembered fixed subtree's validators are not run again, so its nodes are copied into the
    new document only when something reads them (``lint._Copy``): the second certificate of a
    profile copies under half of them during its lint, and a reader walking the whole tree
    afterwards gets the rest, the tree being stock pkilint's (as the tests above check node by node)."""
    lint.clear_fixed_cache()
    etsi_type = profiles.get_profile("seal").etsi_type
    lint.lint_certificate(_draft(pki, "seal", "ec-p256", "first@example.ir"), etsi_type)
    copies = []
    real = lint._copied
    monkeypatch.setattr(lint, "_copied", lambda *a: copies.append(a[0].path) or real(*a))
    der = _draft(pki, "seal", "ec-p256", "second@example.ir")
    doc, _results = lint._linted(der, etsi_type)
    during = len(copies)
    stock = _stock_linted(der, etsi_type)
    assert _tree(doc.root, doc) == _tree(stock.root, stock)
    assert 0 < during <= len(copies) // 2  # 34 of 78 with pkilint 0.13.3
