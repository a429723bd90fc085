"""Reads of e-Namad accounts that several pages share."""

from __future__ import annotations

from enamad.accounts.models import Account


def account_for_user(user) -> Account | None:
    return getattr(user, "enamad_account", None) if user.is_authenticated else None
