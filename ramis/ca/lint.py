"""pkilint, as a gate and as a checker.

Which validator set:

* End-entity certificates (``signature``, ``seal``) are linted with pkilint's
  **ETSI EN 319 412** validators for the profile's ETSI type
  (``NCP_NATURAL_PERSON_CERTIFICATE`` = EN 319 412-2 for a person,
  ``NCP_LEGAL_PERSON_CERTIFICATE`` = EN 319 412-3 for a legal person's seal).
  That set includes pkilint's RFC 5280 certificate validators, so one run
  covers both. The CA/B Forum S/MIME linter is **not** used: our certificates
  carry a confirmed mailbox address (subjectAltName rfc822Name) so that mail
  clients and strict verifiers can tie them to a sender, but they are issued
  under our own and ETSI's policies, not the S/MIME Baseline Requirements
  (which want their reserved policy OIDs and a CA audited against them; see
  docs/reference/certificate-profiles.md); CABF server-auth is not applicable.
* CA certificates and the OCSP responder certificate: RFC 5280 validators
  (pkilint has no ETSI type for them).
* CRLs: RFC 5280 CRL validators, plus the validity-period bound of the type (CRL for the
  issuing CA: ≤ 10 days; ARL for the root: ≤ 365 days).
* OCSP responses: RFC 6960 validators.

``ERROR`` and ``FATAL`` findings refuse an artefact; ``WARNING``/``NOTICE``/
``INFO`` are returned for display.

Speed (issuance lints every certificate): the validator trees are built once
per process, and their traversal is indexed (:func:`_indexed`). pkilint's
``ValidatorContainer`` asks each of its validators ``match(node)`` at every
node of the document — ~6,600 calls for one end-entity certificate, most of
them answered "no" by the node's path or PDU class alone. The indexed
traversal asks that static part once per (path, PDU class) and remembers the
few validators that can match there; everything else (the rest of
``match``, ``validate``, the order of results) is pkilint's own. The
findings are the same, which a test checks against stock pkilint; the lint
costs about 40 % less. A profile's fixed parts are linted once per process
(``_fixed_parts``), and a sub-value (an extension's or a name attribute's)
whose exact bytes were decoded before is taken decoded (``_memo_decode_der``).
A certificate whose fixed parts were seen is decoded only in its varying parts
(``_assembled``) and gets new nodes only there (``_grown``); its fixed subtrees
are copies of the remembered ones, made only as far as something reads them
(``_Copy``). A linted tree is cut apart (``_unlinked``) so that it is freed at
once, not by the garbage collector's cycle search.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.metadata
from collections import OrderedDict
from typing import NamedTuple

from pkilint import document as pk_document
from pkilint import finding_filter, loader, pkix
from pkilint.cabf import cabf_crl
from pkilint.document import NodeVisitor
from pkilint.etsi import create_decoding_validators as etsi_decoders
from pkilint.etsi import create_etsi_finding_filters
from pkilint.etsi import create_validators as etsi_validators
from pkilint.etsi.etsi_constants import CertificateType
from pkilint.pkix import certificate, crl, extension, name, ocsp
from pkilint.pkix.certificate import RFC5280Certificate
from pkilint.validation import ValidatorContainer
from pyasn1.error import PyAsn1Error
from pyasn1.type.univ import Choice, SequenceAndSetBase, SequenceOfAndSetOfBase
from pyasn1_alt_modules import rfc5280

from . import der as der_
from .findings import BLOCKING, Finding, LintError, blocking, require_clean  # noqa: F401 - the module's API, as before

# ``match`` overrides in pkilint 0.13 that read ``super().match(node) and ...``, so
# the static part (path, PDU class) rules them out too (each one read). An
# override not listed here, or any override under another pkilint version, is
# never pre-filtered: it is asked at every node, as pkilint does.
_STATIC_FIRST_MATCHES = frozenset({
    "pkilint.pkix.extension.ExtensionCriticalityValidator.match",
    "pkilint.pkix.certificate.certificate_extension.ExtendedKeyUsageCriticalityValidator.match",
    "pkilint.etsi.en_319_412_1.LegalPersonOrganizationIdentifierValidator.match",
    "pkilint.etsi.en_319_412_1.NaturalPersonIdentifierValidator.match",
    "pkilint.etsi.en_319_412_1.EidasLegalPersonIdentifierValidator.match",
    "pkilint.etsi.en_319_412_1.NameRegistrationAuthoritiesValidatorBase.match",
    "pkilint.etsi.en_319_412_1.NaturalPersonEidasIdentifierValidator.match",
    "pkilint.etsi.en_319_412_2.QualifiedCertificatePoliciesValidator.match",
    "pkilint.validation.TypeMatchingValidator.match",
}) if importlib.metadata.version("pkilint") == "0.13.3" else frozenset()
_MAX_INDEX = 20_000  # (path, class) pairs remembered per container


# --------------------------------------------------------------------------
# A profile's fixed parts, linted once
# --------------------------------------------------------------------------
#
# Certificates of one profile from one CA differ only in a few fields: the serial, the validity
# times, the subject, the public key's bits, the subject key identifier and the subjectAltName.
# Everything else — version, signature algorithms, issuer, the public key's algorithm, every other
# extension byte for byte — is the same. ``_fixed_parts`` cuts the DER into the two: the key is the
# exact bytes of the fixed parts (with, for a varying extension, its OID and criticality), the
# paths are pkilint's nodes of the fixed subtrees. The first certificate with a key is linted in
# full and the results of the validators inside each fixed subtree are remembered; a later
# certificate with the very same key gets those results for those subtrees and runs everything
# else: the decoding of the whole certificate, every validator on the varying subtrees and on the
# nodes above them (certificate, tbsCertificate, extensions). A certificate whose fixed part
# differs in one byte has another key and gets the full lint.
#
# This holds because no validator inside a fixed subtree reads a varying field (a keyUsage
# validator reads the public key's algorithm, which is in the key). tests/pki/test_lint.py checks
# it by recording which nodes every such validator touches, for each profile and key type; it is
# pkilint 0.13.3's code that was read and recorded, so under another version nothing is cached.

_VARYING_EXTENSIONS = frozenset({
    bytes.fromhex("0603551d0e"),  # subjectKeyIdentifier (from the public key)
    bytes.fromhex("0603551d11"),  # subjectAltName (the request's mailbox)
})
_FIXED_ENTRIES = 64  # keys remembered per process (profiles × CAs × key algorithms)
_FIXED: OrderedDict = OrderedDict()
_CACHE_FIXED = importlib.metadata.version("pkilint") == "0.13.3"


class _Plan(NamedTuple):
    fixed: frozenset  # pkilint paths of the fixed subtrees
    cached: dict | None  # (container id, path) → results, from the first certificate with this key
    recording: dict | None  # filled on the first certificate
    template: object | None  # the first certificate's decoded pyasn1 value (see _assembled)
    varying: _Varying  # this certificate's varying parts, for _assembled
    nodes: object | None = None  # the first certificate's node tree as its lint left it (see _grown)
    grown: bool = False  # this document's fixed subtrees are copies of ``nodes`` (decoded already)


class _Varying(NamedTuple):
    """The DER of a certificate's varying parts (``_fixed_parts``)."""

    fields: tuple[tuple[int, bytes], ...]  # (tbsCertificate position, TLV): serial, validity, subject, key
    extensions: tuple[tuple[int, bytes], ...]  # (index, TLV) of the subjectKeyIdentifier and subjectAltName
    signature: bytes


_PLAN: contextvars.ContextVar[_Plan | None] = contextvars.ContextVar("ramis_lint_plan", default=None)


def _fixed_parts(der: bytes, etsi_type: str | None) -> tuple[bytes, frozenset, _Varying] | None:
    """(key, fixed paths, varying parts) of a certificate, or None (no caching) for anything but the
    usual shape: version 3, no unique identifiers, extensions present."""
    try:
        (cert,) = der_.elements(der)
        tbs, outer_alg, _sig = der_.inside(der, cert)
        fields = der_.inside(der, tbs)
        if len(fields) != 8 or [f[0] for f in fields] != [0xA0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30, 0xA3]:
            return None
        version, serial, alg, issuer, validity, subject, spki, exts = fields
        spki_alg = der_.inside(der, spki)[0]
        (ext_seq,) = der_.inside(der, exts)
        extensions = der_.inside(der, ext_seq)
        part = lambda t: der[t[1]:t[2]]  # noqa: E731
        varying_extensions = []
        key = [(etsi_type or "").encode(), b"\x00", part(version), part(alg), part(issuer), part(spki_alg)]
        base = "certificate.tbsCertificate"
        paths = {f"{base}.version", f"{base}.signature", f"{base}.issuer",
                 f"{base}.subjectPublicKeyInfo.algorithm", "certificate.signatureAlgorithm"}
        for i, ext in enumerate(extensions):
            inner = der_.inside(der, ext)
            oid = part(inner[0])
            if oid in _VARYING_EXTENSIONS:
                key += [b"\x00", oid, *(part(t) for t in inner[1:-1])]  # OID and criticality
                varying_extensions.append((i, part(ext)))
            else:
                key.append(part(ext))
                paths.add(f"{base}.extensions.{i}")
        key.append(part(outer_alg))
        varying = _Varying(((1, part(serial)), (4, part(validity)), (5, part(subject)), (6, part(spki))),
                           tuple(varying_extensions), part(_sig))
        return b"".join(key), frozenset(paths), varying
    except ValueError:
        return None


def _plan_for(der: bytes, etsi_type: str | None) -> tuple[_Plan | None, bytes | None]:
    parts = _fixed_parts(der, etsi_type) if _CACHE_FIXED else None
    if parts is None:
        return None, None
    key, paths, varying = parts
    cached = _FIXED.get(key)
    if cached is not None:
        try:
            _FIXED.move_to_end(key)
        except KeyError:  # another thread dropped it just now: the results in hand still hold
            pass
        results, template, nodes = cached
        return _Plan(paths, results, None, template, varying, nodes), None
    return _Plan(paths, None, {}, None, varying), key


def clear_fixed_cache() -> None:
    _FIXED.clear()
    _DECODED.clear()
    _REPEATED.clear()


# --------------------------------------------------------------------------
# Sub-values decoded once
# --------------------------------------------------------------------------
#
# pkilint's decoding validators decode every extension's value and every name attribute's value
# from their DER (``pkilint.document.decode_substrate`` → ``pyasn1_fasder.decode_der``), about a
# quarter of a certificate's lint; most of those bytes are the same in every certificate of a
# profile (issuer names, keyUsage, policies, CRL and AIA URLs...). While a certificate is linted
# (after its own decoding), a sub-value whose exact bytes were decoded before with the very same
# schema object gets that decoded value again: decoding is a function of the bytes and the schema,
# and nothing in pkilint 0.13.3 or here changes a decoded value (read: no ``setComponent…``,
# ``clear`` or item assignment on a ``pdu``), so sharing it is safe; each document still builds
# its own nodes over it. Failed decodings are never remembered (they raise, as before).
# tests/pki/test_lint_fixed_parts.py compares the findings with stock pkilint's on many varied
# certificates, good and bad.

_stock_decode_der = pk_document.decode_der
_DECODED: dict = {}  # (id(schema), bytes) → (schema, decoded, rest)
_DECODED_ENTRIES = 2048
_MEMO: contextvars.ContextVar[bool] = contextvars.ContextVar("ramis_lint_memo", default=False)


def _memo_decode_der(substrate, asn1Spec=None, **kwargs):  # noqa: N803 - pyasn1's keyword
    if not _MEMO.get() or kwargs or asn1Spec is None:
        return _stock_decode_der(substrate, asn1Spec=asn1Spec, **kwargs)
    data = bytes(substrate)
    key = (id(asn1Spec), data)
    hit = _DECODED.get(key)
    if hit is not None and hit[0] is asn1Spec:
        return hit[1], hit[2]
    decoded, rest = _stock_decode_der(data, asn1Spec=asn1Spec)
    if len(_DECODED) >= _DECODED_ENTRIES:
        _DECODED.clear()
    _DECODED[key] = (asn1Spec, decoded, rest)  # the schema kept alive: its id is not reused
    return decoded, rest


if _CACHE_FIXED:
    pk_document.decode_der = _memo_decode_der


# --------------------------------------------------------------------------
# The document of a certificate whose fixed parts were seen, assembled
# --------------------------------------------------------------------------
#
# pkilint decodes the whole certificate into pyasn1 values before anything else (~0.47 ms of a
# ~1.7 ms lint). For a certificate whose fixed parts are byte for byte those of one decoded
# before (the plan's key), ``_assembled`` decodes only its varying parts — serial, validity,
# subject, public key, the varying extensions and the signature, each with its schema — and takes
# every other value from that earlier certificate's decoded tree (~0.26 ms; a decoded value is
# shared, never changed, as above). The result equals the whole decoding (pyasn1's ``==`` and the
# same node tree: tests/pki/test_lint_fixed_parts.py); any part that does not decode sends the
# certificate through pkilint's own loader, which reports it as it always did.

_TBS_SPEC = rfc5280.TBSCertificate().componentType
_PART_SPECS = {i: _TBS_SPEC.getTypeByPosition(i) for i in (1, 4, 5, 6)}
_EXTENSION_SPEC = rfc5280.Extension()
_SIGNATURE_SPEC = rfc5280.Certificate().componentType["signature"].asn1Object


_NAME_SPEC = _PART_SPECS[5]
_RDN_SEQUENCE_SPEC = _NAME_SPEC.componentType["rdnSequence"].asn1Object
_RDN_SPEC = _RDN_SEQUENCE_SPEC.componentType
_UNCHECKED = {"verifyConstraints": False, "matchTags": False, "matchConstraints": False}  # as pyasn1's decoder sets them
_REPEATED: dict = {}  # (what, DER) → decoded: a subject's RDNs, the validity, the placeholder signature
_REPEATED_ENTRIES = 512


def _repeated(data: bytes, what: str, spec):
    """``data`` decoded with ``spec``, remembered: parts that recur from one certificate to the
    next (the subject's fixed attributes, the placeholder signature, the validity of certificates
    issued in one second). Shared like the sub-values above, never changed."""
    key = (what, data)
    decoded = _REPEATED.get(key)
    if decoded is None:
        decoded, rest = _stock_decode_der(data, asn1Spec=spec)
        if rest:
            raise ValueError("trailing data")
        if len(_REPEATED) >= _REPEATED_ENTRIES:
            _REPEATED.clear()
        _REPEATED[key] = decoded
    return decoded


def _subject(data: bytes):
    """The subject Name, decoded one RDN at a time (:func:`_repeated`): equal to decoding it whole.
    Its SEQUENCE header must be DER (minimal length) as the whole decoding requires; each RDN is
    decoded by pkilint's DER decoder, which checks the rest."""
    (name_tlv,) = der_.elements(data)
    rdns = der_.inside(data, name_tlv)
    body = name_tlv[2] - (rdns[-1][2] - rdns[0][1] if rdns else 0)
    if data[:body] != der_.header(0x30, len(data) - body):
        raise ValueError("not DER: the subject's length")
    sequence = _RDN_SEQUENCE_SPEC.clone()
    sequence.clear()  # a value even when empty, as decoded
    for i, (_tag, start, end) in enumerate(rdns):
        sequence.setComponentByPosition(i, _repeated(data[start:end], "rdn", _RDN_SPEC), **_UNCHECKED)
    name = _NAME_SPEC.clone()
    name.setComponentByName("rdnSequence", sequence, **_UNCHECKED)
    return name


def _assembled(template, varying: _Varying):
    """The pyasn1 Certificate of a certificate whose fixed parts are ``template``'s."""
    tbs_template = template["tbsCertificate"]
    tbs = tbs_template.clone()
    for i in (0, 2, 3):  # version, signature algorithm, issuer
        tbs.setComponentByPosition(i, tbs_template[i])
    for i, data in varying.fields:
        if i == 5:
            value = _subject(data)
        elif i == 4:
            value = _repeated(data, "validity", _PART_SPECS[4])
        else:
            value = _stock_decode_der(data, asn1Spec=_PART_SPECS[i])[0]
        tbs.setComponentByPosition(i, value)
    extensions = tbs_template["extensions"]
    new_extensions = extensions.clone()
    for i in range(len(extensions)):
        new_extensions.setComponentByPosition(i, extensions[i])
    for i, data in varying.extensions:
        new_extensions.setComponentByPosition(i, _stock_decode_der(data, asn1Spec=_EXTENSION_SPEC)[0])
    tbs.setComponentByName("extensions", new_extensions)
    cert = template.clone()
    cert.setComponentByPosition(0, tbs)
    cert.setComponentByPosition(1, template[1])
    cert.setComponentByPosition(2, _repeated(varying.signature, "signature", _SIGNATURE_SPEC))
    return cert


def _document(der: bytes, plan: _Plan | None):
    """(pkilint's document of ``der``, grown?): grown from the remembered tree when its fixed parts
    were decoded before (:func:`_grown`), else from pkilint's loader."""
    if plan is not None and plan.template is not None:
        try:
            doc = RFC5280Certificate(None, der, "certificate")
            pdu = _assembled(plan.template, plan.varying)
            doc.root = _grown(doc, plan.nodes, pdu, None, plan.fixed, _above(plan.fixed))
            return doc, True
        except (PyAsn1Error, ValueError):
            pass  # pkilint's loader decodes it whole and reports what is wrong, as it always did
    return loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate"), False


# --------------------------------------------------------------------------
# ... and its nodes grown from the remembered ones
# --------------------------------------------------------------------------
#
# pkilint makes a node for every value of the certificate (``PDUNode.__init__`` walks the pyasn1
# value), then its decoding validators decode every extension's and name attribute's value and
# hang a node tree under it — about a third of a lint, nearly all of it in the fixed parts. For a
# document assembled from a remembered certificate, ``_grown`` makes new nodes only for the varying
# parts and the nodes above them; a fixed subtree is a copy of the remembered certificate's
# subtree as its lint left it (its decoded values hung under it already), with this document and
# its new parent, each node's children copied when first read (``_Copy``: the validators above
# read 34 of a seal's 78 such nodes). The decoding container then gives the remembered results
# for those subtrees, as every other container does, and decodes the varying parts. After the
# lint the tree is the one pkilint's own loader and validators make
# (tests/pki/test_lint_fixed_parts.py compares them node by node, with every node's document and
# parent).


@functools.lru_cache(maxsize=_FIXED_ENTRIES)
def _above(fixed: frozenset) -> frozenset:
    """The paths of the nodes above the fixed subtrees."""
    return frozenset(".".join(parts[:i]) for parts in (p.split(".") for p in fixed) for i in range(1, len(parts)))


class _Copy(pk_document.PDUNode):
    """A remembered node's copy in another document, its children copied when first asked for. A
    fixed subtree's validators are not run again (their results are remembered), so most of its
    nodes are never asked for: only those a validator above it reads (an extension's OID, say)."""

    @property
    def children(self):
        children = self.__dict__.get("_children")
        if children is None:
            source = self.__dict__["_source"]
            children = self.__dict__["_children"] = {
                key: _copied(child, self.document, self, child.pdu) for key, child in source.children.items()}
        return children

    @children.setter
    def children(self, value):
        self.__dict__["_children"] = value


def _copied(node, document, parent, pdu):
    new = object.__new__(_Copy)
    attributes = new.__dict__
    attributes.update(node.__dict__)
    attributes.pop("children", None)  # a stock node's; a copy's are made when read
    attributes["_source"] = node
    new.document, new.parent, new.pdu = document, parent, pdu
    return new


def _child_pdus(pdu):
    """(name, value) of a value's children, as ``PDUNode._generate_child_nodes`` names them."""
    if isinstance(pdu, Choice):
        return [(pdu.getName(), pdu.getComponent())]
    if isinstance(pdu, SequenceOfAndSetOfBase):
        return [(str(i), component) for i, component in enumerate(pdu)]
    if isinstance(pdu, SequenceAndSetBase):
        return [(name, value) for name, value in pdu.items() if value.isValue]
    return []


def _grown(document, remembered, pdu, parent, fixed: frozenset, above: frozenset):
    """The node of ``pdu`` (at ``remembered``'s path) and its subtree: new nodes for the varying
    parts, copies of ``remembered``'s for the fixed subtrees."""
    if remembered.path not in above:
        return pk_document.PDUNode(document, remembered.name, pdu, parent)
    node = object.__new__(pk_document.PDUNode)
    node.document, node.name, node.pdu, node.parent, node.path = document, remembered.name, pdu, parent, remembered.path
    children = {}
    for child, value in _child_pdus(pdu):
        was = remembered.children.get(child)
        if was is None:
            children[child] = pk_document.PDUNode(document, child, value, node)
        elif was.path in fixed:
            children[child] = _copied(was, document, node, value)
        else:
            children[child] = _grown(document, was, value, node, fixed, above)
    node.children = children
    return node


def _static_part_decides(validator) -> bool:
    match = type(validator).match
    return match is NodeVisitor.match or f"{match.__module__}.{match.__qualname__}" in _STATIC_FIRST_MATCHES


def _may_match(validator, node) -> bool:
    """False when the path or PDU class alone rules ``node`` out (NodeVisitor.match's first tests)."""
    if not _static_part_decides(validator):
        return True
    path = getattr(validator, "_path", None)
    if path is not None and path != node.path:
        return False
    path_re = getattr(validator, "_path_re", None)
    if path_re is not None and path_re.match(node.path) is None:
        return False
    pdu_class = getattr(validator, "_pdu_class", None)
    return pdu_class is None or isinstance(node.pdu, pdu_class)


def _indexed_validate_rec(self, node, results) -> None:
    """``ValidatorContainer._validate_rec``, visiting only the validators that may match; and, for
    a certificate whose fixed parts were linted before (:func:`_fixed_parts`), the results of a
    fixed subtree taken from that lint instead of running its validators again."""
    plan = _PLAN.get()
    if plan is not None and node.path in plan.fixed:
        key = (id(self), node.path)
        # The decoding container's results are taken only for a grown document, whose fixed
        # subtrees carry their decoded values already; in any other it decodes everything.
        if plan.cached is not None and (plan.grown or not self._ramis_decoding):
            cached = plan.cached.get(key)
            if cached is not None:
                results += cached
                return
        start = len(results)
        _visit(self, node, results)
        if plan.recording is not None:
            plan.recording[key] = results[start:]
        return
    _visit(self, node, results)


def _visit(self, node, results) -> None:
    key = (node.path, type(node.pdu))
    candidates = self._ramis_index.get(key)
    if candidates is None:
        if len(self._ramis_index) >= _MAX_INDEX:
            self._ramis_index.clear()
        candidates = self._ramis_index[key] = tuple(v for v in self.validators if _may_match(v, node))
    for v in candidates:
        if v.match(node):
            result = v.validate_wrapper(node)
            if isinstance(result, list):
                results += result
            else:
                results.append(result)
    for child_node in node.children.values():
        self._validate_rec(child_node, results)


def _indexed(container, decoding: bool = False):
    """Give ``container`` and every container inside it the indexed traversal (in place). The
    decoding container (pkilint's first, at the root) is marked: it always runs in full, so every
    later validator finds the same decoded tree."""
    if isinstance(container, ValidatorContainer) and not hasattr(container, "_ramis_index"):
        container._ramis_index = {}
        container._ramis_decoding = decoding
        container._validate_rec = _indexed_validate_rec.__get__(container)
        for i, v in enumerate(container.validators):
            _indexed(v, decoding or (getattr(container, "_ramis_root", False) and i == 0))
    return container


def _root(container):
    container._ramis_root = True  # its first validator is the decoding container
    return container


@functools.cache
def _pkix_cert_validator():
    return _indexed(_root(certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )))


@functools.cache
def _etsi_cert_validator(etsi_type: str):
    ctype = CertificateType[etsi_type]
    return (
        _indexed(_root(certificate.create_pkix_certificate_validator_container(etsi_decoders(ctype),
                                                                               etsi_validators(ctype)))),
        create_etsi_finding_filters(ctype),
    )


@functools.cache
def _crl_validator(crl_type: str):
    """RFC 5280 CRL validators, and the longest thisUpdate → nextUpdate pkilint knows for the
    type: 10 days for a CRL (end entities), 365 for an ARL (a root's list of CA certificates).
    pkilint's other CRL-type rule, the CA/B Forum's reason allow-list, is left out: it forbids
    certificateHold, which this CA offers."""
    try:
        kind = crl.CertificateRevocationListType[crl_type.upper()]
    except KeyError:
        raise ValueError(f"CRL type must be CRL or ARL, not {crl_type!r}") from None
    return crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container([cabf_crl.create_validity_period_validator(kind)]),
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


def warm(etsi_type: str | None) -> None:
    """Build the certificate validator tree for ``etsi_type`` (None: RFC 5280 only) now, not in the
    first lint (a signing process's start, :func:`ramis.ca.signing.prepare_process`)."""
    if etsi_type:
        _etsi_cert_validator(etsi_type)
    else:
        _pkix_cert_validator()


def _findings(results) -> list[Finding]:
    out = []
    for result in results:
        for fd in result.finding_descriptions:
            out.append(Finding(fd.finding.severity.name, fd.finding.code, fd.message, result.node.path))
    return out


def lint_certificate(der: bytes, etsi_type: str | None = None) -> list[Finding]:
    """All findings for a DER certificate (RFC 5280, plus ETSI if a type is given). A certificate
    whose fixed parts were linted before reuses those parts' results (see ``_fixed_parts``)."""
    doc, results = _linted(der, etsi_type)
    findings = _findings(results)
    if not any(entry[2] is doc.root for entry in _FIXED.values()):
        _unlinked(doc)
    return findings


def _unlinked(doc) -> None:
    """Cut a document's node tree apart once it has been linted. Every node points to its parent
    and its document, which point back, so an intact tree is freed only by the garbage collector's
    cycle search; cut, it is freed at once by reference counting. That search was about a tenth of
    an issuance's CPU (a generation-1 collection every ~17 issuances, ~2 ms each, finding the
    ~4,800 nodes of the trees since the last one)."""
    stack = [doc.root]
    doc.root = None
    while stack:
        node = stack.pop()
        children = node.__dict__.get("_children") if type(node) is _Copy else node.children
        if children:  # a copy's children never asked for were never made
            stack.extend(children.values())
        node.__dict__.pop("_source", None)
        node.children = node.parent = node.document = None


def _linted(der: bytes, etsi_type: str | None):
    """(the document as the lint left it, pkilint's results)."""
    plan, new_key = _plan_for(der, etsi_type)
    doc, grown = _document(der, plan)
    if grown:
        plan = plan._replace(grown=True)
    token, memo = _PLAN.set(plan), _MEMO.set(True)
    try:
        if etsi_type:
            validator, filters = _etsi_cert_validator(etsi_type)
            results = validator.validate(doc.root)
            results, _ = finding_filter.filter_results(filters, results)
        else:
            results = _pkix_cert_validator().validate(doc.root)
    finally:
        _PLAN.reset(token)
        _MEMO.reset(memo)
    if new_key is not None:
        _FIXED[new_key] = (plan.recording, doc.root.pdu, doc.root)
        while len(_FIXED) > _FIXED_ENTRIES:
            try:
                _FIXED.popitem(last=False)
            except KeyError:  # emptied by another thread
                break
    return doc, results


def lint_crl(der: bytes, crl_type: str = "CRL") -> list[Finding]:
    doc = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
    findings = _findings(_crl_validator(crl_type).validate(doc.root))
    _unlinked(doc)
    return findings


def lint_ocsp_response(der: bytes) -> list[Finding]:
    doc = loader.RFC6960OCSPResponseDocumentLoader().load_der_document(der, "ocsp")
    findings = _findings(_ocsp_validator().validate(doc.root))
    _unlinked(doc)
    return findings
