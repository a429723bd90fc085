"""The CA's write paths (STYLE 1–3): each one audited; token I/O outside transactions.

Other rooms call these and nothing else: ``certificate_issue`` with a CSR and
the verified subject data, ``certificate_revoke`` / ``certificate_hold`` /
``certificate_release`` with a serial. The CA knows nothing of requests: a
caller passes ``request_ref`` to find its certificate again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from ramis.common import audit, prepared
from ramis.common.errors import InvalidTransition
from ramis.common.transitions import transition
from tokens.conf import get_manager
from tokens.errors import KeyNotFound

from . import builder, crl, ocsp, profiles, signals, signing
from .models import CRL, CertificateAuthority, IssuedCertificate, OCSPChange, OCSPResponse, Reason
from .responder import UNISSUED_VALIDITY, unissued_cache_key

log = logging.getLogger(__name__)

ROOT_KEY_LABEL = "root-ca"
ISSUING_KEY_LABEL = "issuing-ca"
OCSP_KEY_LABEL = "ocsp-responder"
CRLS_KEPT = 10


class CAError(Exception):
    """A CA operation that cannot proceed (one English line)."""


def normalize_serial(serial: str | int) -> str:
    if isinstance(serial, int):
        return format(serial, "x")
    text = serial.strip().lower().replace(":", "").removeprefix("0x")
    try:
        return format(int(text, 16), "x")
    except ValueError:
        raise CAError(f"not a hexadecimal serial: {serial!r}") from None


# --------------------------------------------------------------------------
# ca init
# --------------------------------------------------------------------------


def _ensure_token(conf: dict):
    manager = get_manager()
    if not conf["pin"]:
        raise CAError(f"no PIN configured for token {conf['token']!r}")
    if conf["token"] not in {t.label for t in manager.list_tokens()}:
        if not manager.config.is_softhsm:
            raise CAError(f"token {conf['token']!r} not found (initialise it with the vendor's tools)")
        if not settings.CA_SO_PIN:
            raise CAError("CA_SO_PIN is needed to create a SoftHSM token")
        manager.init_token(conf["token"], settings.CA_SO_PIN, conf["pin"])
    return manager.open(label=conf["token"], pin=conf["pin"])


def _ensure_key(token, label: str, key_type: str):
    try:
        return token.private_key(label=label)
    except KeyNotFound:
        return token.generate_keypair(key_type, label=label)


def _ca_row(slug: str, parent, token, key, cert: x509.Certificate, actor) -> CertificateAuthority:
    ca = CertificateAuthority.objects.filter(slug=slug).first()
    if ca is not None:
        if bytes(ca.certificate_der) != builder.der(cert):
            raise CAError(f"CA {slug!r} in the database does not match the certificate on token {token.label!r}")
        return ca
    ca = CertificateAuthority.objects.create(
        slug=slug,
        parent=parent,
        subject=cert.subject.rfc4514_string(),
        token_label=token.label,
        token_serial=token.serial,
        key_id=key.key_id.hex(),
        key_type=builder.key_type_of(cert.public_key()),
        certificate_der=builder.der(cert),
        serial_hex=format(cert.serial_number, "x"),
        sha256=builder.fingerprint(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    audit.record(actor=actor, target=ca, event="ca.created", new="active",
                 extra={"subject": ca.subject, "sha256": ca.sha256, "token": token.label})
    return ca


def ocsp_responder_due(cert: x509.Certificate | None, now: dt.datetime | None = None) -> bool:
    """No responder certificate yet, or less than ``CA_OCSP_RESPONDER_RENEW_DAYS`` of it left."""
    margin = dt.timedelta(days=settings.CA_OCSP_RESPONDER_RENEW_DAYS)
    return cert is None or cert.not_valid_after_utc - (now or timezone.now()) < margin


def _ensure_ocsp_responder(token, issuer: builder.Signer, ca_name: str):
    """The responder's EC key on the CA's token and its certificate, certified anew when due
    (:func:`ocsp_responder_due`); the key is kept, the new certificate replaces the old one on
    the token. Token I/O only: the caller records it (:func:`_record_ocsp_responder`)."""
    key = _ensure_key(token, OCSP_KEY_LABEL, "ec-p256")
    cert = token.certificate(key.key_id)
    if ocsp_responder_due(cert):
        subject = x509.Name.from_rfc4514_string(ca_name.replace("CN=", "CN=OCSP Responder for ", 1))
        cert = builder.build_ocsp_responder(
            public_key=key.public_key(), subject=subject, issuer=issuer,
            validity_days=settings.CA_OCSP_RESPONDER_VALIDITY_DAYS,
        )
        token.import_certificate(cert, key.key_id, OCSP_KEY_LABEL)
    return key, cert


def _record_ocsp_responder(ca: CertificateAuthority, key, cert: x509.Certificate, actor) -> bool:
    """Store the responder certificate on the CA's row (in the caller's transaction); audited.
    False when the row already has it."""
    previous = bytes(ca.ocsp_certificate_der or b"")
    if previous == builder.der(cert):
        return False
    ca.ocsp_key_id = key.key_id.hex()
    ca.ocsp_certificate_der = builder.der(cert)
    ca.save(update_fields=["ocsp_key_id", "ocsp_certificate_der"])
    extra = {"sha256": builder.fingerprint(cert), "not_after": cert.not_valid_after_utc.isoformat()}
    if previous:
        extra["replaces"] = builder.fingerprint(x509.load_der_x509_certificate(previous))
    audit.record(actor=actor, target=ca, event="ca.ocsp_responder_certified", extra=extra)
    return True


def ocsp_responder_renew(*, ca_slug: str = "issuing", actor=None) -> bool:
    """Certify the CA's OCSP responder key anew when its certificate is due (the same code as
    ``ca init``), then re-sign every stored answer so none names the old certificate.

    Beat runs it daily on the signing queue (:func:`ramis.ca.tasks.ocsp_responder_renew_due`).
    Returns whether it renewed.
    """
    ca = CertificateAuthority.objects.get(slug=ca_slug)
    token = signing.open_token(ca.token_label, signing.ca_settings(ca.slug)["pin"])
    key, cert = _ensure_ocsp_responder(token, signing.signer(ca), signing.ca_settings(ca.slug)["name"])
    with transaction.atomic():
        ca = CertificateAuthority.objects.select_for_update().get(pk=ca.pk)
        renewed = _record_ocsp_responder(ca, key, cert, actor)
    if renewed:
        count = ocsp_refresh(ca_slug=ca.slug)
        log.info("renewed the OCSP responder certificate of CA %s; re-signed %d answers", ca.slug, count)
    return renewed


def ca_init(*, actor=None) -> list[CertificateAuthority]:
    """Create, if absent, the root CA and the issuing CA below it, each on its own token.

    Idempotent: keys and certificates already on the tokens are reused (the
    database rows can be rebuilt from them); the OCSP responder certificate
    is renewed when due (:func:`ocsp_responder_due`). Publishes a
    first CRL for a CA that has none.
    """
    root_conf, iss_conf = settings.CA_ROOT, settings.CA_ISSUING

    root_token = _ensure_token(root_conf)
    root_key = _ensure_key(root_token, ROOT_KEY_LABEL, root_conf["key_type"])
    root_cert = root_token.certificate(root_key.key_id)
    if root_cert is None:
        root_cert = builder.build_root_ca(
            key=root_key, subject=x509.Name.from_rfc4514_string(root_conf["name"]),
            validity_days=root_conf["validity_days"],
        )
        root_token.import_certificate(root_cert, root_key.key_id, ROOT_KEY_LABEL)
    root_signer = builder.Signer(root_cert, root_key, "root")

    iss_token = _ensure_token(iss_conf)
    iss_key = _ensure_key(iss_token, ISSUING_KEY_LABEL, iss_conf["key_type"])
    iss_cert = iss_token.certificate(iss_key.key_id)
    if iss_cert is None:
        iss_cert = builder.build_issuing_ca(
            public_key=iss_key.public_key(), subject=x509.Name.from_rfc4514_string(iss_conf["name"]),
            issuer=root_signer, urls=signing.urls("root"), validity_days=iss_conf["validity_days"],
        )
        iss_token.import_certificate(iss_cert, iss_key.key_id, ISSUING_KEY_LABEL)
    iss_signer = builder.Signer(iss_cert, iss_key, "issuing")

    ocsp_key, ocsp_cert = _ensure_ocsp_responder(iss_token, iss_signer, iss_conf["name"])

    with transaction.atomic():
        root = _ca_row("root", None, root_token, root_key, root_cert, actor)
        issuing = _ca_row("issuing", root, iss_token, iss_key, iss_cert, actor)
        _record_ocsp_responder(issuing, ocsp_key, ocsp_cert, actor)
    for ca in (root, issuing):
        if not ca.crls.exists():
            crl_publish(ca_slug=ca.slug, actor=actor)
    from . import tsa_services

    tsa_services.tsa_init(issuing=issuing, issuer=iss_signer, actor=actor)  # the TSA, when its PIN is here
    return [root, issuing]


def issuing_ca_reissue(*, actor=None) -> CertificateAuthority:
    """A new certificate for the issuing CA's key, as :func:`ca_init` builds it today (so a
    deployment made before a profile change — e.g. before the issuing CA asserted its
    certificatePolicies — gets it): same key on the same token, same subject and notAfter, a new
    serial, signed by the root (its PIN is needed). The new certificate replaces the old one on the
    token and in the database; audited (``ca.reissued``). Certificates already issued keep
    validating: their issuer name and authority key identifier are the key's, not the
    certificate's. The old certificate is not revoked (the same key, nothing to withdraw)."""
    issuing = CertificateAuthority.objects.select_related("parent").filter(slug="issuing").first()
    if issuing is None or issuing.parent is None:
        raise CAError("no issuing CA below a root: run `manage.py ca init`")
    root_pin = signing.ca_settings(issuing.parent.slug)["pin"]
    if not root_pin:
        raise CAError("the root CA's PIN (CA_ROOT_PIN) is needed to sign the issuing CA's new certificate")
    iss_pin = signing.ca_settings("issuing")["pin"]
    if not iss_pin:
        raise CAError("the issuing CA's PIN (CA_ISSUING_PIN) is needed to store its new certificate on its token")
    old = x509.load_der_x509_certificate(bytes(issuing.certificate_der))
    token = signing.open_token(issuing.token_label, iss_pin)
    key = token.private_key(id=bytes.fromhex(issuing.key_id))
    cert = builder.build_issuing_ca(
        public_key=key.public_key(), subject=old.subject, issuer=signing.signer(issuing.parent),
        urls=signing.urls(issuing.parent.slug), not_after=old.not_valid_after_utc,
    )
    token.import_certificate(cert, key.key_id, ISSUING_KEY_LABEL)
    with transaction.atomic():
        issuing = CertificateAuthority.objects.select_for_update().get(pk=issuing.pk)
        issuing.certificate_der = builder.der(cert)
        issuing.serial_hex = format(cert.serial_number, "x")
        issuing.sha256 = builder.fingerprint(cert)
        issuing.not_before = cert.not_valid_before_utc
        issuing.not_after = cert.not_valid_after_utc
        issuing.save(update_fields=["certificate_der", "serial_hex", "sha256", "not_before", "not_after"])
        audit.record(actor=actor, target=issuing, event="ca.reissued",
                     extra={"sha256": issuing.sha256, "serial": issuing.serial_hex,
                            "replaces": builder.fingerprint(old), "replaces_serial": format(old.serial_number, "x"),
                            "policies": [p.policy_identifier.dotted_string for p in
                                         cert.extensions.get_extension_for_class(x509.CertificatePolicies).value]})
    signing.clear_caches()
    return issuing


# --------------------------------------------------------------------------
# issuance
# --------------------------------------------------------------------------


def _store_ocsp(ca: CertificateAuthority, cert: IssuedCertificate, responses: dict, status: str,
                times: tuple[dt.datetime, dt.datetime] | None = None) -> None:
    """Store the answers; ``times`` (thisUpdate, nextUpdate) when the caller signed them with those,
    else read from the first answer (both have the same)."""
    prepared.insert(_ocsp_rows(ca, cert, responses, status, times), update_conflicts=_OCSP_UPSERT)


# A serial's answers replace the ones stored for its CertIDs (an "unknown" signed before it was ours).
_OCSP_UPSERT = (
    ("hash_algorithm", "issuer_key_hash", "issuer_name_hash", "serial_hex"),
    ("der", "cert_status", "this_update", "next_update", "certificate"),
)


def _ocsp_rows(ca: CertificateAuthority, cert: IssuedCertificate, responses: dict, status: str,
               times: tuple[dt.datetime, dt.datetime] | None = None) -> list[OCSPResponse]:
    rows = []
    for key, der in responses.items():
        if times is None:
            parsed = x509.ocsp.load_der_ocsp_response(der)
            times = parsed.this_update_utc, parsed.next_update_utc
        this_update, next_update = times
        rows.append(OCSPResponse(
            ca=ca, certificate=cert, hash_algorithm=key.hash, issuer_name_hash=key.issuer_name_hash.hex(),
            issuer_key_hash=key.issuer_key_hash.hex(), serial_hex=format(key.serial, "x"), cert_status=status,
            der=der, this_update=this_update, next_update=next_update,
        ))
    return rows


def _ocsp_status(cert: IssuedCertificate) -> ocsp.Status:
    S = IssuedCertificate.Status
    if cert.status in (S.REVOKED, S.ON_HOLD):
        return ocsp.Status(cert.serial, "revoked", cert.revoked_at, cert.revocation_reason or None)
    return ocsp.Status(cert.serial, "good")


def certificate_issue(
    *,
    profile: str,
    csr_pem: bytes | str,
    subject: dict[str, str],
    actor,
    request_ref: str | None = None,
    validity_days: int | None = None,
    ca_slug: str = "issuing",
) -> IssuedCertificate:
    """CSR → checked, linted, signed on the CA token → stored with pre-signed OCSP answers."""
    prof = profiles.get_profile(profile)
    ca = prepared.get_or_none(CertificateAuthority, slug=ca_slug)
    if ca is None:
        raise CAError(f"no CA {ca_slug!r}: run `manage.py ca init`")
    # Token I/O first, outside any transaction (STYLE 3).
    issued = builder.issue_from_csr(
        profile=prof, csr=csr_pem, subject=subject, issuer=signing.signer(ca), urls=signing.urls(ca.slug),
        validity_days=validity_days or settings.CA_CERT_VALIDITY_DAYS,
    )
    c = issued.cert
    responder = signing.responder(ca)
    this_update = timezone.now().replace(microsecond=0)  # the answers' times, stored without re-reading them
    responses = responder.sign_all(ocsp.Status(c.serial_number, "good"), this_update)
    cert = IssuedCertificate(
        ca=ca,
        serial_hex=format(c.serial_number, "x"),
        profile=prof.name,
        subject=c.subject.rfc4514_string(),
        subject_data=subject,
        der=builder.der(c),
        sha1=builder.fingerprint(c, hashes.SHA1()),  # noqa: S303 - a fingerprint for display, not a signature
        sha256=builder.fingerprint(c),
        not_before=c.not_valid_before_utc,
        not_after=c.not_valid_after_utc,
        request_ref=request_ref or "",
        issued_by=actor if getattr(actor, "pk", None) else None,
    )
    answers = _ocsp_rows(ca, cert, responses, "good", (this_update, this_update + responder.validity))
    entry = audit.entry(
        actor=actor, target=cert, event="certificate.issued", new=cert.status,
        extra={"serial": cert.serial_hex, "profile": prof.name, "sha256": cert.sha256,
               "request_ref": cert.request_ref,
               "lint": [str(f) for f in issued.findings if f.severity in ("WARNING", "NOTICE")]},
    )
    links = [prepared.Link(answers, "certificate", update_conflicts=_OCSP_UPSERT),
             prepared.Link([entry], "target_id", as_text=True)]
    # On PostgreSQL outside a transaction (the signing worker's case) the three rows go in one
    # statement, one round trip instead of five; otherwise one INSERT each, in a transaction.
    prepared.write_linked(cert, links)
    # an "unknown" answer someone may have asked for this serial before it was ours
    transaction.on_commit(lambda: cache.delete_many([unissued_cache_key(k) for k in responses]))
    audit.written()
    return cert


# --------------------------------------------------------------------------
# revocation, hold, release
# --------------------------------------------------------------------------


def _locked_cert(serial: str | int) -> IssuedCertificate:
    try:
        return IssuedCertificate.objects.select_for_update().get(serial_hex=normalize_serial(serial))
    except IssuedCertificate.DoesNotExist:
        raise CAError(f"no certificate with serial {serial}") from None


def _transition(cert: IssuedCertificate, name: str, event: str, actor, note: str = "", ctx=None, **kw):
    old = transition(cert, name, actor=actor, check_perm=False, kwargs=kw, save=True, event=event, reason=note,
                     extra={"serial": cert.serial_hex}, ctx=ctx)
    signals.certificate_status_changed.send(sender=IssuedCertificate, certificate=cert, event=event, old=old,
                                            new=cert.status, note=note, actor=actor, ctx=ctx)
    _forget_ocsp(cert)
    from . import tasks

    transaction.on_commit(lambda: tasks.revocation_publish.delay(cert.pk))
    return cert


def _forget_ocsp(cert: IssuedCertificate) -> None:
    """The stored answers state the old status: drop them with the change, in its transaction.

    Until the answers are re-signed (right after commit, where the CA token is), a responder
    finds none and asks the signing queue for one (:func:`ocsp_sign_unissued`): a fresh answer
    with the new status, or ``tryLater`` while the token is unavailable — never the old *good*.
    The :class:`OCSPChange` row tells every responder process to forget the answer it keeps for
    this serial, as soon as the change commits (:func:`ramis.ca.responder.poll_changes`).
    """
    keys = _cert_id_keys(cert)
    OCSPResponse.objects.filter(certificate=cert).delete()
    OCSPChange.objects.create(serial_hex=cert.serial_hex)  # every responder process forgets its copy at commit
    transaction.on_commit(lambda: cache.delete_many([unissued_cache_key(k) for k in keys]))


def _cert_id_keys(cert: IssuedCertificate) -> list[ocsp.CertIdKey]:
    issuer = x509.load_der_x509_certificate(bytes(cert.ca.certificate_der))
    serial = int(cert.serial_hex, 16)
    return [ocsp.CertIdKey(hash_name, name_hash, key_hash, serial)
            for hash_name, name_hash, key_hash in ocsp.issuer_keys(issuer)]


@transaction.atomic
def certificate_revoke(*, serial: str | int, reason: str, actor, ctx=None) -> IssuedCertificate:
    """Revoke for an RFC 5280 reason; OCSP and the CRL follow right after commit."""
    if reason not in Reason.values or reason == Reason.CERTIFICATE_HOLD:
        allowed = ", ".join(r for r in Reason.values if r != Reason.CERTIFICATE_HOLD)
        raise CAError(f"bad revocation reason {reason!r} (use one of {allowed}; hold with certificate_hold)")
    cert = _locked_cert(serial)
    return _transition(cert, "revoke", "certificate.revoked", actor, reason, ctx,
                       reason=reason, when=timezone.now())


@transaction.atomic
def certificate_hold(*, serial: str | int, actor, reason: str = "", ctx=None) -> IssuedCertificate:
    cert = _locked_cert(serial)
    return _transition(cert, "hold", "certificate.held", actor, reason, ctx, when=timezone.now())


@transaction.atomic
def certificate_release(*, serial: str | int, actor, reason: str = "", ctx=None) -> IssuedCertificate:
    cert = _locked_cert(serial)
    return _transition(cert, "release", "certificate.released", actor, reason, ctx)


@transaction.atomic
def certificate_supersede(*, serial: str | int, actor, ctx=None) -> IssuedCertificate:
    """Renewal replaced this certificate; it stays valid (and good in OCSP) until it expires."""
    cert = _locked_cert(serial)
    method = cert.supersede
    if not can_proceed(method):
        raise InvalidTransition(cert, "supersede")
    old = cert.status
    method()
    cert.save()
    audit.record(actor=actor, target=cert, event="certificate.superseded", old=old, new=cert.status,
                 extra={"serial": cert.serial_hex}, ctx=ctx)
    return cert


def certificates_expire_due(*, now: dt.datetime | None = None) -> int:
    """Mark certificates past notAfter as expired (beat), one audited transition each."""
    now = now or timezone.now()
    S = IssuedCertificate.Status
    count = 0
    for pk in IssuedCertificate.objects.filter(status__in=[S.ACTIVE, S.ON_HOLD], not_after__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            cert = IssuedCertificate.objects.select_for_update().get(pk=pk)
            if can_proceed(cert.expire):
                old = cert.status
                cert.expire()
                cert.save()
                audit.record(actor=None, target=cert, event="certificate.expired", old=old, new=cert.status)
                count += 1
    return count


# --------------------------------------------------------------------------
# CRL and OCSP publication
# --------------------------------------------------------------------------


def crl_publish(*, ca_slug: str, actor=None) -> CRL:
    """Sign and store a new CRL for the CA (number + 1).

    The number, the time and the revoked rows are taken together under the CA row's lock, so
    CRLs published at once (the signing queue's processes, beat, ``manage.py ca crl``) are
    numbered in the order of what they list: a higher number never lists less than a lower one
    (were the rows read after the lock was let go, a publication that took its number first could
    read them last). The token signs after the lock is released (STYLE 3)."""
    S = IssuedCertificate.Status
    with transaction.atomic():
        ca = CertificateAuthority.objects.select_for_update().get(slug=ca_slug)
        ca.crl_number += 1
        ca.save(update_fields=["crl_number"])
        number = ca.crl_number
        now = timezone.now().replace(microsecond=0)
        rows = IssuedCertificate.objects.filter(
            ca=ca, status__in=[S.REVOKED, S.ON_HOLD], not_after__gte=now
        ).values_list("serial_hex", "revoked_at", "revocation_reason")
        entries = [crl.RevokedEntry(int(s, 16), t, r or None) for s, t, r in rows.iterator(chunk_size=5000)]
    der = crl.build_crl(
        issuer_cert=signing.signer(ca).cert, key=signing.signer(ca).key, entries=entries, number=number,
        this_update=now, next_update=now + dt.timedelta(hours=settings.CA_CRL_NEXT_UPDATE_HOURS),
    )
    with transaction.atomic():
        row = CRL.objects.create(ca=ca, number=number, this_update=now,
                                 next_update=now + dt.timedelta(hours=settings.CA_CRL_NEXT_UPDATE_HOURS),
                                 der=der, entries=len(entries))
        old = CRL.objects.filter(ca=ca).order_by("-number").values_list("pk", flat=True)[CRLS_KEPT:]
        CRL.objects.filter(pk__in=list(old)).delete()
        audit.record(actor=actor, target=row, event="crl.published", new=str(number),
                     extra={"ca": ca.slug, "entries": len(entries)})
    return row


def ocsp_refresh(
    *,
    ca_slug: str = "issuing",
    certificate_ids: list[int] | None = None,
    due_before: dt.datetime | None = None,
) -> int:
    """Re-sign the stored OCSP answers (all, some certificates, or those expiring soon).

    "All" is every certificate that has not expired, or expired less than
    ``CA_OCSP_AFTER_EXPIRY_DAYS`` ago: a relying party checking a signature made while the
    certificate was valid still gets a fresh answer for that long (RFC 6960 §4.4.4, archive
    cutoff; see the README). After that its last answer is left to lapse at its nextUpdate.
    """
    ca = CertificateAuthority.objects.get(slug=ca_slug)
    responder = signing.responder(ca)
    kept_since = timezone.now() - dt.timedelta(days=settings.CA_OCSP_AFTER_EXPIRY_DAYS)
    qs = IssuedCertificate.objects.filter(ca=ca, not_after__gte=kept_since)
    if certificate_ids is not None:
        qs = IssuedCertificate.objects.filter(ca=ca, pk__in=certificate_ids)
    elif due_before is not None:
        qs = qs.filter(Q(ocsp_responses__isnull=True) | Q(ocsp_responses__next_update__lt=due_before)).distinct()
    count = 0
    batch: list[tuple[IssuedCertificate, dict, ocsp.Status]] = []
    for cert in qs.iterator(chunk_size=500):
        status = _ocsp_status(cert)
        batch.append((cert, responder.sign_all(status), status))
        if len(batch) >= 500:
            count += _flush(ca, batch)
    count += _flush(ca, batch)
    return count


def _flush(ca, batch) -> int:
    """Store the answers signed for ``batch`` — only those whose certificate still has the status
    they state. The rows are locked first, as a revocation, hold or release locks its row: one
    that committed while these were signed (and dropped the stored answers, see
    :func:`_forget_ocsp`) is seen here and its answers are left to its own re-signing, never
    overwritten with the old status."""
    stored = 0
    with transaction.atomic():
        current = {c.pk: c for c in IssuedCertificate.objects.select_for_update().filter(
            pk__in=[cert.pk for cert, _, _ in batch])}
        for cert, responses, status in batch:
            now = current.get(cert.pk)
            if now is None or _ocsp_status(now) != status:
                log.info("OCSP answers of serial %s not stored: its status changed while they were signed",
                         cert.serial_hex)
                continue
            _store_ocsp(ca, cert, responses, status.status)
            stored += 1
    batch.clear()
    return stored


def ocsp_sign_unissued(*, ca_slug: str, hash_name: str, serial: int) -> bytes | None:
    """Sign an ``unknown`` answer for a serial of ``ca_slug`` that no certificate has.

    Runs where the CA token is (the ``signing`` queue). The answer goes to the
    shared cache, where the responders look for it (see :mod:`.responder`);
    it is valid for :data:`UNISSUED_VALIDITY` minutes. If the serial is in fact
    ours, its stored answers were dropped by a revocation, hold or release not
    yet re-signed: they are signed now, with its current status
    (:func:`_sign_missing`), or, if another process already re-signed them, the
    stored one is handed over. Returns None if the hash algorithm is not one we
    answer, or the certificate's status changed under it.
    """
    if hash_name not in ocsp.HASHES:
        return None
    ca = CertificateAuthority.objects.get(slug=ca_slug)
    cert = IssuedCertificate.objects.filter(ca=ca, serial_hex=normalize_serial(serial)).first()
    if cert is not None:
        return _sign_missing(ca, cert, hash_name)
    resp = signing.responder(ca)
    minutes = UNISSUED_VALIDITY
    unknown = dataclasses.replace(resp, validity=dt.timedelta(minutes=minutes))
    der = unknown.sign(ocsp.Status(serial, "unknown"), hash_name)
    cache.set(unissued_cache_key(resp.key(serial, hash_name)), der, timeout=minutes * 60 - 60)
    log.info("signed an OCSP 'unknown' answer for serial %x of CA %s", serial, ca_slug)
    return der


def _sign_missing(ca: CertificateAuthority, cert: IssuedCertificate, hash_name: str) -> bytes | None:
    """A certificate of ours whose stored answers were dropped by a status change not yet
    re-signed (see :func:`_forget_ocsp`): sign and store its answers now, with its status as
    committed — unless another process (the change's own re-signing, the beat) stored them
    meanwhile — and hand the responder waiting on the shared cache the one it asks for. None if
    there is none, or if the certificate's status changed since that answer was signed (the
    change's own re-signing answers then; never a stale answer in the cache)."""
    if not OCSPResponse.objects.filter(certificate=cert).exists():
        ocsp_refresh(ca_slug=ca.slug, certificate_ids=[cert.pk])
    row = OCSPResponse.objects.filter(certificate=cert, hash_algorithm=hash_name).first()
    if row is None:  # its status changed again meanwhile; the next change re-signs
        return None
    der = bytes(row.der)
    key = signing.responder(ca).key(int(cert.serial_hex, 16), hash_name)
    current = IssuedCertificate.objects.get(pk=cert.pk)
    if _ocsp_status(current).status != row.cert_status:  # a status change committed after that answer was signed
        return None
    cache.set(unissued_cache_key(key), der, timeout=max(60, int((row.next_update - timezone.now()).total_seconds())))
    log.info("handed over the OCSP answer of serial %s (%s), signed on demand", cert.serial_hex, row.cert_status)
    return der
