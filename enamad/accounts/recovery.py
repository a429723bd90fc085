"""Getting back into an e-Namad account: password reset by e-mail and «resend activation».

Both answer the same whatever was typed (no way to learn which names or addresses have an
account), both are throttled per address typed and per client address, failing closed (the
refusal is the same Persian message, next to the field, for an address with an account or
without), and both audit what they did, a refusal included: the first one of each counter in its
window (the account's, when the address typed has one), so a flood of refusals does not flood the
trail. The reset uses Django's token generator (bound to the password and the last
login, so a used link is dead) and its views; the mail goes through the outbox like every other.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from certauth.models import User
from enamad.accounts.models import Account
from enamad.accounts.services import send_activation_link
from enamad.common import Throttled, absolute_url, digest, throttle_hit
from ramis.common import audit, notify
from ramis.common.context import context_ip

# Per address (or name) typed, and per client address, in RECOVERY_WINDOW seconds.
RECOVERY_PER_IDENTIFIER = 3
RECOVERY_PER_CLIENT = 20
RECOVERY_WINDOW = 3600


class _TypedAddress:
    """What a refusal's audit entry names when the address or name typed has no account."""

    _meta = SimpleNamespace(label_lower="enamad.recovery_address")

    def __init__(self, key: str):
        self.pk = key[:32]

    def __str__(self) -> str:
        return "نشانی یا نام بدون حساب"


def recovery_throttle(kind: str, identifier: str, ctx=None) -> None:
    """Raise ``Throttled`` once this address/name or this client asked too often (fails closed);
    the first refusal of each counter in its window is audited, in its own transaction."""
    key = digest(f"recovery-{kind}", identifier.strip().lower())
    address = context_ip(ctx) or ""
    counters = [("identifier", f"enamad-{kind}:{key}", RECOVERY_PER_IDENTIFIER)]
    if address:
        counters.append(("client", f"enamad-{kind}-ip:{address}", RECOVERY_PER_CLIENT))
    for name, counter, limit in counters:
        if throttle_hit(counter, limit=limit, window=RECOVERY_WINDOW):
            continue
        if throttle_hit(f"{counter}:refused", limit=1, window=RECOVERY_WINDOW):  # the window's first refusal
            _audit_refusal(kind, identifier, key, counter=name, limit=limit, ctx=ctx)
        raise Throttled


@transaction.atomic
def _audit_refusal(kind: str, identifier: str, key: str, *, counter: str, limit: int, ctx) -> None:
    typed = identifier.strip().lower()
    if kind == "reset":
        users = reset_candidates(typed)
    else:
        users = User.objects.filter(Q(username__iexact=typed) | Q(email__iexact=typed),
                                    enamad_account__isnull=False).select_related("enamad_account")
    user = next(iter(users), None)
    audit.record(actor=None, target=user.enamad_account if user is not None else _TypedAddress(key),
                 event=f"enamad.account.{kind}_throttled", ctx=ctx,
                 extra={"counter": counter, "typed": typed[:254], "limit": limit, "window_seconds": RECOVERY_WINDOW})


def reset_candidates(email: str):
    """Active e-Namad accounts with this e-mail and a usable password (staff are never reset here)."""
    users = User.objects.filter(email__iexact=email.strip(), is_active=True, is_staff=False,
                                enamad_account__isnull=False).select_related("enamad_account")
    return [user for user in users if user.has_usable_password()]


def password_reset_request(*, email: str, ctx=None) -> int:
    """E-mail a reset link to each active account with this address; how many (the page never says)."""
    recovery_throttle("reset", email, ctx)  # before the transaction: a refusal's audit entry stays
    return _mail_reset_links(email=email, ctx=ctx)


@transaction.atomic
def _mail_reset_links(*, email: str, ctx=None) -> int:
    sent = 0
    for user in reset_candidates(email):
        account = user.enamad_account
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        url = absolute_url(reverse("enamad:password_reset_confirm", args=[uid, token]))
        notify.send_email(to=user.email, template="enamad_password_reset",
                          context={"account": account, "username": user.username, "url": url,
                                   "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)},
                          secrets=("url",))
        audit.record(actor=None, target=account, event="enamad.account.password_reset_requested", ctx=ctx)
        sent += 1
    return sent


def password_reset_done(*, user, ctx=None) -> None:
    """Audit a password set through a reset link (Django's view saved it)."""
    account = Account.objects.filter(user=user).first()
    if account is not None:
        audit.record(actor=user, target=account, event="enamad.account.password_reset", ctx=ctx)


def activation_resend(*, identifier: str, ctx=None) -> bool:
    """Send a fresh activation link to an account that signed up and never activated, found by
    user name or e-mail; whether one was found is for the audit trail, not for the page."""
    recovery_throttle("activation", identifier, ctx)  # before the transaction: a refusal's audit entry stays
    return _mail_activation_link(identifier=identifier.strip(), ctx=ctx)


@transaction.atomic
def _mail_activation_link(*, identifier: str, ctx=None) -> bool:
    account = (Account.objects.select_related("user")
               .filter(Q(user__username__iexact=identifier) | Q(user__email__iexact=identifier),
                       user__is_active=False, user__last_login__isnull=True)
               .order_by("id").first())
    if account is None or not account.user.email:
        return False
    send_activation_link(account, resent=True)
    audit.record(actor=None, target=account, event="enamad.account.activation_resent", ctx=ctx)
    return True
