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
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string

from ramis.common.csp import form_action_update, origin

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
    """Production: Iranian bank gateways (Zibal, BMI, SEP, Mellat, …) through the
    ``az-iranian-bank-gateways`` package. ``start`` registers the payment with the bank (the
    package's record carries a tracking code, kept as ``Payment.gateway_ref``) and answers with the
    page that sends the payer there (``bank_redirect_page``); the bank sends the payer back to
    ``payments:bank_return``, where the package calls the bank's verify; then to
    ``payments:callback?tc=<tracking code>``, where ``verify_callback`` reads the verified record.
    Tested end to end against ``ramis.requests.devbank`` (Zibal).

    Needs ``pip install '.[bank]'`` and the ``BANK_*`` settings (docs/reference/requests.md);
    ``ramis/settings.py`` installs the app (none of its URLs is mounted).
    """

    name = "az-bank"

    def start(self, *, payment, request, callback_url: str) -> HttpResponse:
        from azbankgateways import bankfactories
        from azbankgateways.exceptions import AZBankGatewaysException

        try:
            # create(), not auto_create(): the latter registers a throw-away test payment at the
            # bank before every real one (its "health check" is a pay call).
            bank = bankfactories.BankFactory().create()
            bank.set_request(request)
            bank.set_amount(payment.amount_rials)
            bank.set_client_callback_url(callback_url)
            bank.set_mobile_number(payment.invoice.request.applicant.mobile)
            record = bank.ready()
            payment.gateway_ref = str(record.tracking_code)
            gateway = bank.get_gateway()  # the bank's page: url, method, params; the record is "sent to bank"
        except (AZBankGatewaysException, ValueError, KeyError) as exc:  # ValueError: an answer that is not JSON
            logger.error("bank gateway refused to start payment %s: %r", payment.pk, exc)
            raise GatewayUnavailable(str(exc)) from exc
        return bank_redirect_page(request, gateway)

    def verify_callback(self, request) -> GatewayResult:
        from azbankgateways import default_settings as az_settings
        from azbankgateways import models as bank_models

        from .models import Payment

        tracking_code = request.GET.get(az_settings.TRACKING_CODE_QUERY_PARAM, "")
        if not tracking_code:
            raise CallbackRejected("no tracking code")
        record = bank_models.Bank.objects.filter(tracking_code=tracking_code).first()
        payment = Payment.objects.filter(gateway_ref=tracking_code, backend=self.name).first()
        if record is None or payment is None:
            raise CallbackRejected("unknown tracking code")
        if record.status in {bank_models.PaymentStatus.WAITING, bank_models.PaymentStatus.REDIRECT_TO_BANK}:
            raise CallbackRejected("the bank has not returned this payment yet")
        answer = _json_object(record.extra_information)
        # The amount the bank's verify answer says it took, where the gateway reports one (Zibal
        # does); otherwise the amount the bank verified against (the record's).
        reported = answer.get("amount", record.amount)
        try:
            amount = int(reported)
        except (TypeError, ValueError):
            amount = None
        return GatewayResult(
            token=payment.token, ok=bool(record.is_success), amount_rials=amount,
            invoice_id=payment.invoice_id, bank_ref=str(answer.get("refNumber") or record.reference_number or ""),
            cancelled=record.status == bank_models.PaymentStatus.CANCEL_BY_USER,
            raw={"tracking_code": tracking_code, "status": record.status, "bank_answer": answer},
        )


def bank_redirect_page(request, gateway: dict) -> HttpResponse:
    """The page whose form takes the payer on to the bank (``templates/azbankgateways/``), as the
    answer to the Pay button. Rendered here with the address the bank's class gave, not by the
    package's go-to-bank view, which takes that address from its query string (a form anyone could
    aim anywhere). Its Content-Security-Policy lets this form, and only this page's, go to the
    bank's origin and to ``BANK_FORM_ACTION`` (``ramis.common.csp``)."""
    response = render(request, "azbankgateways/redirect_to_bank.html", gateway)
    form_action_update(response, [origin(gateway["url"]), *settings.BANK_FORM_ACTION])
    return response


def _json_object(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def sandbox_refused() -> bool:
    """In production the sandbox (which lets anyone "pay") is refused unless explicitly allowed
    (a staging deployment): `manage.py check --deploy` reports it and the pages refuse to pay."""
    return (settings.PAYMENT_BACKEND.endswith("SandboxPaymentBackend") and settings.PRODUCTION
            and not settings.PAYMENT_ALLOW_SANDBOX)


def get_backend() -> BasePaymentBackend:
    if sandbox_refused():
        raise ImproperlyConfigured("the sandbox payment gateway is refused in production: set PAYMENT_BACKEND")
    return import_string(settings.PAYMENT_BACKEND)(**settings.PAYMENT_OPTIONS)
