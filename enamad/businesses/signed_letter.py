"""The commitment letter signed with a RAMIS certificate instead of a notary (issue 14, N14).

At the physical-documents step the owner downloads the letter issued for the business (kept
byte for byte, its SHA-256 recorded: :func:`issue_letter`), signs it as PAdES B-LT (a signature
timestamp from our TSA, the OCSP answers / CRLs in the document's DSS) with a signature or seal
certificate of our CA, and uploads it. :func:`validate` checks, with pyHanko and
pyhanko-certvalidator against our root only, in this order (the first failure is the reason):

1. a PDF with exactly one signature (document timestamps may follow it);
2. the signature intact, and covering the whole file — later revisions may only add validation
   data and document timestamps;
3. the signed document is a letter we issued for this business: the issued PDF is a prefix of
   the file (its fingerprint), the signature is in the revision right after it, and that
   revision changes nothing but adding the signature (pyHanko's difference analysis);
4. the signer's certificate is one our CA issued (its SHA-256 among ours), of the signature or
   seal profile, with keyUsage nonRepudiation;
5. a signature timestamp, valid and granted by our TSA;
6. the certificate valid at the timestamp: not before notBefore, not after notAfter, not revoked
   nor on hold by then (our own records), and the path to our root validated at that moment with
   the revocation data the document carries (hard-fail: no OCSP/CRL in the file, no signature);
7. the signer is the business's owner: the owner's national code (``PNOIR-``), or for a legal
   person the company's seal (``NTRIR-`` + its national ID) or a person with signing authority
   for that company in the RAMIS registry.

:func:`signed_letter_upload` runs it: valid → the file is kept with its report and the postal
step is done (``documents_received_at``); the documents officer still accepts or refuses it.
Invalid → nothing changes; the refusal and its reason are audited and shown in Persian.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from enamad.accounts.models import Persona
from ramis.ca.models import CertificateAuthority, IssuedCertificate
from ramis.common import audit, throttle
from ramis.common.pdf import render_pdf
from ramis.registry.models import Role

from .models import Business, BusinessStatus, CommitmentLetter, SignedLetter

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "CommitmentSignature"

REASONS = {
    "unreadable": "فایل بارگذاری‌شده PDF خوانایی نیست.",
    "unsigned": "فایل امضای الکترونیکی ندارد.",
    "several": "فایل بیش از یک امضا دارد؛ تعهدنامه را فقط یک بار امضا کنید.",
    "tampered": "امضا با محتوای فایل نمی‌خواند: فایل پس از امضا دست‌کاری شده است.",
    "not_covered": "امضا همه فایل را پوشش نمی‌دهد: پس از امضا چیزی جز اطلاعات اعتبارسنجی به فایل افزوده شده است.",
    "not_our_letter": "این فایل تعهدنامه‌ای نیست که برای این کسب‌وکار صادر شده است؛ تعهدنامه همین پرونده را "
                      "از همین صفحه دریافت کنید و بی هیچ تغییری امضا کنید.",
    "modified": "متن تعهدنامه پیش از امضا یا همراه آن تغییر کرده است؛ تعهدنامه را بی هیچ تغییری امضا کنید.",
    "foreign_ca": "گواهی امضاکننده را مرجع صدور گواهی رمیس صادر نکرده است.",
    "key_usage": "گواهی امضاکننده برای امضای غیرقابل انکار (nonRepudiation) صادر نشده است.",
    "no_timestamp": "امضا مهر زمانی ندارد؛ هنگام امضا نشانی مرجع مهر زمانی رمیس را بدهید (PAdES B-LT).",
    "bad_timestamp": "مهر زمانی امضا معتبر نیست یا مرجع مهر زمانی رمیس آن را صادر نکرده است.",
    "not_yet_valid": "گواهی امضاکننده در زمان امضا هنوز معتبر نشده بود.",
    "expired": "گواهی امضاکننده در زمان امضا منقضی شده بود.",
    "revoked": "گواهی امضاکننده در زمان امضا باطل شده بود.",
    "held": "گواهی امضاکننده در زمان امضا تعلیق بود.",
    "no_revocation_info": "اطلاعات وضعیت گواهی (پاسخ OCSP یا CRL) در فایل نیست؛ امضا باید PAdES B-LT باشد.",
    "untrusted": "اعتبار گواهی امضاکننده در زمان امضا تا گواهی ریشه رمیس تأیید نشد.",
    "wrong_person": "امضاکننده مالک این کسب‌وکار نیست.",
    "wrong_person_legal": "امضاکننده نه گواهی مهر همین شرکت است و نه در سامانه رمیس حق امضا برای این شرکت دارد.",
    "internal": "بررسی امضای فایل اکنون ممکن نشد؛ کمی بعد دوباره بارگذاری کنید یا با پشتیبانی تماس بگیرید.",
    "throttled": "بارگذاری تعهدنامه امضاشده در این ساعت بیش از حد مجاز بوده است؛ ساعتی دیگر دوباره تلاش کنید.",
    "unavailable": throttle.UNAVAILABLE_MESSAGE,
    "wrong_state": "تعهدنامه امضاشده فقط در مرحله «بررسی مدارک فیزیکی» پذیرفته می‌شود.",
}


class LetterRefused(Exception):
    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(REASONS[code])

    @property
    def message(self) -> str:
        return REASONS[self.code]


@dataclass
class Validated:
    letter: CommitmentLetter
    certificate: IssuedCertificate
    signer_kind: str
    signed_at: dt.datetime
    report: dict


# --- the letter as issued ---------------------------------------------------------------------


def issue_letter(business: Business) -> CommitmentLetter:
    """The business's letter: the one issued before, or rendered now and kept byte for byte."""
    letter = business.commitment_letters.first()
    if letter is not None:
        return letter
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields

    rendered = render_pdf("enamad/pdf/commitment.html", {"business": business, "account": business.account,
                                                          "service": getattr(business, "service", None),
                                                          "issued": timezone.now()})
    # An empty (invisible) signature field in a form of its own: PAdES programs sign into it, and
    # pyHanko's difference analysis then sees the signature as that field filled, nothing else.
    writer = IncrementalPdfFileWriter(io.BytesIO(rendered))
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD))
    acroform = writer.root["/AcroForm"]
    acroform["/SigFlags"] = generic.NumberObject(3)  # SignaturesExist | AppendOnly, as signing sets them
    writer.update_container(acroform)
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    revisions = PdfFileReader(io.BytesIO(pdf)).xrefs.total_revisions
    with transaction.atomic():
        letter = CommitmentLetter(business=business, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf),
                                  revisions=revisions)
        letter.file.save(f"{business.reference}.pdf", ContentFile(pdf), save=False)
        letter.save()
        audit.record(actor=None, target=business, event="enamad.letter.issued",
                     extra={"letter": letter.pk, "sha256": letter.sha256, "size": letter.size})
    return letter


# --- validation -------------------------------------------------------------------------------


def _our_cas():
    """Our root (the only trust root) and our other CA certificates (intermediates a file may omit)."""
    from asn1crypto import x509 as a_x509

    cas = {ca.slug: a_x509.Certificate.load(bytes(ca.certificate_der)) for ca in CertificateAuthority.objects.all()}
    root = cas.pop("root", None)
    if root is None:
        raise LetterRefused("untrusted", "no root CA")
    return root, list(cas.values())


def _context(reader, cas, moment: dt.datetime | None = None, *, hard: bool = True):
    """What the document carries (its DSS) and our root as the only trust root; nothing fetched.
    ``hard``: revocation data required (the signer); else only heeded when present (our TSA, whose
    status our own records give)."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

    root, intermediates = cas
    kwargs = {"trust_roots": [root], "other_certs": intermediates, "allow_fetching": False, "revocation_mode": "hard-fail" if hard else "soft-fail"}
    if moment is not None:
        # revocation data fetched just after the timestamp speaks for the moment of signing
        kwargs.update(moment=moment, retroactive_revinfo=True)
    try:
        return DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
    except NoDSSFoundError:
        return ValidationContext(crls=[], ocsps=[], **kwargs)


def _has_revocation_info(reader) -> bool:
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return False
    return bool(dss.ocsps or dss.crls)


def _own_letter(data: bytes, business: Business, sig) -> CommitmentLetter:
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, SuspiciousModification

    for letter in business.commitment_letters.all():
        if len(data) > letter.size and hashlib.sha256(data[:letter.size]).hexdigest() == letter.sha256:
            break
    else:
        raise LetterRefused("not_our_letter")
    if sig.signed_revision != letter.revisions:
        raise LetterRefused("modified", f"signature in revision {sig.signed_revision}")
    try:
        result = DEFAULT_DIFF_POLICY.review_file(sig.reader, letter.revisions - 1)
    except Exception as exc:  # noqa: BLE001 - pyHanko's diff analysis gives up on odd structures
        raise LetterRefused("modified", f"{type(exc).__name__}: {exc}") from None
    if isinstance(result, SuspiciousModification) or result.modification_level > ModificationLevel.FORM_FILLING:
        raise LetterRefused("modified", str(result))
    return letter


def _at_the_timestamp(cert: IssuedCertificate, when: dt.datetime) -> None:
    """Our own records: valid and neither revoked nor held at ``when``."""
    if when < cert.not_before:
        raise LetterRefused("not_yet_valid")
    if when > cert.not_after:
        raise LetterRefused("expired", f"notAfter {cert.not_after.isoformat()}")
    if cert.revoked_at is not None and cert.revoked_at <= when:
        held = cert.status == IssuedCertificate.Status.ON_HOLD or cert.revocation_reason == "certificate_hold"
        raise LetterRefused("held" if held else "revoked", f"since {cert.revoked_at.isoformat()}")


def _signer_kind(cert: IssuedCertificate, business: Business) -> str:
    account = business.account
    data = cert.subject_data or {}
    P = IssuedCertificate.Profile
    if account.persona == Persona.LEGAL:
        if cert.profile == P.SEAL and data.get("legal_national_id") == account.legal_national_id:
            return SignedLetter.SignerKind.SEAL
        if cert.profile == P.SIGNATURE and account.legal_national_id and Role.objects.approved().filter(
                person__national_code=data.get("national_code"), company__national_id=account.legal_national_id,
                has_signing_authority=True).exists():
            return SignedLetter.SignerKind.SIGNATORY
        raise LetterRefused("wrong_person_legal", cert.subject)
    if cert.profile == P.SIGNATURE and data.get("national_code") == account.national_code:
        return SignedLetter.SignerKind.OWNER
    raise LetterRefused("wrong_person", cert.subject)


def validate(data: bytes, business: Business) -> Validated:
    """The checks of the module's docstring, in its order; raises :class:`LetterRefused`."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        reader = PdfFileReader(io.BytesIO(data))
        signatures = reader.embedded_regular_signatures
    except Exception:  # noqa: BLE001 - any parse error is "not a readable PDF"
        raise LetterRefused("unreadable") from None
    if not signatures:
        raise LetterRefused("unsigned")
    if len(signatures) > 1:
        raise LetterRefused("several")
    (sig,) = signatures
    cas = _our_cas()
    try:
        status = validate_pdf_signature(sig, _context(reader, cas, hard=False))
    except Exception as exc:  # noqa: BLE001 - a signature pyHanko cannot even evaluate
        raise LetterRefused("tampered", type(exc).__name__) from None
    if not (status.intact and status.valid):
        raise LetterRefused("tampered")
    later_only_validation_data = (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
                                  and status.modification_level is not None
                                  and status.modification_level <= ModificationLevel.LTA_UPDATES)
    if not (status.coverage == SignatureCoverageLevel.ENTIRE_FILE or later_only_validation_data):
        raise LetterRefused("not_covered", str(status.coverage))
    letter = _own_letter(data, business, sig)

    signer = sig.signer_cert
    cert = IssuedCertificate.objects.filter(
        sha256=hashlib.sha256(signer.dump()).hexdigest().upper(),
        profile__in=[IssuedCertificate.Profile.SIGNATURE, IssuedCertificate.Profile.SEAL]).first()
    if cert is None:
        raise LetterRefused("foreign_ca", signer.subject.human_friendly)
    if "non_repudiation" not in (signer.key_usage_value.native if signer.key_usage_value else set()):
        raise LetterRefused("key_usage")

    ts = status.timestamp_validity
    if ts is None:
        raise LetterRefused("no_timestamp")
    tsa = IssuedCertificate.objects.filter(
        profile=IssuedCertificate.Profile.TSA, sha256=hashlib.sha256(ts.signing_cert.dump()).hexdigest().upper()).first()
    if not (ts.intact and ts.valid and ts.trusted and tsa is not None):
        raise LetterRefused("bad_timestamp", str(ts.trust_problem_indic or ""))
    signed_at = ts.timestamp
    try:
        _at_the_timestamp(tsa, signed_at)
    except LetterRefused as exc:
        raise LetterRefused("bad_timestamp", f"TSA certificate: {exc.code}") from None
    _at_the_timestamp(cert, signed_at)

    if not _has_revocation_info(reader):
        raise LetterRefused("no_revocation_info")
    try:
        then = validate_pdf_signature(sig, _context(reader, cas, moment=signed_at),
                                      ts_validation_context=_context(reader, cas, hard=False))
    except Exception as exc:  # noqa: BLE001
        raise LetterRefused("untrusted", type(exc).__name__) from None
    if then.revoked:
        raise LetterRefused("revoked", "embedded revocation data")
    if not (then.intact and then.valid and then.trusted):
        raise LetterRefused("untrusted", then.pretty_print_details()[:2000])

    kind = _signer_kind(cert, business)
    report = {
        "checks": [
            "فایل PDF با یک امضا", "امضا سالم و پوشش‌دهنده کل فایل (پس از آن فقط اطلاعات اعتبارسنجی)",
            "سند امضاشده همان تعهدنامه صادرشده برای این پرونده است",
            "گواهی از مرجع صدور رمیس، با کاربرد nonRepudiation",
            "مهر زمانی معتبر از مرجع مهر زمانی رمیس",
            "گواهی در زمان امضا معتبر، نه باطل و نه تعلیق (با اطلاعات OCSP/CRL درون فایل)",
            "امضاکننده مالک کسب‌وکار است",
        ],
        "signer": signer.subject.human_friendly,
        "signer_kind": kind,
        "certificate_serial": cert.serial_hex,
        "certificate_profile": cert.profile,
        "timestamp": signed_at.isoformat(),
        "tsa": ts.signing_cert.subject.human_friendly,
        "letter_sha256": letter.sha256,
        "coverage": status.coverage.name,
        "modification_level": status.modification_level.name if status.modification_level else "",
        "document_timestamps": len(reader.embedded_timestamp_signatures),
        "validated_at": timezone.now().isoformat(),
    }
    return Validated(letter, cert, kind, signed_at, report)


# --- the service ------------------------------------------------------------------------------


def _refuse(business: Business, actor, exc: LetterRefused, data: bytes, ctx) -> None:
    with transaction.atomic():
        audit.record(actor=actor, target=business, event="enamad.letter.refused", reason=exc.message,
                     extra={"code": exc.code, "detail": exc.detail[:500], "sha256": hashlib.sha256(data).hexdigest(),
                            "size": len(data)}, ctx=ctx)


def signed_letter_upload(*, business_id: int, actor, data: bytes, ctx=None) -> SignedLetter:
    """Validate and keep a signed letter (see the module docstring); raises :class:`LetterRefused`
    after auditing the refusal, with nothing else changed."""
    business = Business.objects.select_related("account").get(pk=business_id)
    if business.account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    try:  # each validation costs: a bounded number per business and hour (not audited: nothing was checked)
        allowed = throttle.hit(f"enamad-signed-letter:{business.pk}", limit=settings.ENAMAD_SIGNED_LETTER_PER_HOUR,
                               window=3600)
    except throttle.Unavailable:  # its counters down: refused, not let through
        raise LetterRefused("unavailable") from None
    if not allowed:
        raise LetterRefused("throttled")
    try:
        if business.status != BusinessStatus.PHYSICAL_DOCUMENTS:
            raise LetterRefused("wrong_state", business.status)
        try:
            result = validate(data, business)
        except LetterRefused:
            raise
        except Exception as exc:  # a file pyHanko chokes on, a part down: a Persian refusal, never a 500
            log.exception("signed letter of business %s: validation failed unexpectedly", business.pk)
            raise LetterRefused("internal", type(exc).__name__) from None
    except LetterRefused as exc:
        _refuse(business, actor, exc, data, ctx)
        raise
    with transaction.atomic():
        business = Business.objects.select_for_update().get(pk=business_id)
        if business.status == BusinessStatus.PHYSICAL_DOCUMENTS:
            signed = SignedLetter(business=business, letter=result.letter, sha256=hashlib.sha256(data).hexdigest(),
                                  signer_kind=result.signer_kind, signer_subject=result.report["signer"][:1000],
                                  certificate_serial=result.certificate.serial_hex, signed_at=result.signed_at,
                                  report=result.report, uploaded_by=actor)
            signed.file.save(f"{business.reference}-signed.pdf", ContentFile(data), save=False)
            signed.save()
            if business.documents_received_at is None:  # the postal step is done
                business.documents_received_at = timezone.now()
                business.save(update_fields=["documents_received_at", "updated_at"])
            audit.record(actor=actor, target=business, event="enamad.letter.signed",
                         extra={"signed_letter": signed.pk, "serial": signed.certificate_serial,
                                "signer_kind": signed.signer_kind, "timestamp": result.report["timestamp"],
                                "sha256": signed.sha256}, ctx=ctx)
            return signed
    exc = LetterRefused("wrong_state", business.status)  # the file moved on while we validated
    _refuse(business, actor, exc, data, ctx)
    raise exc
