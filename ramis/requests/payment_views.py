"""The gateway's side (X4): the sandbox bank page and the callback every backend returns to."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt

from ramis.common.context import audit_context

from . import services
from .models import Payment
from .payments import CallbackRejected, SandboxPaymentBackend, get_backend

logger = logging.getLogger("ramis.payments")


def sandbox(request, token: str):
    """The sandbox bank: shows the invoice; Pay or Cancel sends the browser back to the
    callback with a signed result. Exists only while the sandbox is the configured backend."""
    backend = get_backend()
    if not isinstance(backend, SandboxPaymentBackend):
        raise Http404
    payment = get_object_or_404(
        Payment.objects.select_related("invoice", "invoice__request", "invoice__request__applicant"), token=token
    )
    if request.method == "POST":
        paid = request.POST.get("action") == "pay"
        ref = f"SBX{secrets.randbelow(10**12):012d}" if paid else ""
        params = backend.signed_result(payment=payment, paid=paid, ref=ref)
        return HttpResponseRedirect(backend.callback_url(params))
    return render(request, "payments/sandbox.html", {
        "payment": payment, "invoice": payment.invoice, "lines": payment.invoice.lines.all(),
        "req": payment.invoice.request,
    })


@csrf_exempt  # the bank sends the payer here from its own site
def bank_return(request):
    """The bank backend's return address (``AZ_IRANIAN_BANK_GATEWAYS["CALLBACK_NAMESPACE"]``): the
    package calls the bank's verify, then the payer goes on to ``callback`` with the tracking
    code. Unlike the package's own view, a bank type we do not use or a reference the package
    has no record of is refused here (400) instead of failing with a server error."""
    from azbankgateways.bankfactories import BankFactory
    from azbankgateways.exceptions import AZBankGatewaysException

    gateways = settings.AZ_IRANIAN_BANK_GATEWAYS["GATEWAYS"]
    bank_type = request.GET.get("bank_type", "")
    if bank_type not in gateways:
        return HttpResponseBadRequest("درگاه ناشناخته است.")
    bank = BankFactory().create(bank_type, identifier=request.GET.get("identifier") or "1")
    try:
        bank.verify_from_gateway(request)
    except (AZBankGatewaysException, ValueError, KeyError) as exc:
        # a replay (the record is past "redirected to bank"), the bank not answering the verify
        # call, or a reference that is not ours; the record says which
        logger.warning("bank return (%s): %r", bank_type, exc)
    if bank.get_tracking_code() is None:
        return HttpResponseBadRequest("پرداخت ناشناخته است.")
    return bank.redirect_client_callback()


@csrf_exempt  # the bank posts here from its own site; the result is verified by the backend instead
def callback(request):
    """Verify the gateway's result, settle it (idempotently), send the payer to the request."""
    backend = get_backend()
    try:
        result = backend.verify_callback(request)
    except CallbackRejected as exc:
        logger.warning("payment callback rejected: %s", exc)
        return HttpResponseBadRequest("نتیجه پرداخت معتبر نیست.")
    try:
        payment = services.payment_settle(result=result, ctx=audit_context(request))
    except PermissionDenied:
        return HttpResponseBadRequest("پرداخت ناشناخته است.")
    req_id = payment.invoice.request_id
    if payment.status == Payment.Status.PAID:
        messages.success(request, "پرداخت با موفقیت انجام شد.")
    elif payment.status == Payment.Status.CANCELLED:
        messages.warning(request, "پرداخت لغو شد؛ می‌توانید دوباره پرداخت کنید.")
    elif payment.status == Payment.Status.REFUND_DUE:
        messages.warning(request, "این صورت‌حساب قبلاً پرداخت شده بود؛ مبلغ این پرداخت بازگردانده می‌شود.")
    else:
        messages.error(request, "پرداخت ناموفق بود؛ اگر مبلغی کسر شده باشد بازگردانده می‌شود.")
    return redirect("requests:detail", pk=req_id)
