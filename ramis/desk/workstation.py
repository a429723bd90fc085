"""The applicant's token at the clerk's workstation, behind one small interface (DESIGN "PKI").

``WorkstationTokens`` is what the desk needs from the tokens plugged into the clerk's
workstation: list them, initialise a new (bought) one, open one with the applicant's PIN, and
log out of it afterwards. The key generation, CSR and certificate import then run on the
returned :class:`tokens.Token`.

``InProcessTokens`` (the default) loads the PKCS#11 module in the web process: SoftHSM in
development and tests, or a token driver on a single-machine office where the token is plugged
into the server. ``ramis.desk.agent.AgentTokens`` talks to the token agent on the clerk's
workstation (``python -m tokens.agent``) instead. Both initialise a new token with any module
(``C_InitToken`` + ``C_InitPIN``, :mod:`tokens.ckinit`).

An office has several issuing desks: each is a :class:`~ramis.desk.models.Workstation` (its
agent's URL and sealed secret); the clerk says which one they sit at (remembered in their
session) and the agent backend talks to that one (``needs_workstation``).

Settings: ``OFFICE_TOKEN_BACKEND``, ``OFFICE_PKCS11_MODULE`` (default ``PKCS11_MODULE``),
``OFFICE_PKCS11_MODULES`` (per office code, ``TEH01=/usr/lib/libeTPkcs11.so``),
``OFFICE_TOKEN_SO_PINS`` (per office code, the SO PIN the office sets on tokens it initialises;
``so_pin_for``), ``OFFICE_TOKEN_SO_PIN`` (its development fallback, never used in production).
"""

from __future__ import annotations

import abc
import dataclasses

from django.conf import settings
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from tokens import Token, TokenError, TokenInfo, TokenManager
from tokens.conf import token_config


class WorkstationTokens(abc.ABC):
    """The tokens the clerk's workstation sees."""

    #: whether :meth:`init_token` can initialise a new (bought) token with the office's SO PIN
    can_init: bool = True
    #: whether the clerk must say which workstation (``Workstation`` row) they sit at
    needs_workstation: bool = False

    @classmethod
    def for_office(cls, office, workstation=None) -> WorkstationTokens:
        """The backend for ``office``'s workstation (settings per office code); ``workstation``
        is the ``Workstation`` the clerk chose (used by backends that need one)."""
        code = getattr(office, "code", None)
        return cls(module=module_for(code), so_pin=so_pin_for(code))

    @abc.abstractmethod
    def list_tokens(self) -> list[TokenInfo]:
        """Initialised tokens present now (never secrets)."""

    @abc.abstractmethod
    def info(self, *, serial: str) -> TokenInfo:
        """One token's label, model and flags (raises ``TokenNotFound``)."""

    @abc.abstractmethod
    def init_token(self, *, label: str, user_pin: str, serial: str = "", current_so_pin: str = "") -> TokenInfo:
        """Initialise a new token with the applicant's PIN (the PINs are not kept). With ``serial``,
        wipe and re-initialise that (vendor-initialised) token, whose SO PIN is ``current_so_pin``;
        its SO PIN then becomes the office's."""

    @abc.abstractmethod
    def open(self, *, serial: str, pin: str) -> Token:
        """Log in to the token with the applicant's PIN."""

    @abc.abstractmethod
    def close(self, token: Token) -> None:
        """Log out of the token: the next open asks for the PIN again."""


class ManagerTokens(WorkstationTokens):
    """A backend over a token manager: :class:`tokens.TokenManager` in this process, or
    :class:`tokens.remote.RemoteTokens` on an agent — both list, describe, initialise and open."""

    manager: TokenManager
    so_pin: str = ""

    def list_tokens(self) -> list[TokenInfo]:
        return self.manager.list_tokens()

    def info(self, *, serial: str) -> TokenInfo:
        return self.manager.token_info(serial=serial)

    @sensitive_variables("user_pin", "current_so_pin")
    def init_token(self, *, label: str, user_pin: str, serial: str = "", current_so_pin: str = "") -> TokenInfo:
        office_so_pin = require_so_pin(self.so_pin)
        if serial:
            return self.manager.init_token(label, current_so_pin, user_pin, serial=serial, new_so_pin=office_so_pin)
        return self.manager.init_token(label, office_so_pin, user_pin)

    @sensitive_variables("pin")
    def open(self, *, serial: str, pin: str) -> Token:
        return self.manager.open(serial=serial, pin=pin)

    def close(self, token: Token) -> None:
        token.logout()


class InProcessTokens(ManagerTokens):
    """PKCS#11 in this process (python-pkcs11, through :mod:`tokens`)."""

    def __init__(self, *, module: str, so_pin: str = ""):
        self.manager = TokenManager(dataclasses.replace(token_config(), module=module))
        self.so_pin = so_pin


def module_for(office_code: str | None) -> str:
    return settings.OFFICE_PKCS11_MODULES.get(office_code or "", settings.OFFICE_PKCS11_MODULE)


def so_pin_for(office_code: str | None) -> str:
    """The SO PIN ``office_code``'s tokens get (``OFFICE_TOKEN_SO_PINS``): each office its own, so
    one office's workstations and agents never hold another's. Outside production an office not
    listed falls back to ``OFFICE_TOKEN_SO_PIN``; in production it has none ("": initialising a
    token is then refused with a Persian message)."""
    own = settings.OFFICE_TOKEN_SO_PINS.get(office_code or "", "")
    return own or ("" if settings.PRODUCTION else settings.OFFICE_TOKEN_SO_PIN)


def require_so_pin(so_pin: str) -> str:
    if not so_pin:
        raise TokenError("no SO PIN for this office (OFFICE_TOKEN_SO_PINS)",
                         message_fa="رمز مدیر توکن (SO PIN) این دفتر تنظیم نشده است؛ با مدیر سامانه تماس بگیرید.")
    return so_pin


def backend_class() -> type[WorkstationTokens]:
    return import_string(settings.OFFICE_TOKEN_BACKEND)


def get_backend(office=None, workstation=None) -> WorkstationTokens:
    """The configured backend for ``office``'s workstation ``workstation`` (the one the clerk chose)."""
    return backend_class().for_office(office, workstation)
