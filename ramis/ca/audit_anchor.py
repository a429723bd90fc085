"""Checkpoints of the audit trail signed on a token: the trail's anchor (issue 12).

A checkpoint is the sealed chain's length and head hash, as a small JSON document signed
with ECDSA P-256 / SHA-256 by the audit key, which is generated on its own token
(``AUDIT_TOKEN``) and never leaves it. Checkpoints are stored (``AuditCheckpoint``) and
exported as files (``manage.py audit checkpoint --out``, ``audit export-checkpoints``) so
a copy lives off the machine, where ``openssl dgst -sha256 -verify`` checks them.

``audit verify`` (:func:`verify`) walks the chain against every stored (and any exported)
checkpoint: deleting the newest entries (truncation) or rewriting an entry with every later
hash recomputed cannot match a signed head without the token. Making a checkpoint needs the
audit PIN, so it runs where the PINs are: the signing queue (beat) and ``manage.py``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ramis.common import audit
from tokens.conf import get_manager

from .models import AuditCheckpoint, AuditKey

PAYLOAD_TYPE = "ramis-audit-checkpoint"
KEY_TYPE = "ec-p256"


class AuditAnchorError(Exception):
    """A checkpoint operation that cannot proceed (one English line)."""


def key_sha256(public_key) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _need_pin() -> str:
    if not settings.AUDIT_PIN:
        raise AuditAnchorError("no AUDIT_PIN configured: checkpoints are signed where the audit token's PIN is "
                               "(the signing worker, manage.py)")
    return settings.AUDIT_PIN


def key_ensure(*, actor=None) -> tuple[AuditKey, bool]:
    """Create, if absent, the audit token (SoftHSM only) and its checkpoint key; record the key.
    Idempotent. Returns (key, created)."""
    from .services import CAError, _ensure_key, _ensure_token

    conf = {"token": settings.AUDIT_TOKEN, "pin": _need_pin()}
    try:
        token = _ensure_token(conf)
    except CAError as exc:
        raise AuditAnchorError(str(exc)) from None
    key = _ensure_key(token, settings.AUDIT_KEY_LABEL, KEY_TYPE)
    if not isinstance(key.public_key(), ec.EllipticCurvePublicKey):
        raise AuditAnchorError(f"key {settings.AUDIT_KEY_LABEL!r} on token {token.label!r} is not an EC key")
    fingerprint = key_sha256(key.public_key())
    with transaction.atomic():
        row = AuditKey.objects.select_for_update().filter(sha256=fingerprint).first()
        if row:
            return row, False
        row = AuditKey.objects.create(
            token_label=token.label, token_serial=token.serial, key_label=settings.AUDIT_KEY_LABEL,
            key_id=key.key_id.hex(), sha256=fingerprint,
            public_key_der=key.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo),
        )
        audit.record(actor=actor, target=row, event="audit.key_created",
                     extra={"token": token.label, "key": settings.AUDIT_KEY_LABEL, "sha256": fingerprint})
    return row, True


@functools.lru_cache(maxsize=4)
def _token_key(token_label: str, pin: str, key_label: str):
    token = get_manager().open(label=token_label, pin=pin)
    return token.private_key(label=key_label)


def clear_caches() -> None:
    _token_key.cache_clear()


def _signing_key():
    """(private key on the token, its AuditKey row)."""
    key = _token_key(settings.AUDIT_TOKEN, _need_pin(), settings.AUDIT_KEY_LABEL)
    row = AuditKey.objects.filter(sha256=key_sha256(key.public_key())).first()
    if row is None:
        raise AuditAnchorError("the audit key on the token is not recorded: run `manage.py audit init-key`")
    return key, row


def payload_bytes(*, length: int, head: str, at: str, key: str) -> bytes:
    """The exact bytes signed (and exported): canonical JSON, one line, a newline at the end."""
    doc = {"type": PAYLOAD_TYPE, "version": 1, "length": length, "head": head, "at": at, "key": key}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode() + b"\n"


@dataclasses.dataclass(frozen=True)
class Anchor:
    """What a valid signed checkpoint says."""

    length: int
    head: str
    at: str
    key: str


def check_signed(payload: bytes, signature: bytes, public_key_der: bytes) -> Anchor:
    """Verify one checkpoint's signature and fields; raise AuditAnchorError if it is not valid."""
    public_key = serialization.load_der_public_key(public_key_der)
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise AuditAnchorError("the audit key is not an EC key")
    try:
        public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AuditAnchorError("bad signature") from None
    try:
        doc = json.loads(payload)
        anchor = Anchor(length=int(doc["length"]), head=str(doc["head"]), at=str(doc["at"]), key=str(doc["key"]))
    except (ValueError, KeyError, TypeError):
        raise AuditAnchorError("not a checkpoint document") from None
    if doc.get("type") != PAYLOAD_TYPE:
        raise AuditAnchorError("not a checkpoint document")
    if anchor.key != key_sha256(public_key):
        raise AuditAnchorError("signed by another key than the one it names")
    trusted = settings.AUDIT_KEY_SHA256
    if trusted and anchor.key not in trusted:
        raise AuditAnchorError(f"signed by key {anchor.key[:16]}…, which AUDIT_KEY_SHA256 does not list")
    return anchor


def checkpoint_create(*, only_if_changed: bool = False) -> AuditCheckpoint | None:
    """Seal, check the part of the chain since the latest checkpoint, sign its length and head.

    Refuses (AuditAnchorError) when that part is broken: a checkpoint never vouches for a
    tampered trail. ``only_if_changed`` (beat): nothing new since the latest one, no checkpoint.
    """
    key, key_row = _signing_key()
    audit.seal(wait=True)
    last = AuditCheckpoint.objects.select_related("key").first()
    start = (0, audit.GENESIS)
    if last is not None:
        try:
            start = (check_signed(last.payload.encode(), bytes(last.signature),
                                  bytes(last.key.public_key_der)).length, last.head_hash)
        except AuditAnchorError as exc:
            raise AuditAnchorError(f"the latest stored checkpoint is not valid ({exc}): run `audit verify`") from None
    length, head = audit.chain_head()
    if last is not None and only_if_changed and length == last.length and head == last.head_hash:
        return None
    report = audit.check_chain(seal_first=False, start=start)
    problems = list(report.problems)
    if length < start[0]:
        problems.insert(0, f"the chain has {length} entries, fewer than the {start[0]} of the latest checkpoint")
    elif start[0] and not report.checked and head != start[1]:
        problems.insert(0, f"entry {start[0]} no longer has the hash of the latest checkpoint")
    if problems:
        raise AuditAnchorError(f"audit trail broken since the latest checkpoint, nothing signed: {problems[0]}")
    at = timezone.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    payload = payload_bytes(length=length, head=head, at=at, key=key_row.sha256)
    signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))  # on the token, outside any transaction
    check_signed(payload, signature, bytes(key_row.public_key_der))
    return AuditCheckpoint.objects.create(key=key_row, length=length, head_hash=head, payload=payload.decode(),
                                          signature=signature)


@dataclasses.dataclass
class Verification:
    report: audit.ChainReport
    checkpoints: int  # valid signed checkpoints used
    latest: Anchor | None
    keys: list[str] = dataclasses.field(default_factory=list)  # fingerprints of the keys that signed them

    @property
    def uncovered(self) -> int:
        """Sealed entries after the latest checkpoint (not yet vouched for by a signature)."""
        return self.report.length - (self.latest.length if self.latest else 0)


def verify(*, seal_first: bool = True, exported: list[tuple[bytes, bytes, bytes]] = ()) -> Verification:
    """Check the chain against every stored checkpoint and the ``exported`` ones
    ((payload, signature, public key DER) each, e.g. copies kept off the machine)."""
    problems: list[str] = []
    anchors: dict[int, Anchor] = {}

    def take(anchor: Anchor, what: str) -> None:
        seen = anchors.get(anchor.length)
        if seen is not None and seen.head != anchor.head:
            problems.append(f"{what}: two signed checkpoints disagree on the head of length {anchor.length}")
        anchors[anchor.length] = anchor

    for cp in AuditCheckpoint.objects.select_related("key").order_by("length", "id").iterator():
        try:
            anchor = check_signed(cp.payload.encode(), bytes(cp.signature), bytes(cp.key.public_key_der))
        except AuditAnchorError as exc:
            problems.append(f"checkpoint {cp.pk}: {exc} (the checkpoint table was tampered with)")
            continue
        if (anchor.length, anchor.head) != (cp.length, cp.head_hash):
            problems.append(f"checkpoint {cp.pk}: its columns differ from what was signed")
        take(anchor, f"checkpoint {cp.pk}")
    for i, (payload, signature, key_der) in enumerate(exported, 1):
        try:
            take(check_signed(payload, signature, key_der), f"exported checkpoint {i}")
        except AuditAnchorError as exc:
            problems.append(f"exported checkpoint {i}: {exc}")
    report = audit.check_chain(seal_first=seal_first, anchors={a.length: a.head for a in anchors.values()})
    report.problems[:0] = problems
    latest = anchors[max(anchors)] if anchors else None
    keys = sorted({a.key for a in anchors.values()})
    return Verification(report=report, checkpoints=len(anchors), latest=latest, keys=keys)


# --------------------------------------------------------------------------
# Files for an auditor
# --------------------------------------------------------------------------


def public_key_pem(key: AuditKey) -> bytes:
    return serialization.load_der_public_key(bytes(key.public_key_der)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def export(cp: AuditCheckpoint, directory: Path) -> list[Path]:
    """Write ``checkpoint-<length>-<id>.json`` (the signed bytes), ``.sig`` (DER ECDSA) and the
    key as ``audit-key-<sha256 prefix>.pem``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"checkpoint-{cp.length:010d}-{cp.pk}"
    files = {
        stem.with_suffix(".json"): cp.payload.encode(),
        stem.with_suffix(".sig"): bytes(cp.signature),
        directory / f"audit-key-{cp.key.sha256[:16]}.pem": public_key_pem(cp.key),
    }
    for path, data in files.items():
        path.write_bytes(data)
    return list(files)


def load_exported(json_path: Path, sig_path: Path | None = None, key_path: Path | None = None
                  ) -> tuple[bytes, bytes, bytes]:
    """Read an exported checkpoint (the .sig and the key PEM found beside it unless given)."""
    payload = json_path.read_bytes()
    signature = (sig_path or json_path.with_suffix(".sig")).read_bytes()
    if key_path is None:
        try:
            fingerprint = str(json.loads(payload)["key"])
        except (ValueError, KeyError, TypeError):
            raise AuditAnchorError(f"{json_path}: not a checkpoint document") from None
        key_path = json_path.parent / f"audit-key-{fingerprint[:16]}.pem"
    try:
        key = serialization.load_pem_public_key(key_path.read_bytes())
    except ValueError:
        raise AuditAnchorError(f"{key_path}: not a PEM public key") from None
    return payload, signature, key.public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
