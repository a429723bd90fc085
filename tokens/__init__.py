"""PKCS#11 tokens: keys generated and used on the token, never exported.

Plain Python (no Django import): ``TokenManager`` finds and creates tokens,
``Token`` generates keys, stores certificates and hands out private keys that
``cryptography``'s builders sign with on the token.
"""

from .config import DEFAULT_MODULE, TokenConfig, prepare_softhsm
from .errors import (
    KeyNotFound,
    ModuleLoadError,
    OperationNotAllowed,
    PinLocked,
    TokenError,
    TokenExists,
    TokenNotFound,
    TokenRemoved,
    UnsupportedKeyType,
    WrongPin,
)
from .keys import TokenECPrivateKey, TokenRSAPrivateKey
from .manager import KEY_TYPES, ObjectInfo, Token, TokenInfo, TokenManager, key_type_name, locked

__all__ = [
    "DEFAULT_MODULE",
    "KEY_TYPES",
    "KeyNotFound",
    "ModuleLoadError",
    "ObjectInfo",
    "OperationNotAllowed",
    "PinLocked",
    "Token",
    "TokenConfig",
    "TokenECPrivateKey",
    "TokenError",
    "TokenExists",
    "TokenInfo",
    "TokenManager",
    "TokenNotFound",
    "TokenRSAPrivateKey",
    "TokenRemoved",
    "UnsupportedKeyType",
    "WrongPin",
    "key_type_name",
    "locked",
    "prepare_softhsm",
]
