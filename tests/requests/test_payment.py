"""Payment (R11, X4): sandbox gateway pages, signed callbacks, verification, idempotency."""

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ramis.common.models import AuditEntry, OutboxMessage
from ramis.common.templatetags.jalali import rials
from ramis.requests import services
from ramis.requests.models import CertificateRequest, Invoice, Payment, Refund
from ramis.requests.payments import SandboxPaymentBackend, get_backend
from tests.conftest import last_sms, pdf_text

from .conftest import advance, make_draft


@pytest.fixture
def awaiting_payment(applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)


def _start(client, req) -> Payment:
    response = client.post(reverse("requests:pay", args=[req.pk]))
    payment = Payment.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == reverse("payments:sandbox", args=[payment.token])
    return payment


def _gateway(client, payment, action) -> str:
    """Press Pay/Cancel on the sandbox page; return the callback URL it sends the browser to."""
    page = Client().get(reverse("payments:sandbox", args=[payment.token]))
    assert page.status_code == 200 and payment.invoice.number in page.content.decode()
    response = Client().post(reverse("payments:sandbox", args=[payment.token]), {"action": action})
    assert response.status_code == 302
    return response["Location"]


def test_pay_in_sandbox(applicant_client, applicant_person, awaiting_payment):
    payment = _start(applicant_client, awaiting_payment)
    callback = _gateway(applicant_client, payment, "pay")
    response = applicant_client.get(callback)
    assert response["Location"] == reverse("requests:detail", args=[awaiting_payment.pk])
    req = CertificateRequest.objects.get(pk=awaiting_payment.pk)
    assert req.status == "awaiting_appointment"
    payment = Payment.objects.get(pk=payment.pk)
    invoice = Invoice.objects.get(pk=payment.invoice_id)
    assert payment.status == "paid" and payment.bank_ref.startswith("SBX") and invoice.status == "paid"
    assert AuditEntry.objects.filter(event="request.paid", old="awaiting_payment", new="awaiting_appointment").count() == 1
    assert OutboxMessage.objects.filter(template="request_paid", to=applicant_person.mobile).count() == 1


def test_on_site_request_awaits_the_visit_after_payment(applicant_client, applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, service_type="on_site", catalogue=catalogue),
                  "awaiting_payment", clerk=clerk)
    payment = _start(applicant_client, req)
    applicant_client.get(_gateway(applicant_client, payment, "pay"))
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_visit"


def test_callback_replay_is_idempotent(applicant_client, awaiting_payment):
    payment = _start(applicant_client, awaiting_payment)
    callback = _gateway(applicant_client, payment, "pay")
    for _ in range(3):
        assert Client().get(callback).status_code == 302  # the bank retries, the browser reloads
    assert AuditEntry.objects.filter(event="request.paid").count() == 1
    assert AuditEntry.objects.filter(event="payment.paid").count() == 1
    assert OutboxMessage.objects.filter(template="request_paid").count() == 1


def _tampered(callback: str, **changes) -> str:
    parsed = urlparse(callback)
    params = {k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
    params.update(changes)
    from urllib.parse import urlencode

    return f"{parsed.path}?{urlencode(params)}"


@pytest.mark.parametrize("changes", [
    {"amount": "1"}, {"status": "ok", "sig": "0" * 64}, {"invoice": "999"}, {"token": "someone-elses"}, {"sig": ""},
])
def test_tampered_callback_is_rejected(applicant_client, awaiting_payment, changes):
    payment = _start(applicant_client, awaiting_payment)
    callback = _gateway(applicant_client, payment, "pay")
    response = Client().get(_tampered(callback, **changes))
    assert response.status_code == 400
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert CertificateRequest.objects.get(pk=awaiting_payment.pk).status == "awaiting_payment"


def test_cancel_turned_into_paid_is_rejected(applicant_client, awaiting_payment):
    payment = _start(applicant_client, awaiting_payment)
    cancel = _gateway(applicant_client, payment, "cancel")
    assert Client().get(_tampered(cancel, status="ok")).status_code == 400
    assert Client().get(cancel).status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    assert CertificateRequest.objects.get(pk=awaiting_payment.pk).status == "awaiting_payment"
    # paying again works with a new attempt
    second = _start(applicant_client, awaiting_payment)
    Client().get(_gateway(applicant_client, second, "pay"))
    assert CertificateRequest.objects.get(pk=awaiting_payment.pk).status == "awaiting_appointment"
    # and the old cancel replayed changes nothing
    Client().get(cancel)
    assert Payment.objects.get(pk=second.pk).status == "paid"


def test_correctly_signed_but_wrong_amount_fails_the_payment(applicant_client, awaiting_payment):
    """A gateway that reports another amount (signed with the right key) does not pay the invoice."""
    payment = _start(applicant_client, awaiting_payment)
    backend = get_backend()
    params = backend.signed_result(payment=payment, paid=True, ref="X")
    params["amount"] = str(payment.amount_rials - 1)
    params["sig"] = backend.sign(params)
    Client().get(backend.callback_url(params))
    assert Payment.objects.get(pk=payment.pk).status == "failed"
    assert CertificateRequest.objects.get(pk=awaiting_payment.pk).status == "awaiting_payment"
    assert AuditEntry.objects.get(event="payment.failed").extra["mismatch"] == ["amount"]


def test_second_successful_payment_is_kept_for_refund(applicant_client, applicant_person, awaiting_payment):
    first = _start(applicant_client, awaiting_payment)
    second = _start(applicant_client, awaiting_payment)  # two tabs
    Client().get(_gateway(applicant_client, first, "pay"))
    duplicate_callback = _gateway(applicant_client, second, "pay")
    Client().get(duplicate_callback)
    assert Payment.objects.get(pk=first.pk).status == "paid"
    assert Payment.objects.get(pk=second.pk).status == "refund_due"
    assert AuditEntry.objects.filter(event="request.paid").count() == 1
    # the duplicate gets its refund, as a cancelled paid request does: an operator pays it back
    refund = Refund.objects.get()
    invoice = Invoice.objects.get(pk=second.invoice_id)
    assert (refund.payment_id, refund.invoice_id, refund.request_id) == (second.pk, invoice.pk, awaiting_payment.pk)
    assert refund.amount_rials == second.amount_rials == invoice.total_rials and refund.status == "requested"
    assert refund.treasury_rials == sum(line.amount_rials for line in invoice.lines.filter(payee="treasury"))
    assert refund.treasury_rials + refund.office_rials == refund.amount_rials
    entry = AuditEntry.objects.get(event="refund.requested", target_id=str(refund.pk))
    assert entry.actor is None and entry.extra["amount"] == second.amount_rials
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "payment_duplicate" and rials(second.amount_rials) in sms.body
    # a replayed callback of the duplicate adds nothing
    Client().get(duplicate_callback)
    assert Refund.objects.count() == 1 and OutboxMessage.objects.filter(template="payment_duplicate").count() == 1
    page = applicant_client.get(reverse("requests:detail", args=[awaiting_payment.pk])).content.decode()
    assert 'id="refund"' in page and "این پرداخت تکراری" in page and "در انتظار بازپرداخت" in page
    # the request goes on: a later cancel refunds the first payment as well, apart
    services.request_cancel(request_id=awaiting_payment.pk, actor=applicant_person.user)
    assert sorted(Refund.objects.values_list("payment_id", flat=True)) == sorted([first.pk, second.pk])


def test_duplicate_refund_paid_by_the_operator(applicant_client, applicant_person, awaiting_payment):
    from django.contrib.auth.models import Permission

    from tests.conftest import make_staff

    first, second = _start(applicant_client, awaiting_payment), _start(applicant_client, awaiting_payment)
    for payment in (first, second):
        Client().get(_gateway(applicant_client, payment, "pay"))
    operator = make_staff("refund-operator")
    operator.user_permissions.add(Permission.objects.get(codename="pay_refund"))
    refund = services.refund_mark_paid(refund_id=Refund.objects.get(payment=second).pk, actor=operator,
                                       bank_ref="RF-1")
    assert refund.status == "paid"
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "refund_paid" and "پرداخت تکراری" in sms.body and "لغوشده" not in sms.body


def test_cannot_start_payment_unless_awaiting_payment(applicant_client, applicant_person, office, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    applicant_client.post(reverse("requests:pay", args=[req.pk]))
    assert not Payment.objects.exists()


def test_sandbox_page_is_gone_when_another_backend_is_configured(applicant_client, awaiting_payment, settings):
    payment = _start(applicant_client, awaiting_payment)
    settings.PAYMENT_BACKEND = "ramis.requests.payments.AzBankGatewaysBackend"
    assert Client().get(reverse("payments:sandbox", args=[payment.token])).status_code == 404


def test_sandbox_signature_uses_the_configured_secret(awaiting_payment, settings):
    one = SandboxPaymentBackend(secret="a").sign({"token": "t"})
    assert one != SandboxPaymentBackend(secret="b").sign({"token": "t"})


def test_receipt_pdf_is_persian(applicant_client, other_applicant_client, awaiting_payment):
    assert applicant_client.get(reverse("requests:receipt", args=[awaiting_payment.pk])).status_code == 404  # unpaid
    # paid at 06:45 UTC on 22 March 2025: 10:15 on 2 Farvardin 1404 in Tehran (the session's idle
    # timeout counts in the same clock, so the visit stays in it)
    with time_machine.travel(dt.datetime(2025, 3, 22, 6, 45, tzinfo=dt.UTC), tick=False):
        payment = _start(applicant_client, awaiting_payment)
        applicant_client.get(_gateway(applicant_client, payment, "pay"))
        response = applicant_client.get(reverse("requests:receipt", args=[awaiting_payment.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    invoice = Invoice.objects.get(request=awaiting_payment)
    assert invoice.number in text and Payment.objects.get(pk=payment.pk).bank_ref in text
    for label in ("رسید پرداخت", "شماره صورتحساب", "شماره درخواست", "پرداختکننده", "تاریخ پرداخت",
                  "شماره پیگیری بانک", "شرح", "ذینفع", "مبلغ (ریال)", "جمع پرداختشده"):
        assert label in text, label
    assert "کد ملی" in text and "۰۴۹۹۳۷۰۸۹۹" in text  # the payer's national code in Persian digits
    assert "۶٬۵۰۰٬۰۰۰" in text and "6,500,000" not in text and "6500000" not in text  # the total
    assert "۱٬۵۰۰٬۰۰۰" in text and "خزانه" in text  # the treasury's share of the fee
    # the Jalali date and Tehran time of the payment, as the value of its row (pdftotext gives the
    # two runs of digits in visual order)
    paid_on = lines[lines.index("تاریخ پرداخت") + 1]
    assert sorted(paid_on.split()) == sorted(["۱۴۰۴/۰۱/۰۲", "۱۰:۱۵"])
    assert other_applicant_client.get(reverse("requests:receipt", args=[awaiting_payment.pk])).status_code == 404
