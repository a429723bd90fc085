"""The bank backend (``AzBankGatewaysBackend``, az-iranian-bank-gateways' Zibal gateway) end to end
against the stand-in Zibal bank of ``ramis.requests.devbank``, served over HTTP on 127.0.0.1:
start → the bank's page → pay or cancel → the package's server-to-server verify → our callback."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
import requests
from azbankgateways.models import Bank, PaymentStatus
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from ramis.common.models import AuditEntry, OutboxMessage
from ramis.requests import checks
from ramis.requests.devbank import DevBank
from ramis.requests.models import CertificateRequest, Invoice, Payment

from .conftest import advance, make_draft

BACKEND = "ramis.requests.payments.AzBankGatewaysBackend"


@pytest.fixture
def bank():
    devbank = DevBank(merchants=frozenset({"zibal"}))
    server = devbank.server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    devbank.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    devbank.http = server
    yield devbank
    server.shutdown()
    server.server_close()


@pytest.fixture
def bank_settings(settings, bank):
    settings.PAYMENT_BACKEND = BACKEND
    settings.BANK_GATEWAY = "ZIBAL"
    settings.BANK_BASE_URL = bank.base_url
    config = dict(settings.AZ_IRANIAN_BANK_GATEWAYS)
    config["GATEWAYS"] = {"ZIBAL": {"MERCHANT_CODE": "zibal", "SANDBOX": 0, "BASE_URL": bank.base_url}}
    config["DEFAULT"] = "ZIBAL"
    settings.AZ_IRANIAN_BANK_GATEWAYS = config
    return settings


@pytest.fixture
def awaiting_payment(bank_settings, applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)


def _to_bank(client, bank, req) -> tuple[Payment, str]:
    """Press Pay in the panel: the payment is registered at the bank and the browser is sent to
    the bank's page; return the payment and that page's URL."""
    go = client.post(reverse("requests:pay", args=[req.pk]))  # the page that sends the browser on to the bank
    assert go.status_code == 200
    payment = Payment.objects.latest("id")
    record = Bank.objects.get(tracking_code=payment.gateway_ref)
    bank_page = f"{bank.base_url}/start/{record.reference_number}"
    page = go.content.decode()
    assert f'action="{bank_page}"' in page and "data-autosubmit" in page
    assert "csrfmiddlewaretoken" not in page  # our CSRF token is not handed to the bank
    # its forms may go to the portal and to this bank only (Content-Security-Policy form-action)
    assert f"form-action 'self' {bank.base_url}" in go["Content-Security-Policy"]
    assert record.status == PaymentStatus.REDIRECT_TO_BANK and int(record.amount) == payment.amount_rials
    return payment, bank_page


def _at_bank(bank_page: str, action: str) -> str:
    """The payer presses pay or cancel on the bank's page; return where the bank sends them."""
    page = requests.get(bank_page, timeout=5)
    assert page.status_code == 200 and "ریال" in page.text
    answer = requests.post(bank_page, data={"action": action}, timeout=5, allow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["Location"]


def _back(client, bank_return: str):
    """The browser comes back from the bank: the package verifies, then our callback settles."""
    response = client.get(bank_return)
    assert response.status_code == 302, response.content
    assert urlsplit(response["Location"]).path == reverse("payments:callback")
    return client.get(response["Location"])


def _state(req, payment):
    return (CertificateRequest.objects.get(pk=req.pk).status, Invoice.objects.get(pk=payment.invoice_id).status,
            Payment.objects.get(pk=payment.pk).status)


def test_pay_at_the_bank(applicant_client, applicant_person, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    done = _back(applicant_client, _at_bank(bank_page, "pay"))
    assert done["Location"] == reverse("requests:detail", args=[awaiting_payment.pk])
    assert _state(awaiting_payment, payment) == ("awaiting_appointment", "paid", "paid")
    order = next(iter(bank.orders.values()))
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.bank_ref == str(order.ref_number) and order.state == "verified" and order.verify_calls == 1
    assert order.amount == payment.amount_rials  # Zibal is asked in rials, as the invoice is
    assert Bank.objects.get(tracking_code=payment.gateway_ref).status == PaymentStatus.COMPLETE
    assert AuditEntry.objects.filter(event="payment.paid", target_id=str(payment.pk)).count() == 1
    assert AuditEntry.objects.filter(event="request.paid", new="awaiting_appointment").count() == 1
    assert OutboxMessage.objects.filter(template="request_paid", to=applicant_person.mobile).count() == 1


def test_cancel_at_the_bank_then_pay_again(applicant_client, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    done = _back(applicant_client, _at_bank(bank_page, "cancel"))
    assert done["Location"] == reverse("requests:detail", args=[awaiting_payment.pk])
    assert _state(awaiting_payment, payment) == ("awaiting_payment", "unpaid", "cancelled")
    assert AuditEntry.objects.filter(event="payment.cancelled", target_id=str(payment.pk)).count() == 1
    assert not OutboxMessage.objects.filter(template="request_paid").exists()

    second, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    _back(applicant_client, _at_bank(bank_page, "pay"))
    assert _state(awaiting_payment, second) == ("awaiting_appointment", "paid", "paid")


def test_verify_refused_by_the_bank_fails_the_payment(applicant_client, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    bank_return = _at_bank(bank_page, "pay")
    bank.verify_result = 104  # Zibal: "merchant inactive"
    _back(applicant_client, bank_return)
    assert _state(awaiting_payment, payment) == ("awaiting_payment", "unpaid", "failed")
    assert Bank.objects.get(tracking_code=payment.gateway_ref).status == PaymentStatus.ERROR
    assert AuditEntry.objects.filter(event="payment.failed", target_id=str(payment.pk)).count() == 1


def test_bank_unreachable_at_verify_fails_the_payment(applicant_client, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    bank_return = _at_bank(bank_page, "pay")
    bank.http.shutdown()
    bank.http.server_close()  # the bank is down when the package calls verify
    _back(applicant_client, bank_return)
    assert _state(awaiting_payment, payment) == ("awaiting_payment", "unpaid", "failed")
    assert Bank.objects.get(tracking_code=payment.gateway_ref).status == PaymentStatus.RETURN_FROM_BANK


def test_amount_the_bank_reports_must_be_the_invoice(applicant_client, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    bank.amount_delta = -10_000  # the bank's verify says it took less than was asked
    _back(applicant_client, _at_bank(bank_page, "pay"))
    assert _state(awaiting_payment, payment) == ("awaiting_payment", "unpaid", "failed")
    entry = AuditEntry.objects.get(event="payment.failed", target_id=str(payment.pk))
    assert entry.extra["mismatch"] == ["amount"] and entry.extra["reported_amount"] == payment.amount_rials - 10_000


def test_replayed_return_and_callback_are_idempotent(applicant_client, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    bank_return = _at_bank(bank_page, "pay")
    callback = applicant_client.get(bank_return)["Location"]
    applicant_client.get(callback)
    for _ in range(3):  # the browser reloads, the bank retries
        again = Client().get(bank_return)
        assert again.status_code == 302 and again["Location"] == callback
        assert Client().get(callback).status_code == 302
    assert next(iter(bank.orders.values())).verify_calls == 1  # the package does not verify twice
    assert _state(awaiting_payment, payment) == ("awaiting_appointment", "paid", "paid")
    assert AuditEntry.objects.filter(event="payment.paid").count() == 1
    assert AuditEntry.objects.filter(event="request.paid").count() == 1
    assert OutboxMessage.objects.filter(template="request_paid").count() == 1


def test_tracking_codes_that_are_not_ours_are_refused(applicant_client, bank, awaiting_payment):
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    callback = reverse("payments:callback")
    bank_return = reverse("payments:bank_return")
    # our callback: an unknown tracking code, none at all, and ours while the payer is still at the bank
    assert Client().get(f"{callback}?tc=1234567890123456").status_code == 400
    assert Client().get(callback).status_code == 400
    assert Client().get(f"{callback}?tc={payment.gateway_ref}").status_code == 400
    # the bank's return: a trackId the package has no record of, a bank we do not use
    assert Client().get(f"{bank_return}?bank_type=ZIBAL&identifier=1&trackId=999").status_code == 400
    assert Client().get(f"{bank_return}?bank_type=BMI&identifier=1&trackId=999").status_code == 400
    assert _state(awaiting_payment, payment) == ("awaiting_payment", "unpaid", "pending")
    # the real return still settles it afterwards
    _back(applicant_client, _at_bank(bank_page, "pay"))
    assert _state(awaiting_payment, payment) == ("awaiting_appointment", "paid", "paid")


def test_only_our_return_path_is_mounted(applicant_client, bank, awaiting_payment):
    """The package's own callback (and its sample pages) are not served: the bank returns to
    ``payments:bank_return``, and the package's callback answered 500 on a reference it did not know.
    Nor is its go-to-bank page, which posted a form (with our CSRF token) to any address its query
    string named: the Pay button answers with that page itself."""
    for path in ("/bankgateways/callback/", "/bankgateways/callback/?bank_type=ZIBAL&identifier=1&trackId=999",
                 "/bankgateways/sample-payment/", "/bankgateways/sample-result/",
                 "/bankgateways/go-to-bank-gateway/?url=https://attacker.example/&method=POST"):
        assert Client().get(path).status_code == 404, path
    payment, bank_page = _to_bank(applicant_client, bank, awaiting_payment)
    assert Client().get(f"/bankgateways/callback/?bank_type=ZIBAL&identifier=1&trackId={payment.gateway_ref}"
                        ).status_code == 404
    _back(applicant_client, _at_bank(bank_page, "pay"))
    assert _state(awaiting_payment, payment) == ("awaiting_appointment", "paid", "paid")


def test_bank_refusing_to_start_is_a_persian_message(applicant_client, bank_settings, bank, awaiting_payment):
    bank_settings.AZ_IRANIAN_BANK_GATEWAYS["GATEWAYS"]["ZIBAL"]["MERCHANT_CODE"] = "not-ours"
    response = applicant_client.post(reverse("requests:pay", args=[awaiting_payment.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("requests:detail", args=[awaiting_payment.pk])
    assert "اتصال به درگاه پرداخت ممکن نشد" in response.content.decode()
    assert not bank.orders and not Bank.objects.exists()
    assert CertificateRequest.objects.get(pk=awaiting_payment.pk).status == "awaiting_payment"


def test_deploy_check_for_the_bank_backend(bank_settings):
    bank_settings.BANK_BASE_URL = ""  # the gateway's own address
    assert checks.bank_gateway_configured(None) == []
    bank_settings.BANK_BASE_URL = "http://127.0.0.1:8010"  # the stand-in bank
    assert [e.id for e in checks.bank_gateway_configured(None)] == ["ramis.E004"]
    bank_settings.BANK_BASE_URL = "https://gateway.zibal.ir"
    assert checks.bank_gateway_configured(None) == []
    bank_settings.BANK_FORM_ACTION = ["https://ipg.bank.example:8443"]  # an origin the bank's page redirects through
    assert checks.bank_gateway_configured(None) == []
    for wider in ("*", "https:", "http://ipg.bank.example", "https://ipg.bank.example/pay", "https://*.example"):
        bank_settings.BANK_FORM_ACTION = [wider]
        assert [e.id for e in checks.bank_gateway_configured(None)] == ["ramis.E005"], wider
    bank_settings.BANK_FORM_ACTION = []
    bank_settings.AZ_IRANIAN_BANK_GATEWAYS["GATEWAYS"]["ZIBAL"]["MERCHANT_CODE"] = ""
    assert [e.id for e in checks.bank_gateway_configured(None)] == ["ramis.E003"]
    bank_settings.BANK_GATEWAY = "MELLAT"  # configured under another name: not installed for it
    assert [e.id for e in checks.bank_gateway_configured(None)] == ["ramis.E002"]
    bank_settings.PAYMENT_BACKEND = "ramis.requests.payments.SandboxPaymentBackend"
    assert checks.bank_gateway_configured(None) == []


def test_devbank_command_refuses_a_busy_port(bank):
    with pytest.raises(CommandError, match="cannot listen on 127.0.0.1"):
        call_command("devbank", port=bank.http.server_address[1])
