"""Reads of e-Namad accounts that several pages share."""

from __future__ import annotations

from enamad.accounts.models import Account


def account_for_user(user) -> Account | None:
    return getattr(user, "enamad_account", None) if user.is_authenticated else None


def message_addresses(account: Account) -> tuple[list[str], list[str]]:
    """The addresses whose messages the owner may read again (ramis.common.inbox): the mobile once
    verified by SMS (until then anyone's number could have been typed at sign-up), and the e-mail
    the account was activated through (a logged-in owner received that link)."""
    mobiles = [account.mobile] if account.mobile_verified_at else []
    emails = [account.user.email] if account.user.is_active else []
    return mobiles, emails
