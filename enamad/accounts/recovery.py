"""Getting back into an e-Namad account: password reset by e-mail and «resend activation».

Both answer the same whatever was typed (no way to learn which names or addresses have an
account), both are throttled per address typed and per client address, failing closed, and both
audit what they did. The reset uses Django's token generator (bound to the password and the last
login, so a used link is dead) and its views; the mail goes through the outbox like every other.
"""

from __future__ import annotations

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


def recovery_throttle(kind: str, identifier: str, ctx=None) -> None:
    """Raise ``Throttled`` once this address/name or this client asked too often (fails closed)."""
    key = digest(f"recovery-{kind}", identifier.strip().lower())
    if not throttle_hit(f"enamad-{kind}:{key}", limit=RECOVERY_PER_IDENTIFIER, window=RECOVERY_WINDOW):
        raise Throttled
    address = context_ip(ctx) or ""
    if address and not throttle_hit(f"enamad-{kind}-ip:{address}", limit=RECOVERY_PER_CLIENT,
                                    window=RECOVERY_WINDOW):
        raise Throttled


def reset_candidates(email: str):
    """Active e-Namad accounts with this e-mail and a usable password (staff are never reset here)."""
    users = User.objects.filter(email__iexact=email.strip(), is_active=True, is_staff=False,
                                enamad_account__isnull=False).select_related("enamad_account")
    return [user for user in users if user.has_usable_password()]


@transaction.atomic
def password_reset_request(*, email: str, ctx=None) -> int:
    """E-mail a reset link to each active account with this address; how many (the page never says)."""
    recovery_throttle("reset", email, ctx)
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


@transaction.atomic
def activation_resend(*, identifier: str, ctx=None) -> bool:
    """Send a fresh activation link to an account that signed up and never activated, found by
    user name or e-mail; whether one was found is for the audit trail, not for the page."""
    recovery_throttle("activation", identifier, ctx)
    identifier = identifier.strip()
    account = (Account.objects.select_related("user")
               .filter(Q(user__username__iexact=identifier) | Q(user__email__iexact=identifier),
                       user__is_active=False, user__last_login__isnull=True)
               .order_by("id").first())
    if account is None or not account.user.email:
        return False
    send_activation_link(account, resent=True)
    audit.record(actor=None, target=account, event="enamad.account.activation_resent", ctx=ctx)
    return True
