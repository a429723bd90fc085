"""``C_InitToken`` for any PKCS#11 module, which python-pkcs11 does not expose.

The module is already loaded and ``C_Initialize``'d by python-pkcs11 in this process
(:meth:`tokens.TokenManager.lib`). ``ctypes.CDLL`` on the same path returns the same
``dlopen`` handle, so ``C_GetFunctionList`` hands back the function table of that very
initialised instance: nothing is initialised or finalised again here. Callers hold the
manager's process lock (:func:`tokens.manager.locked`), like every other PKCS#11 call.

Only the first fifteen entries of ``CK_FUNCTION_LIST`` are declared (the version, then the
function pointers in the order of PKCS#11 v2.40 §5.16 up to ``C_CloseAllSessions``); the layout is
the platform's default alignment, as PKCS#11 prescribes for Unix.
"""

from __future__ import annotations

import ctypes
import threading

from . import errors

CK_RV = ctypes.c_ulong
CK_ULONG = ctypes.c_ulong

# The CKR_* values C_InitToken can answer (PKCS#11 v2.40 §5.1.4), with what they mean here.
_CKR = {
    0x003: (errors.TokenRemoved, "CKR_SLOT_ID_INVALID"),
    0x054: (errors.TokenError, "CKR_FUNCTION_NOT_SUPPORTED: the module cannot initialise tokens"),
    0x0A0: (errors.WrongPin, "CKR_PIN_INCORRECT: wrong SO PIN"),
    0x0A1: (errors.WrongPin, "CKR_PIN_INVALID: the SO PIN has characters the token refuses"),
    0x0A2: (errors.WrongPin, "CKR_PIN_LEN_RANGE: the SO PIN is too short or too long for the token"),
    0x0A4: (errors.PinLocked, "CKR_PIN_LOCKED: the SO PIN is locked"),
    0x0B6: (errors.TokenError, "CKR_SESSION_EXISTS: close the sessions open on the token first"),
    0x0E0: (errors.TokenRemoved, "CKR_TOKEN_NOT_PRESENT"),
    0x0E2: (errors.TokenError, "CKR_TOKEN_WRITE_PROTECTED"),
}


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_ubyte), ("minor", ctypes.c_ubyte)]


_InitToken = ctypes.CFUNCTYPE(CK_RV, CK_ULONG, ctypes.c_char_p, CK_ULONG, ctypes.c_char_p)
_CloseAllSessions = ctypes.CFUNCTYPE(CK_RV, CK_ULONG)
_BEFORE = ("C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList", "C_GetSlotInfo",
           "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo")


class _FunctionList(ctypes.Structure):
    _fields_ = [("version", _Version), *((name, ctypes.c_void_p) for name in _BEFORE), ("C_InitToken", _InitToken),
                ("C_InitPIN", ctypes.c_void_p), ("C_SetPIN", ctypes.c_void_p), ("C_OpenSession", ctypes.c_void_p),
                ("C_CloseSession", ctypes.c_void_p), ("C_CloseAllSessions", _CloseAllSessions)]


_tables: dict[str, ctypes._Pointer] = {}
_tables_lock = threading.Lock()


def _function_list(module: str) -> _FunctionList:
    with _tables_lock:
        table = _tables.get(module)
        if table is None:
            try:
                dll = ctypes.CDLL(module)
                get = dll.C_GetFunctionList
            except (OSError, AttributeError) as exc:
                raise errors.ModuleLoadError(f"cannot load the PKCS#11 module {module}: {exc}") from None
            get.argtypes = [ctypes.POINTER(ctypes.POINTER(_FunctionList))]
            get.restype = CK_RV
            table = ctypes.POINTER(_FunctionList)()
            rv = get(ctypes.byref(table))
            if rv != 0 or not table:
                raise errors.ModuleLoadError(f"C_GetFunctionList of {module} failed: CKR 0x{rv:x}")
            _tables[module] = table
        return table.contents


def label_bytes(label: str) -> bytes:
    """CK_TOKEN_INFO.label: 32 bytes of UTF-8, padded with blanks."""
    raw = label.encode()
    if not raw or len(raw) > 32:
        raise errors.TokenError("token label must be 1 to 32 bytes")
    return raw.ljust(32, b" ")


def init_token(module: str, slot_id: int, so_pin: str, label: str) -> None:
    """``C_InitToken(slot_id, so_pin, label)`` on the already initialised ``module``.

    A token fresh from the factory (or SoftHSM's free slot) takes ``so_pin`` as its SO PIN;
    an initialised one checks it (CKR_PIN_INCORRECT → :class:`~tokens.errors.WrongPin`) and is
    wiped. Every object on the token is destroyed.
    """
    padded = label_bytes(label)
    pin = so_pin.encode()
    rv = _function_list(module).C_InitToken(slot_id, pin, len(pin), padded)
    if rv != 0:
        cls, text = _CKR.get(rv, (errors.TokenError, f"CKR 0x{rv:x}"))
        raise cls(f"C_InitToken on slot {slot_id} failed: {text}")


def close_all_sessions(module: str, slot_id: int) -> None:
    """``C_CloseAllSessions(slot_id)``: this process's sessions on the slot.

    python-pkcs11's ``Token.open`` leaks the session it opened when ``C_Login`` fails (a wrong
    PIN): in a long-running process (the token agent) that session would keep the token busy
    (``C_InitToken`` answers CKR_SESSION_EXISTS). The caller closes them only when the process
    holds no session of its own on that token. Errors are ignored: this is clean-up.
    """
    _function_list(module).C_CloseAllSessions(slot_id)
