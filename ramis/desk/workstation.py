"""The applicant's token at the clerk's workstation, behind one small interface (DESIGN "PKI").

``WorkstationTokens`` is what the desk needs from the tokens plugged into the clerk's
workstation: list them, initialise a new (bought) one, open one with the applicant's PIN, and
log out of it afterwards. The key generation, CSR and certificate import then run on the
returned :class:`tokens.Token`.

``InProcessTokens`` (the default) loads the PKCS#11 module in the web process: SoftHSM in
development and tests, or a token driver on a single-machine office where the token is plugged
into the server. An agent on the clerk's workstation that the staff page talks to would be a
second implementation of the same interface (``OFFICE_TOKEN_BACKEND``).

Settings: ``OFFICE_TOKEN_BACKEND``, ``OFFICE_PKCS11_MODULE`` (default ``PKCS11_MODULE``),
``OFFICE_PKCS11_MODULES`` (per office code, ``TEH01=/usr/lib/libeTPkcs11.so``),
``OFFICE_TOKEN_SO_PIN`` (the SO PIN the office sets on tokens it initialises).
"""

from __future__ import annotations

import abc
import dataclasses

from django.conf import settings
from django.utils.module_loading import import_string

from tokens import Token, TokenError, TokenInfo, TokenManager
from tokens.conf import token_config


class WorkstationTokens(abc.ABC):
    """The tokens the clerk's workstation sees."""

    #: whether :meth:`init_token` can create a token (SoftHSM); real tokens are initialised
    #: with their vendor's tool and then picked from :meth:`list_tokens`.
    can_init: bool = False

    @abc.abstractmethod
    def list_tokens(self) -> list[TokenInfo]:
        """Initialised tokens present now (never secrets)."""

    @abc.abstractmethod
    def info(self, *, serial: str) -> TokenInfo:
        """One token's label, model and flags (raises ``TokenNotFound``)."""

    @abc.abstractmethod
    def init_token(self, *, label: str, user_pin: str) -> TokenInfo:
        """Initialise a new token with the applicant's PIN (the PIN is not kept)."""

    @abc.abstractmethod
    def open(self, *, serial: str, pin: str) -> Token:
        """Log in to the token with the applicant's PIN."""

    @abc.abstractmethod
    def close(self, token: Token) -> None:
        """Log out of the token: the next open asks for the PIN again."""


class InProcessTokens(WorkstationTokens):
    """PKCS#11 in this process (python-pkcs11, through :mod:`tokens`)."""

    def __init__(self, *, module: str, so_pin: str = ""):
        self.manager = TokenManager(dataclasses.replace(token_config(), module=module))
        self.so_pin = so_pin
        self.can_init = self.manager.config.is_softhsm

    def list_tokens(self) -> list[TokenInfo]:
        return self.manager.list_tokens()

    def info(self, *, serial: str) -> TokenInfo:
        return self.manager.token_info(serial=serial)

    def init_token(self, *, label: str, user_pin: str) -> TokenInfo:
        if not self.can_init:
            raise TokenError(
                f"init_token is only supported for SoftHSM, not {self.manager.module}",
                message_fa="راه‌اندازی توکن نو با این ماژول ممکن نیست؛ توکن را با نرم‌افزار سازنده آن راه‌اندازی کنید "
                           "و سپس از فهرست توکن‌ها انتخاب کنید.",
            )
        if not self.so_pin:
            raise TokenError("OFFICE_TOKEN_SO_PIN is not set",
                             message_fa="رمز مدیر توکن (SO PIN) دفتر تنظیم نشده است؛ با مدیر سامانه تماس بگیرید.")
        return self.manager.init_token(label, self.so_pin, user_pin)

    def open(self, *, serial: str, pin: str) -> Token:
        return self.manager.open(serial=serial, pin=pin)

    def close(self, token: Token) -> None:
        token.logout()


def module_for(office_code: str | None) -> str:
    return settings.OFFICE_PKCS11_MODULES.get(office_code or "", settings.OFFICE_PKCS11_MODULE)


def get_backend(office=None) -> WorkstationTokens:
    """The configured backend for ``office``'s workstations."""
    cls = import_string(settings.OFFICE_TOKEN_BACKEND)
    return cls(module=module_for(getattr(office, "code", None)), so_pin=settings.OFFICE_TOKEN_SO_PIN)
