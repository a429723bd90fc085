"""PKCS#11 tokens: discovery, login, key generation on the token, certificates.

Facts measured on python-pkcs11 0.10 + SoftHSM 2.6 that shape this module:

* Concurrent PKCS#11 calls from several threads of one process crash
  (segfault) — so **every** call (session open, find, sign, keygen, attribute
  reads, destroy) runs under one process-wide lock, :data:`_state.lock`.
  Throughput comes from more processes, not threads.
* Login state belongs to the process: a second ``C_Login`` raises
  ``UserAlreadyLoggedIn`` and ``Session.close()`` logs out *every* session of
  the process. So each process keeps **one** long-lived logged-in session per
  token (a cache keyed by module and token serial) and never closes it.
* A child of ``fork()`` must not reuse the parent's sessions: an
  ``os.register_at_fork`` hook drops the cache and makes the next call run
  ``C_Finalize``/``C_Initialize`` in the child.
* SoftHSM only sees tokens created by another process (``softhsm2-util``, a
  token agent) after ``C_Finalize``/``C_Initialize``, which also invalidates
  every session: the cache keeps the PINs so that sessions are re-opened
  transparently, and a token looked up and not found triggers one rescan.
* Tokens are initialised in-process with ``C_InitToken`` through ctypes on the
  same loaded module (:mod:`tokens.ckinit`) and ``C_InitPIN`` as the SO: no
  vendor tool, no PIN on a command line.
* SoftHSM rewrites a token's ``token.object`` on **every successful C_Login**
  (the token flags), truncating it before it writes; another process that reads
  it meanwhile (its C_Initialize scan, C_GetTokenInfo, its own login) sees no
  token (``NoSuchToken``) or ``CKR_GENERAL_ERROR``. Measured: 8 processes
  started together, each opening the token, failed ~3 in 8 every round. So every
  call that reads or writes SoftHSM's token store outside a signature (loading,
  re-initialising, lookup, login, token and object creation) also holds an
  exclusive lock on ``<token dir>.lock`` shared by the processes
  (:func:`store_locked`), and a token looked up and not found is rescanned a
  few times with a growing pause (another program, ``softhsm2-util`` or
  ``pkcs11-tool``, does not take our lock).

Nothing here imports Django: the Django app wraps it.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
import pkcs11.exceptions as p11e
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, CertificateType, KeyType, MechanismFlag, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

from . import errors
from .config import TokenConfig, apply
from .errors import (
    KeyNotFound,
    ModuleLoadError,
    OperationNotAllowed,
    TokenError,
    TokenExists,
    TokenNotFound,
    TokenRemoved,
    UnsupportedKeyType,
    WrongPin,
)
from .process import (  # noqa: F401  (_state, FIND_RETRY_PAUSES: used by tests and callers)
    _STALE,
    FIND_RETRY_PAUSES,
    _CachedSession,
    _invalidate_all,
    _state,
    locked,
    mapped,
    store_locked,
)

# --------------------------------------------------------------------------
# Key types (data, not branches spread around)
# --------------------------------------------------------------------------

P256_OID = "1.2.840.10045.3.1.7"
_CURVES_BY_OID: dict[str, type[ec.EllipticCurve]] = {
    P256_OID: ec.SECP256R1,
    "1.3.132.0.34": ec.SECP384R1,
}


@dataclass(frozen=True)
class KeySpec:
    name: str
    key_type: KeyType
    bits: int | None = None
    curve_oid: str | None = None


KEY_TYPES: dict[str, KeySpec] = {
    "rsa2048": KeySpec("rsa2048", KeyType.RSA, bits=2048),
    "rsa3072": KeySpec("rsa3072", KeyType.RSA, bits=3072),
    "ec-p256": KeySpec("ec-p256", KeyType.EC, curve_oid=P256_OID),
}


def key_type_name(public_key: Any) -> str:
    """``rsa2048`` / ``rsa3072`` / ``ec-p256`` for a cryptography public key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ec-p256", "secp384r1": "ec-p384"}.get(
            public_key.curve.name, f"ec-{public_key.curve.name}"
        )
    return type(public_key).__name__


# --------------------------------------------------------------------------
# Plain data returned to callers (never secrets)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    label: str
    serial: str
    manufacturer: str
    model: str
    slot_id: int
    flags: int

    @property
    def pin_count_low(self) -> bool:
        return bool(self.flags & pkcs11.TokenFlag.USER_PIN_COUNT_LOW)

    @property
    def pin_locked(self) -> bool:
        return bool(self.flags & pkcs11.TokenFlag.USER_PIN_LOCKED)


@dataclass(frozen=True)
class ObjectInfo:
    object_class: str  # "private-key" | "public-key" | "certificate" | other
    label: str
    id: str  # hex
    key_type: str | None = None  # rsa2048 / ec-p256 / ...
    subject: str | None = None  # certificates
    serial: str | None = None  # certificates, hex


_CLASS_NAMES = {
    ObjectClass.PRIVATE_KEY: "private-key",
    ObjectClass.PUBLIC_KEY: "public-key",
    ObjectClass.CERTIFICATE: "certificate",
    ObjectClass.SECRET_KEY: "secret-key",
    ObjectClass.DATA: "data",
}

KEY_ATTRIBUTES = (
    "TOKEN",
    "PRIVATE",
    "SENSITIVE",
    "EXTRACTABLE",
    "ALWAYS_SENSITIVE",
    "NEVER_EXTRACTABLE",
    "SIGN",
    "DECRYPT",
    "UNWRAP",
    "DERIVE",
    "LOCAL",
)


# --------------------------------------------------------------------------
# Manager: module, token discovery, token creation
# --------------------------------------------------------------------------


class TokenManager:
    """Entry point: one per PKCS#11 module configuration (cheap to create)."""

    def __init__(self, config: TokenConfig | None = None):
        self.config = config or TokenConfig()

    # -- module ----------------------------------------------------------
    @property
    def module(self) -> str:
        return self.config.module

    def lib(self) -> Any:
        """The loaded module (loads it on first use; re-initialises after fork)."""
        with store_locked(self.config):
            lib = _state.libs.get(self.module)
            if lib is None:
                if not os.path.isfile(self.module):
                    raise ModuleLoadError(f"cannot load the PKCS#11 module: no file {self.module}")
                apply(self.config)
                try:
                    lib = pkcs11.lib(self.module)
                except p11e.PKCS11Error as exc:
                    raise ModuleLoadError(
                        f"cannot load the PKCS#11 module {self.module}: {str(exc).strip()}"
                    ) from exc
                _state.libs[self.module] = lib
                _state.confs[self.module] = self._conf()
            elif _state.confs.get(self.module) != self._conf():
                # SoftHSM reads its configuration once per process.
                raise ModuleLoadError(
                    f"cannot load the PKCS#11 module {self.module} with {self._conf()}: "
                    f"this process already uses {_state.confs.get(self.module)}"
                )
            elif self.module in _state.needs_reinit:
                _state.needs_reinit.discard(self.module)
                with mapped("re-initialise after fork"):
                    lib.reinitialize()
            return lib

    def _conf(self) -> str | None:
        conf = self.config.softhsm_conf
        return str(Path(conf).resolve()) if conf is not None else None

    def _reinitialize(self) -> None:
        """C_Finalize + C_Initialize: SoftHSM rescans its token directory."""
        with store_locked(self.config):
            lib = self.lib()
            _invalidate_all(self.module)
            with mapped("re-initialise"):
                lib.reinitialize()

    # -- discovery -------------------------------------------------------
    def _find(self, *, label: str | None = None, serial: str | None = None) -> Any:
        if not label and not serial:
            raise TokenNotFound("no such token: give a label or a serial")
        lib = self.lib()
        kwargs: dict[str, Any] = {}
        if label:
            kwargs["token_label"] = label
        if serial:
            kwargs["token_serial"] = serial.encode()
        what = f"label={label!r}" if label else f"serial={serial!r}"
        pauses = FIND_RETRY_PAUSES if self.config.is_softhsm else ()
        for attempt in range(len(pauses) + 1):
            last = attempt == len(pauses)
            if attempt:
                time.sleep(pauses[attempt - 1])  # let the writer finish (the store lock is free unless a caller holds it)
            with store_locked(self.config):
                if attempt:
                    self._reinitialize()  # SoftHSM: created by another process since, or read mid-write
                    lib = self.lib()
                try:
                    return lib.get_token(**kwargs)
                except p11e.NoSuchToken:
                    if last:
                        raise TokenNotFound(f"no such token: {what}") from None
                except p11e.MultipleTokensReturned:
                    raise TokenNotFound(f"several tokens match {what}; use the serial") from None
                except p11e.GeneralError as exc:
                    # SoftHSM answers CKR_GENERAL_ERROR for every token once
                    # one token's directory vanished (measured); re-initialising
                    # rescans the directory and the others work again.
                    if last or not self.config.is_softhsm:
                        raise TokenRemoved(f"token removed or session invalid: {what}") from exc
                except p11e.PKCS11Error as exc:
                    raise errors.translate(exc, f"find token {what}") from exc
        raise AssertionError("unreachable")

    def list_tokens(self) -> list[TokenInfo]:
        """Initialised tokens (SoftHSM's empty "free" slot is left out)."""
        with store_locked(self.config):
            try:
                return self._list_tokens()
            except p11e.GeneralError:
                self._reinitialize()  # a token vanished: rescan (see _find)
                with mapped("list tokens"):
                    return self._list_tokens()
            except p11e.PKCS11Error as exc:
                raise errors.translate(exc, "list tokens") from exc

    def _list_tokens(self) -> list[TokenInfo]:
        out = []
        for slot in self.lib().get_slots(token_present=True):
            tok = slot.get_token()
            if not tok.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED:
                continue
            out.append(
                TokenInfo(
                    label=tok.label,
                    serial=tok.serial.decode(errors="replace").strip(),
                    manufacturer=tok.manufacturer_id,
                    model=tok.model,
                    slot_id=slot.slot_id,
                    flags=int(tok.flags),
                )
            )
        return out

    def token_info(self, *, label: str | None = None, serial: str | None = None) -> TokenInfo:
        tok = self._find(label=label, serial=serial)
        for info in self.list_tokens():
            if info.serial == tok.serial.decode().strip():
                return info
        raise TokenNotFound(f"no such token: {label or serial}")

    # -- creation (any module) -------------------------------------------
    def init_token(self, label: str, so_pin: str, user_pin: str, *, serial: str | None = None,
                   new_so_pin: str | None = None) -> TokenInfo:
        """Initialise a token: ``C_InitToken`` with the SO PIN and ``label``, then ``C_InitPIN``
        as the SO with the user PIN. Works with any PKCS#11 module (:mod:`tokens.ckinit`).

        Without ``serial`` the first present token that is not initialised is used — a token
        fresh from the factory, or SoftHSM's free slot. With ``serial`` that token is
        re-initialised (its SO PIN must match; **every object on it is destroyed**). The PINs
        are used and forgotten.

        ``new_so_pin`` then replaces the SO PIN (``C_SetPIN`` as the SO): a token its vendor
        initialised with a default SO PIN gets the office's. A wrong ``so_pin`` changes nothing
        (``C_InitToken`` refuses before wiping: :class:`~tokens.errors.WrongPin`).
        """
        from . import ckinit

        ckinit.label_bytes(label)  # 1 to 32 bytes, or TokenError
        for pin, what in ((so_pin, "SO PIN"), (user_pin, "user PIN"), (new_so_pin or so_pin, "new SO PIN")):
            if not 4 <= len(pin) <= 255:
                raise WrongPin(f"wrong PIN: the {what} must be 4 to 255 characters")
        with store_locked(self.config):
            self.lib()  # loads the module (and writes SOFTHSM2_CONF)
            if any(t.label == label and t.serial != serial for t in self.list_tokens()):
                raise TokenExists(f"a token with label {label!r} already exists")
            slot = self._slot_to_initialise(serial)
            if serial:
                # C_InitToken refuses a token with open sessions (CKR_SESSION_EXISTS).
                Token(self, serial=serial, label=label, pin="").logout()
                _state.generation += 1
            ckinit.init_token(self.module, slot.slot_id, so_pin, label)
            with mapped(f"set the user PIN of token {label!r} (as SO)"):
                tok = slot.get_token()
                session = tok.open(rw=True, so_pin=so_pin)
                try:
                    session.init_pin(user_pin)
                    if new_so_pin and new_so_pin != so_pin:
                        session.set_pin(so_pin, new_so_pin)
                finally:
                    session.close()
            new_serial = tok.serial.decode(errors="replace").strip()
        return self.token_info(serial=new_serial)

    def _slot_to_initialise(self, serial: str | None) -> Any:
        with mapped("list slots"):
            slots = [(s, s.get_token()) for s in self.lib().get_slots(token_present=True)]
        for slot, tok in slots:
            if serial:
                if tok.serial.decode(errors="replace").strip() == serial:
                    return slot
            elif not tok.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED:
                return slot
        if serial:
            raise TokenNotFound(f"no such token: serial={serial!r}")
        raise TokenNotFound("no such token: no uninitialised token is present (plug in a new token, "
                            "or give the serial of one to re-initialise)",
                            message_fa="توکن نوِ راه‌اندازی‌نشده‌ای وصل نیست؛ توکن نو را وصل کنید.")

    def rescan(self) -> None:
        """See tokens created by other processes: SoftHSM reads its token directory only at
        C_Initialize, so it is re-initialised (cached sessions re-open with their PINs);
        other modules report slots live, so this does nothing."""
        if self.config.is_softhsm:
            self._reinitialize()

    # -- opening -----------------------------------------------------------
    def open(self, *, label: str | None = None, serial: str | None = None, pin: str) -> Token:
        """Log in (once per process) and return a :class:`Token` handle."""
        tok = self._find(label=label, serial=serial)
        token = Token(self, serial=tok.serial.decode().strip(), label=tok.label, pin=pin)
        token.session()  # logs in now so that a wrong PIN fails here
        return token


# --------------------------------------------------------------------------
# Token: one logged-in token of this process
# --------------------------------------------------------------------------


class Token:
    """A logged-in token. Cheap; the session itself is cached per process."""

    def __init__(self, manager: TokenManager, *, serial: str, label: str, pin: str):
        self.manager = manager
        self.serial = serial
        self.label = label
        self._pin = pin.encode()
        self._was_open = False

    def __repr__(self) -> str:
        return f"<Token label={self.label!r} serial={self.serial}>"

    @property
    def _key(self) -> tuple[str, str]:
        return (self.manager.module, self.serial)

    # -- session -----------------------------------------------------------
    def session(self) -> Any:
        """The process's logged-in R/W session on this token (opened once)."""
        with locked():
            cached = _state.sessions.get(self._key)
            if cached is not None and cached.generation == _state.generation:
                if not hmac.compare_digest(cached.pin, self._pin):
                    raise WrongPin(f"wrong PIN for token {self.label!r}")
                return cached.session
        with store_locked(self.manager.config):  # C_Login rewrites SoftHSM's token.object
            self.manager.lib()  # re-initialises after a fork
            cached = _state.sessions.get(self._key)
            if cached is not None and cached.generation == _state.generation:
                if not hmac.compare_digest(cached.pin, self._pin):
                    # The token accepted cached.pin; we cannot re-check another
                    # PIN without logging the whole process out.
                    raise WrongPin(f"wrong PIN for token {self.label!r}")
                return cached.session
            try:
                tok = self.manager._find(serial=self.serial)
            except TokenNotFound:
                if self._was_open:
                    raise TokenRemoved(f"token removed or session invalid: {self.label!r}") from None
                raise
            with mapped(f"log in to token {self.label!r}"):
                try:
                    session = tok.open(rw=True, user_pin=self._pin.decode())
                except p11e.UserAlreadyLoggedIn:
                    # Logged in by code outside this cache: the state is per
                    # process, so a plain session is logged in too.
                    session = tok.open(rw=True)
                except (p11e.PinIncorrect, p11e.PinLocked, p11e.PinLenRange, p11e.PinInvalid):
                    if cached is None or cached.generation != _state.generation:
                        # No live session of ours on this token: close the one Token.open leaked.
                        from . import ckinit

                        ckinit.close_all_sessions(self.manager.module, tok.slot.slot_id)
                    raise
            _state.sessions[self._key] = _CachedSession(session, self._pin, _state.generation)
            self._was_open = True
            return session

    def drop_session(self) -> None:
        """Forget the cached session (after a token went away)."""
        with locked():
            _state.sessions.pop(self._key, None)
            _state.generation += 1

    def call(self, what: str, fn: Any) -> Any:
        """Run ``fn(session)`` under the lock; retry once on a stale session."""
        with locked():
            with mapped(what):
                try:
                    return fn(self.session())
                except _STALE:
                    pass
            self.drop_session()
            with mapped(what):
                return fn(self.session())

    # -- lookups -------------------------------------------------------------
    def _objects(self, session: Any, **attrs: Any) -> list[Any]:
        return list(session.get_objects(attrs))

    def _private_object(self, session: Any, *, id: bytes | None = None, label: str | None = None) -> Any:
        attrs: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        if id is not None:
            attrs[Attribute.ID] = id
        if label is not None:
            attrs[Attribute.LABEL] = label
        found = list(session.get_objects(attrs))
        if not found:
            what = f"id={id.hex()}" if id is not None else f"label={label!r}"
            raise KeyNotFound(f"no such key on token {self.label!r}: {what}")
        if len(found) > 1:
            raise KeyNotFound(f"several keys match on token {self.label!r}; use the id")
        return found[0]

    def _find_one(self, session: Any, object_class: ObjectClass, id: bytes) -> Any | None:
        found = list(session.get_objects({Attribute.CLASS: object_class, Attribute.ID: id}))
        return found[0] if found else None

    # -- key generation ----------------------------------------------------------
    def generate_keypair(self, key_type: str, label: str, id: bytes | None = None) -> Any:
        """Generate a key pair **on the token** and return its private-key wrapper.

        The private key is a token object, private, sensitive, never
        extractable, and may only sign (no decrypt / unwrap / derive).
        """
        spec = KEY_TYPES.get(key_type)
        if spec is None:
            raise UnsupportedKeyType(
                f"unsupported key type {key_type!r} (use one of {', '.join(KEY_TYPES)})"
            )
        key_id = id if id is not None else os.urandom(16)
        if not label:
            raise TokenError("a key needs a label")

        def gen(session: Any) -> None:
            for attrs in ({Attribute.ID: key_id}, {Attribute.LABEL: label}):
                attrs[Attribute.CLASS] = ObjectClass.PRIVATE_KEY
                if list(session.get_objects(attrs)):
                    raise TokenExists(f"a key with this id or label already exists: {label!r}")
            public_template: dict[Attribute, Any] = {Attribute.PRIVATE: False}
            private_template = {
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.PRIVATE: True,
                Attribute.DECRYPT: False,
                Attribute.UNWRAP: False,
                Attribute.DERIVE: False,
                Attribute.SIGN: True,
            }
            if spec.curve_oid:
                public_template[Attribute.EC_PARAMS] = encode_named_curve_parameters(spec.curve_oid)
            session.generate_keypair(
                spec.key_type,
                spec.bits,
                id=key_id,
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                public_template=public_template,
                private_template=private_template,
            )

        with store_locked(self.manager.config):  # SoftHSM writes the object and the token's generation
            self.call(f"generate {key_type} key {label!r}", gen)
        return self.private_key(id=key_id)

    # -- keys as cryptography objects -----------------------------------------------
    def private_key(self, *, id: bytes | None = None, label: str | None = None) -> Any:
        """A ``cryptography`` private key whose ``sign()`` runs on this token."""
        from .keys import TokenECPrivateKey, TokenRSAPrivateKey

        if id is None and label is None:
            raise KeyNotFound("no such key: give an id or a label")

        def load(session: Any) -> tuple[bytes, str, Any, Any]:
            priv = self._private_object(session, id=id, label=label)
            key_id = priv[Attribute.ID]
            key_label = priv[Attribute.LABEL]
            return key_id, key_label, priv.key_type, self._public_key(session, priv, key_id)

        key_id, key_label, kt, public = self.call("load key", load)
        if kt == KeyType.RSA:
            return TokenRSAPrivateKey(self, key_id, key_label, public)
        if kt == KeyType.EC:
            return TokenECPrivateKey(self, key_id, key_label, public)
        raise UnsupportedKeyType(f"unsupported key type on token: {kt!r}")

    def _public_key(self, session: Any, priv: Any, key_id: bytes) -> Any:
        if priv.key_type == KeyType.RSA:
            # Modulus and exponent are readable on the private object itself.
            n = int.from_bytes(priv[Attribute.MODULUS], "big")
            e = int.from_bytes(priv[Attribute.PUBLIC_EXPONENT], "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        if priv.key_type == KeyType.EC:
            pub = self._find_one(session, ObjectClass.PUBLIC_KEY, key_id)
            if pub is not None:
                return ec_public_key(pub[Attribute.EC_PARAMS], pub[Attribute.EC_POINT])
            cert = self._find_one(session, ObjectClass.CERTIFICATE, key_id)
            if cert is not None:
                return x509.load_der_x509_certificate(cert[Attribute.VALUE]).public_key()
            raise KeyNotFound(f"no public key or certificate for key id {key_id.hex()}")
        raise UnsupportedKeyType(f"unsupported key type on token: {priv.key_type!r}")

    # -- certificates --------------------------------------------------------------
    def import_certificate(self, cert: x509.Certificate, key_id: bytes, label: str) -> None:
        """Store ``cert`` next to its key, so NSS & co. pair them.

        CKA_ID = the key's id; CKA_SUBJECT / CKA_ISSUER / CKA_SERIAL_NUMBER
        (a DER INTEGER) are what NSS needs to see the certificate at all. An
        earlier certificate with the same id is replaced.
        """
        key = self.private_key(id=key_id)
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der_pub = cert.public_key().public_bytes(serialization.Encoding.DER, spki)
        if der_pub != key.public_key().public_bytes(serialization.Encoding.DER, spki):
            raise TokenError(f"the certificate does not belong to key id {key_id.hex()}")
        template = {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.ID: key_id,
            Attribute.LABEL: label,
            Attribute.SUBJECT: cert.subject.public_bytes(),
            Attribute.ISSUER: cert.issuer.public_bytes(),
            Attribute.SERIAL_NUMBER: der_integer(cert.serial_number),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
        }

        def store(session: Any) -> None:
            for old in list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: key_id})):
                old.destroy()
            session.create_object(template)

        with store_locked(self.manager.config):
            self.call(f"import certificate {label!r}", store)

    def certificate(self, key_id: bytes) -> x509.Certificate | None:
        """The certificate stored with ``key_id``, if any."""

        def get(session: Any) -> bytes | None:
            obj = self._find_one(session, ObjectClass.CERTIFICATE, key_id)
            return None if obj is None else obj[Attribute.VALUE]

        der = self.call("read certificate", get)
        return None if der is None else x509.load_der_x509_certificate(der)

    # -- maintenance ---------------------------------------------------------------
    def delete_key(self, id: bytes) -> int:
        """Destroy the private key, public key and certificate with ``id``."""

        def delete(session: Any) -> int:
            objs = list(session.get_objects({Attribute.ID: id}))
            if not any(o.object_class == ObjectClass.PRIVATE_KEY for o in objs):
                raise KeyNotFound(f"no such key on token {self.label!r}: id={id.hex()}")
            for o in objs:
                o.destroy()
            return len(objs)

        with store_locked(self.manager.config):
            return self.call(f"delete key {id.hex()}", delete)

    def objects(self) -> list[ObjectInfo]:
        """Every object on the token, described without any secret."""

        def walk(session: Any) -> list[ObjectInfo]:
            out = []
            for obj in session.get_objects():
                cls = obj.object_class
                info: dict[str, Any] = {
                    "object_class": _CLASS_NAMES.get(cls, str(cls)),
                    "label": obj[Attribute.LABEL],
                    "id": obj[Attribute.ID].hex(),
                }
                if cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                    if obj.key_type == KeyType.RSA:
                        info["key_type"] = f"rsa{obj.key_length}"
                    elif obj.key_type == KeyType.EC:
                        curve = _curve_name(obj[Attribute.EC_PARAMS])
                        info["key_type"] = {"secp256r1": "ec-p256"}.get(curve, f"ec-{curve}")
                    else:
                        info["key_type"] = str(obj.key_type)
                elif cls == ObjectClass.CERTIFICATE:
                    cert = x509.load_der_x509_certificate(obj[Attribute.VALUE])
                    info["subject"] = cert.subject.rfc4514_string()
                    info["serial"] = format(cert.serial_number, "x")
                out.append(ObjectInfo(**info))
            return sorted(out, key=lambda o: (o.id, o.object_class))

        return self.call("list objects", walk)

    def key_attributes(self, id: bytes) -> dict[str, bool]:
        """Security attributes of the private key ``id`` (no secret values)."""

        def read(session: Any) -> dict[str, bool]:
            priv = self._private_object(session, id=id)
            names = [getattr(Attribute, n) for n in KEY_ATTRIBUTES]
            values = priv.get_attributes(names)
            return {n: bool(values.get(getattr(Attribute, n))) for n in KEY_ATTRIBUTES}

        return self.call("read key attributes", read)

    def logout(self) -> None:
        """Log this process out of the token and forget its cached session.

        For a token that is not the process's own (an applicant's token at the
        office): after use, the next :meth:`TokenManager.open` must present
        the PIN again. ``Session.close()`` runs C_Logout + C_CloseSession.
        """
        with locked():
            cached = _state.sessions.pop(self._key, None)
            if cached is not None:
                with contextlib.suppress(p11e.PKCS11Error):
                    cached.session.close()


# --------------------------------------------------------------------------
# small encoders
# --------------------------------------------------------------------------


def der_integer(value: int) -> bytes:
    """DER INTEGER (positive) — what CKA_SERIAL_NUMBER holds."""
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading 0 keeps it positive
    return b"\x02" + _der_len(len(body)) + body


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _curve_name(ec_params: bytes) -> str:
    from asn1crypto.keys import ECDomainParameters

    params = ECDomainParameters.load(ec_params)
    if params.name != "named":
        raise UnsupportedKeyType("unsupported EC parameters (not a named curve)")
    return params.chosen.native


def ec_public_key(ec_params: bytes, ec_point: bytes) -> ec.EllipticCurvePublicKey:
    """Build a cryptography EC public key from CKA_EC_PARAMS and CKA_EC_POINT."""
    from asn1crypto.core import OctetString
    from asn1crypto.keys import ECDomainParameters

    params = ECDomainParameters.load(ec_params)
    oid = params.chosen.dotted if params.name == "named" else None
    curve = _CURVES_BY_OID.get(oid or "")
    if curve is None:
        raise UnsupportedKeyType(f"unsupported EC curve {oid}")
    point = ec_point
    raw_len = 1 + 2 * ((curve.key_size + 7) // 8)  # uncompressed point
    if len(point) != raw_len:
        # DER OCTET STRING wrapping (PKCS#11 v2.40; SoftHSM does this).
        point = OctetString.load(point).native
    return ec.EllipticCurvePublicKey.from_encoded_point(curve(), point)


__all__ = [
    "KEY_TYPES",
    "ObjectInfo",
    "OperationNotAllowed",
    "Token",
    "TokenInfo",
    "TokenManager",
    "der_integer",
    "ec_public_key",
    "key_type_name",
    "locked",
]
