"""One exception hierarchy for everything that can go wrong with a token.

Every error carries two messages:

* ``str(exc)``: one English line, for management commands and logs;
* ``exc.message_fa``: a Persian sentence that can be shown to a user.

:func:`translate` maps python-pkcs11's exceptions onto this hierarchy, so no
caller ever sees a raw ``pkcs11.exceptions.*`` (or its traceback).
"""

from __future__ import annotations

import pkcs11.exceptions as p11e


class TokenError(Exception):
    """Base class. ``str()`` is one English line; ``message_fa`` is Persian."""

    message_fa = "خطا در ارتباط با توکن سخت‌افزاری."
    default_message = "token error"

    def __init__(self, message: str | None = None, *, message_fa: str | None = None):
        self.message = (message or self.default_message).replace("\n", " ")
        if message_fa is not None:
            self.message_fa = message_fa
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ModuleLoadError(TokenError):
    """The PKCS#11 module is missing or is not a PKCS#11 library."""

    message_fa = "کتابخانهٔ PKCS#11 توکن پیدا نشد یا قابل بارگذاری نیست."
    default_message = "cannot load the PKCS#11 module"


class TokenNotFound(TokenError):
    """No token has the label or serial that was asked for."""

    message_fa = "توکن موردنظر پیدا نشد؛ اتصال توکن را بررسی کنید."
    default_message = "no such token"


class TokenExists(TokenError):
    """A token with this label already exists (refused by ``init_token``)."""

    message_fa = "توکنی با این نام از قبل وجود دارد."
    default_message = "a token with this label already exists"


class WrongPin(TokenError):
    """CKR_PIN_INCORRECT (or a PIN of an impossible length)."""

    message_fa = "رمز (PIN) توکن نادرست است."
    default_message = "wrong PIN"


class PinLocked(TokenError):
    """CKR_PIN_LOCKED: too many wrong PINs; the SO must unblock the token.

    SoftHSM 2.6 never locks a PIN (it only raises CKF_USER_PIN_COUNT_LOW
    after a failure, measured: twelve wrong PINs in a row, then the right one
    works), so the tests can only check the mapping, not provoke it.
    """

    message_fa = "رمز توکن به دلیل ورود نادرست مکرر قفل شده است؛ به دفتر ثبت‌نام مراجعه کنید."
    default_message = "PIN locked"


class KeyNotFound(TokenError):
    """No private key with this id or label on the token."""

    message_fa = "کلید موردنظر روی توکن پیدا نشد."
    default_message = "no such key on the token"


class TokenRemoved(TokenError):
    """The token went away or the session became invalid under us.

    Measured on SoftHSM: deleting the token directory under a live session
    makes signing raise CKR_OBJECT_HANDLE_INVALID and token listing
    CKR_GENERAL_ERROR; a closed session gives CKR_SESSION_HANDLE_INVALID;
    a token re-initialised by another process keeps the session but loses
    its objects.
    """

    message_fa = "ارتباط با توکن قطع شد (توکن جدا شده یا نشست نامعتبر است)؛ دوباره تلاش کنید."
    default_message = "token removed or session invalid"


class UnsupportedKeyType(TokenError):
    """A key type or algorithm this code does not handle."""

    message_fa = "نوع کلید پشتیبانی نمی‌شود."
    default_message = "unsupported key type"


class OperationNotAllowed(TokenError):
    """An operation a token key never allows (export, decrypt, exchange)."""

    message_fa = "این عملیات روی کلید توکن مجاز نیست؛ کلید خصوصی هرگز از توکن خارج نمی‌شود."
    default_message = "operation not allowed on a token key"


# python-pkcs11 exception → our class. Order does not matter: exact types.
_MAP: dict[type[BaseException], type[TokenError]] = {
    p11e.PinIncorrect: WrongPin,
    p11e.PinLenRange: WrongPin,
    p11e.PinInvalid: WrongPin,
    p11e.PinLocked: PinLocked,
    p11e.NoSuchToken: TokenNotFound,
    p11e.NoSuchKey: KeyNotFound,
    p11e.SlotIDInvalid: TokenRemoved,
    p11e.TokenNotPresent: TokenRemoved,
    p11e.TokenNotRecognised: TokenRemoved,
    p11e.DeviceRemoved: TokenRemoved,
    p11e.SessionHandleInvalid: TokenRemoved,
    p11e.SessionClosed: TokenRemoved,
    p11e.ObjectHandleInvalid: TokenRemoved,
    p11e.KeyHandleInvalid: TokenRemoved,
    p11e.MechanismInvalid: UnsupportedKeyType,
    p11e.KeySizeRange: UnsupportedKeyType,
}


def translate(exc: BaseException, context: str = "") -> TokenError:
    """Return the :class:`TokenError` for a python-pkcs11 exception."""
    if isinstance(exc, TokenError):
        return exc
    cls = _MAP.get(type(exc), TokenError)
    detail = str(exc).strip() or type(exc).__name__
    name = type(exc).__name__
    text = f"{cls.default_message}: {context + ': ' if context else ''}{name}"
    if detail != name:
        text += f" ({detail})"
    return cls(text)


class AgentUnavailable(TokenError):
    """The token agent on the clerk's workstation did not answer (down, unreachable, timeout,
    TLS certificate not trusted)."""

    message_fa = ("نرم‌افزار توکن (agent) روی رایانهٔ باجه پاسخ نداد؛ روشن بودن آن و اتصال شبکه را بررسی کنید "
                  "و دوباره تلاش کنید.")
    default_message = "token agent unavailable"


class AgentRefused(TokenError):
    """The token agent refused the request's authentication, or its answer was not authentic."""

    message_fa = ("نرم‌افزار توکن (agent) درخواست را نپذیرفت (کلید مشترک یا ساعت رایانه‌ها ناهمخوان است)؛ "
                  "به مدیر سامانه اطلاع دهید.")
    default_message = "token agent refused the request"
