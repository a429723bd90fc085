"""Reads of e-Namad accounts that several pages share, and the staff desk's roles a user holds."""

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


# The parts of the staff desk and who opens them: the business files (queue, file page,
# identity documents, licences) to those who review files, tickets to ticket staff, complaints
# (with the complainant's contact details) to those who handle complaints. Any of these opens
# the dashboard.
DESK_ROLES = {
    "files": ("enamad.review_business", "enamad.review_documents", "enamad.approve_business"),
    "tickets": ("enamad.answer_ticket", "enamad.approve_change"),
    "complaints": ("enamad.handle_complaint",),
}


def desk_roles(user) -> dict[str, bool]:
    return {role: any(user.has_perm(perm) for perm in perms) for role, perms in DESK_ROLES.items()}
