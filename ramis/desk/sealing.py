"""Sealing of the workstations' agent secrets at rest (AES-256-GCM).

The key is derived (HKDF-SHA256) from ``OFFICE_AGENT_SEALING_KEY`` when set, else from
``SECRET_KEY``: both live in the server's environment, not in the database, so a database dump
alone does not give the secret that authenticates the server to a workstation's agent. The row's
primary key is bound in as associated data, so a sealed secret copied onto another workstation's
row does not open. Changing the key makes every sealed secret unreadable: rotate each
workstation's secret (``manage.py workstation rotate-secret``) and give the agents the new ones.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from tokens import TokenError

_PREFIX = "v1:"


def _key() -> bytes:
    material = (settings.OFFICE_AGENT_SEALING_KEY or settings.SECRET_KEY).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"ramis desk workstation agent secret v1").derive(material)


def seal(secret: bytes, *, aad: bytes) -> str:
    nonce = os.urandom(12)
    return _PREFIX + base64.b64encode(nonce + AESGCM(_key()).encrypt(nonce, secret, aad)).decode()


def unseal(sealed: str, *, aad: bytes) -> bytes:
    try:
        if not sealed.startswith(_PREFIX):
            raise ValueError("not sealed")
        raw = base64.b64decode(sealed[len(_PREFIX):], validate=True)
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], aad)
    except (ValueError, InvalidTag):
        raise TokenError("the workstation's agent secret cannot be unsealed (no secret yet, the sealing key "
                         "changed, or the row was altered): rotate it",
                         message_fa="رمز مشترک این باجه خوانده نمی‌شود؛ مدیر سامانه باید رمز تازه بسازد "
                                    "(manage.py workstation rotate-secret) و در رایانهٔ باجه بگذارد.") from None
