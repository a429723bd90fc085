"""Token private keys as ``cryptography`` private keys.

cryptography's builders (certificate, CSR, CRL, OCSP response) accept any
instance of its abstract ``RSAPrivateKey`` / ``EllipticCurvePrivateKey`` and
call ``sign(data, padding, algorithm)`` / ``sign(data, ECDSA(algorithm))`` on
it — a duck-typed object is refused, a subclass is not (the pattern of
django-ca's HSM backend; checked with cryptography 50 in the tests). So these
subclasses make every builder sign on the token, unchanged.

Hashing happens here, in Python, and the token only signs the digest:
RSA PKCS#1 v1.5 as raw ``CKM_RSA_PKCS`` over the DigestInfo, RSA-PSS as
``CKM_RSA_PKCS_PSS`` over the digest, ECDSA as raw ``CKM_ECDSA`` (SoftHSM has
no hash-and-sign ECDSA) whose r||s output is re-encoded as DER.

Everything that would need the private key material raises
:class:`~tokens.errors.OperationNotAllowed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pkcs11 import MGF, Mechanism

from .errors import OperationNotAllowed, UnsupportedKeyType

if TYPE_CHECKING:
    from .manager import Token

# DER DigestInfo prefixes (RFC 8017 §9.2 note 1) for PKCS#1 v1.5.
_DIGEST_INFO = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
_PSS_HASH = {
    "sha256": (Mechanism.SHA256, MGF.SHA256),
    "sha384": (Mechanism.SHA384, MGF.SHA384),
    "sha512": (Mechanism.SHA512, MGF.SHA512),
}


def _digest(data: bytes, algorithm: Any) -> tuple[bytes, hashes.HashAlgorithm]:
    if isinstance(algorithm, Prehashed):
        alg = algorithm._algorithm
        if len(data) != alg.digest_size:
            raise ValueError("the prehashed digest has the wrong length")
        return data, alg
    if not isinstance(algorithm, hashes.HashAlgorithm):
        raise TypeError("expected a hash algorithm")
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize(), algorithm


class _TokenKeyMixin:
    _token: Token
    _key_id: bytes
    _label: str
    _obj: Any = None
    _obj_session: Any = None

    @property
    def token(self) -> Token:
        return self._token

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def label(self) -> str:
        return self._label

    def _sign_raw(self, payload: bytes, mechanism: Mechanism, param: Any = None) -> bytes:
        """One signature on the token (lock held by ``Token.call``)."""

        def run(session: Any) -> bytes:
            # The object handle is cached per session; a new session (after a
            # fork or a re-initialisation) means a new lookup.
            if self._obj is None or self._obj_session is not session:
                self._obj = self._token._private_object(session, id=self._key_id)
                self._obj_session = session
            return self._obj.sign(payload, mechanism=mechanism, mechanism_param=param)

        return self._token.call(f"sign with key {self._label!r}", run)

    def _refuse(self, what: str) -> NoReturn:
        raise OperationNotAllowed(f"operation not allowed on a token key: {what}")

    def private_bytes(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("export (private_bytes)")

    def private_numbers(self) -> NoReturn:
        self._refuse("private_numbers")

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict) -> Any:
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} label={self._label!r} id={self._key_id.hex()} on {self._token!r}>"


class TokenRSAPrivateKey(_TokenKeyMixin, rsa.RSAPrivateKey):
    """RSA private key on a token; ``sign()`` runs there (PKCS#1 v1.5, PSS)."""

    def __init__(self, token: Token, key_id: bytes, label: str, public_key: rsa.RSAPublicKey):
        self._token = token
        self._key_id = key_id
        self._label = label
        self._public = public_key

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(self, data: bytes, padding_: padding.AsymmetricPadding, algorithm: Any) -> bytes:
        digest, alg = _digest(data, algorithm)
        if alg.name not in _DIGEST_INFO:
            raise UnsupportedKeyType(f"unsupported hash for a token signature: {alg.name}")
        if isinstance(padding_, padding.PKCS1v15):
            return self._sign_raw(_DIGEST_INFO[alg.name] + digest, Mechanism.RSA_PKCS)
        if isinstance(padding_, padding.PSS):
            mgf = padding_._mgf
            if not isinstance(mgf, padding.MGF1) or mgf._algorithm.name not in _PSS_HASH:
                raise UnsupportedKeyType("PSS needs MGF1 with SHA-256/384/512")
            salt = padding_._salt_length
            em_len = (self.key_size - 1 + 7) // 8
            if salt is padding.PSS.MAX_LENGTH:
                salt = em_len - alg.digest_size - 2
            elif salt is padding.PSS.DIGEST_LENGTH:
                salt = alg.digest_size
            elif not isinstance(salt, int):
                raise ValueError("PSS salt length AUTO is only for verification")
            param = (_PSS_HASH[alg.name][0], _PSS_HASH[mgf._algorithm.name][1], salt)
            return self._sign_raw(digest, Mechanism.RSA_PKCS_PSS, param)
        raise UnsupportedKeyType(f"unsupported RSA padding {type(padding_).__name__}")

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> NoReturn:
        self._refuse("decrypt (keys on the token are sign-only)")


class TokenECPrivateKey(_TokenKeyMixin, ec.EllipticCurvePrivateKey):
    """EC private key on a token: hash here, raw ``CKM_ECDSA`` there."""

    def __init__(self, token: Token, key_id: bytes, label: str, public_key: ec.EllipticCurvePublicKey):
        self._token = token
        self._key_id = key_id
        self._label = label
        self._public = public_key

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.curve.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise UnsupportedKeyType("only ECDSA signatures are supported")
        digest, _alg = _digest(data, signature_algorithm.algorithm)
        raw = self._sign_raw(digest, Mechanism.ECDSA)
        half = len(raw) // 2
        r = int.from_bytes(raw[:half], "big")
        s = int.from_bytes(raw[half:], "big")
        return encode_dss_signature(r, s)

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> NoReturn:
        self._refuse("key exchange (keys on the token are sign-only)")
