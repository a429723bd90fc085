"""Payment gateways (X4): a small interface and its implementations, chosen by ``PAYMENT_BACKEND``
(like ``SMS_BACKEND``).

A backend does two things, both network I/O that runs with no transaction open:

* ``start(payment=..., request=..., callback_url=...)`` sends the payer to the gateway and
  returns the HTTP response that does it (it may set ``payment.gateway_ref``; the caller saves);
* ``verify_callback(request)`` reads what the gateway sent back to the callback URL, checks it
  (signature, or the bank's verify call) and returns a ``GatewayResult``; a callback that does not
  verify raises ``CallbackRejected``.

The result is then settled by ``services.payment_settle`` in one transaction, which checks the
amount and the invoice against the stored payment and is idempotent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.module_loading import import_string

logger = logging.getLogger("ramis.payments")


class CallbackRejected(Exception):
    """The callback is not authentic or not understood: nothing is settled."""


class GatewayUnavailable(Exception):
    """The gateway could not be reached to start a payment."""


@dataclass(frozen=True)
class GatewayResult:
    token: str  # our Payment.token
    ok: bool  # the gateway says the money was taken
    amount_rials: int | None
    invoice_id: int | None = None
    bank_ref: str = ""
    cancelled: bool = False
    raw: dict = field(default_factory=dict)


class BasePaymentBackend:
    name = "base"

    def __init__(self, **options):
        self.options = options

    def start(self, *, payment, request, callback_url: str) -> HttpResponse:
        raise NotImplementedError

    def verify_callback(self, request) -> GatewayResult:
        raise NotImplementedError


class SandboxPaymentBackend(BasePaymentBackend):
    """Development and tests: a real page of this site plays the bank. It shows the invoice with
    **Pay** and **Cancel**; either sends the browser to the callback with a result signed with
    HMAC-SHA256 (``PAYMENT_SANDBOX_SECRET``) over the payment token, invoice id, amount, outcome
    and bank reference. The callback accepts only a result whose signature verifies."""

    name = "sandbox"
    FIELDS = ("token", "invoice", "amount", "status", "ref")

    def _key(self) -> bytes:
        secret = self.options.get("secret") or f"{settings.SECRET_KEY}:payment-sandbox"
        return secret.encode()

    def sign(self, params: dict) -> str:
        message = "|".join(f"{name}={params.get(name, '')}" for name in self.FIELDS).encode()
        return hmac.new(self._key(), message, hashlib.sha256).hexdigest()

    def start(self, *, payment, request, callback_url: str) -> HttpResponse:
        return HttpResponseRedirect(reverse("payments:sandbox", args=[payment.token]))

    def signed_result(self, *, payment, paid: bool, ref: str = "") -> dict:
        params = {
            "token": payment.token, "invoice": str(payment.invoice_id), "amount": str(payment.amount_rials),
            "status": "ok" if paid else "cancel", "ref": ref,
        }
        params["sig"] = self.sign(params)
        return params

    def callback_url(self, params: dict) -> str:
        return f"{reverse('payments:callback')}?{urlencode(params)}"

    def verify_callback(self, request) -> GatewayResult:
        data = request.POST if request.method == "POST" else request.GET
        params = {name: data.get(name, "") for name in self.FIELDS}
        signature = data.get("sig", "")
        if not params["token"] or not hmac.compare_digest(self.sign(params), signature):
            raise CallbackRejected("bad signature")
        try:
            amount = int(params["amount"])
            invoice_id = int(params["invoice"])
        except ValueError:
            raise CallbackRejected("malformed amount or invoice") from None
        if params["status"] not in {"ok", "cancel"}:
            raise CallbackRejected("unknown status")
        return GatewayResult(
            token=params["token"], ok=params["status"] == "ok", amount_rials=amount, invoice_id=invoice_id,
            bank_ref=params["ref"], cancelled=params["status"] == "cancel", raw=dict(params),
        )


class AzBankGatewaysBackend(BasePaymentBackend):
    """Production: Iranian bank gateways (BMI, SEP, Mellat, Zarinpal, …) through the
    ``az-iranian-bank-gateways`` package, which talks to the bank, verifies the payment with the
    bank's own verify call at its callback and then sends the payer on to ours with ``?tc=``.

    Needs ``pip install '.[bank]'``, ``azbankgateways`` in ``INSTALLED_APPS``, its URLs mounted
    and ``AZ_IRANIAN_BANK_GATEWAYS`` configured (``CURRENCY: "IRR"``): ``ramis/settings.py`` does
    all of this when ``PAYMENT_BACKEND`` names this class. See README "RAMIS requests".
    """

    name = "az-bank"

    def start(self, *, payment, request, callback_url: str) -> HttpResponse:
        from azbankgateways import bankfactories
        from azbankgateways.exceptions import AZBankGatewaysException

        try:
            bank = bankfactories.BankFactory().auto_create()
            bank.set_request(request)
            bank.set_amount(payment.amount_rials)
            bank.set_client_callback_url(callback_url)
            mobile = self.options.get("mobile")
            if mobile:
                bank.set_mobile_number(mobile)
            record = bank.ready()
            payment.gateway_ref = record.tracking_code
            return bank.redirect_gateway()
        except AZBankGatewaysException as exc:
            logger.error("bank gateway refused to start payment %s: %s", payment.pk, exc)
            raise GatewayUnavailable(str(exc)) from exc

    def verify_callback(self, request) -> GatewayResult:
        from azbankgateways import default_settings as az_settings
        from azbankgateways import models as bank_models

        from .models import Payment

        tracking_code = request.GET.get(az_settings.TRACKING_CODE_QUERY_PARAM, "")
        if not tracking_code:
            raise CallbackRejected("no tracking code")
        record = bank_models.Bank.objects.filter(tracking_code=tracking_code).first()
        payment = Payment.objects.filter(gateway_ref=tracking_code).first()
        if record is None or payment is None:
            raise CallbackRejected("unknown tracking code")
        return GatewayResult(
            token=payment.token, ok=bool(record.is_success), amount_rials=int(record.amount),
            invoice_id=payment.invoice_id, bank_ref=record.reference_number or "",
            cancelled=record.status == bank_models.PaymentStatus.CANCEL_BY_USER,
            raw={"tracking_code": tracking_code, "status": record.status},
        )


def sandbox_refused() -> bool:
    """In production the sandbox (which lets anyone "pay") is refused unless explicitly allowed
    (a staging deployment): `manage.py check --deploy` reports it and the pages refuse to pay."""
    return (settings.PAYMENT_BACKEND.endswith("SandboxPaymentBackend") and settings.PRODUCTION
            and not settings.PAYMENT_ALLOW_SANDBOX)


def get_backend() -> BasePaymentBackend:
    if sandbox_refused():
        raise ImproperlyConfigured("the sandbox payment gateway is refused in production: set PAYMENT_BACKEND")
    return import_string(settings.PAYMENT_BACKEND)(**settings.PAYMENT_OPTIONS)
