"""Shared data for the requests tests: the catalogue (tariffs, tokens, document requirements)
and helpers that walk a request through its states with the real services."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import issue_test_certificate

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def pdf_upload(name="doc.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


@pytest.fixture
def catalogue(db):
    from ramis.offices.models import Tariff, TokenModel
    from ramis.requests.models import DocumentRequirement

    start = dt.date(2020, 1, 1)
    for item, years, treasury, office in [
        ("signature", 2, 1_500_000, 500_000), ("signature", 1, 900_000, 300_000),
        ("seal", 2, 3_000_000, 1_000_000), ("seal", 1, 1_800_000, 600_000), ("on_site", 0, 0, 2_000_000),
    ]:
        Tariff.objects.create(item=item, validity_years=years, treasury_rials=treasury, office_rials=office,
                              valid_from=start)
    token = TokenModel.objects.create(name="ePass 2003", manufacturer="Feitian", price_rials=4_500_000)
    TokenModel.objects.create(name="قدیمی", price_rials=1, is_active=False)
    reqs = {
        "national-card": DocumentRequirement.objects.create(code="national-card", title="تصویر کارت ملی", order=1),
        "birth-certificate": DocumentRequirement.objects.create(
            code="birth-certificate", title="صفحه اول شناسنامه یا گذرنامه", order=2, on_renewal=False),
        "introduction-letter": DocumentRequirement.objects.create(
            code="introduction-letter", title="معرفی‌نامه شرکت", order=3),
        "gazette": DocumentRequirement.objects.create(
            code="gazette", title="آگهی روزنامه رسمی آخرین تغییرات", applies_to="seal", order=4),
        "photo": DocumentRequirement.objects.create(code="photo", title="عکس پرسنلی", required=False, order=5),
    }
    return {"token": token, "requirements": reqs}


def user_of(person):
    if person.user is None:
        from certauth.models import User

        person.user = User.objects.create(username=f"nc-{person.national_code}")
        person.save(update_fields=["user"])
    return person.user


def make_draft(person, office, *, cert_type="signature", service_type="in_person", hardware="buy", catalogue=None,
               upload=True, confirm=True):
    """A complete draft through the services (as the form steps would save it); its e-mail address
    confirmed with the code mailed to it (unless ``confirm`` is false)."""
    from ramis.requests import services
    from ramis.requests.models import DocumentRequirement

    user = user_of(person)
    role = person.roles.get()
    req = services.request_create(role_id=role.pk, cert_type=cert_type, actor=user)
    services.request_update(request_id=req.pk, actor=user, step="details", data={
        "email": f"a{req.pk}@example.com", "latin_first_name": "Ali", "latin_last_name": "Rezaei",
        "latin_company_name": "Pars Sample Co", "validity_years": 2,
    })
    services.request_update(request_id=req.pk, actor=user, step="office", data={
        "office": office, "service_type": service_type,
        "on_site_address": "تهران، خیابان نمونه" if service_type == "on_site" else "",
    })
    token_data = {"token_choice": hardware, "token_model": catalogue["token"] if hardware == "buy" else None}
    services.request_update(request_id=req.pk, actor=user, step="token", data=token_data)
    if confirm:
        confirm_email(req, user)
    if upload:
        req = type(req).objects.get(pk=req.pk)
        for requirement in DocumentRequirement.objects.for_request(req).filter(required=True):
            services.document_upload(request_id=req.pk, requirement_id=requirement.pk, upload=pdf_upload(),
                                     actor=user)
    return type(req).objects.get(pk=req.pk)


def mailed_email_code(address: str) -> str:
    """The code of the latest confirmation e-mail to ``address``: from Django's locmem backend, or,
    where a Celery worker (not eager) delivers it, from the outbox row while it still holds it."""
    import time

    from django.core import mail

    from ramis.common.models import OutboxMessage

    pattern = re.compile(r"کد تأیید رایانامه: (\d{6})")
    deadline = time.monotonic() + 10
    while True:
        bodies = [m.body for m in mail.outbox if address in m.to]
        row = OutboxMessage.objects.filter(to=address, template="request_email_code").order_by("-pk").first()
        found = pattern.search(bodies[-1]) if bodies else (pattern.search(row.body) if row else None)
        if found or time.monotonic() > deadline:
            return found.group(1)
        time.sleep(0.1)


def confirm_email(req, user) -> None:
    """Confirm the request's address as the applicant does: the e-mailed code, entered."""
    from django.test import TestCase

    from ramis.requests import email_confirmation

    with TestCase.captureOnCommitCallbacks(execute=True):  # the e-mail leaves after commit
        email_confirmation.request_email_send_code(request_id=req.pk, actor=user)
    address = type(req).objects.get(pk=req.pk).email
    email_confirmation.request_email_confirm(request_id=req.pk, actor=user, code=mailed_email_code(address))


def advance(req, to: str, *, clerk=None):
    """Walk ``req`` with the real services up to state ``to``."""
    from ramis.requests import services
    from ramis.requests.models import Payment
    from ramis.requests.payments import GatewayResult

    user = req.applicant.user
    order = ["draft", "submitted", "awaiting_payment", "paid", "awaiting_issuance", "issued"]
    target = order.index(to)
    if target >= 1:
        if not type(req).objects.get(pk=req.pk).email_is_confirmed:  # a renewal's address, confirmed anew
            confirm_email(req, user)
        services.request_submit(request_id=req.pk, actor=user)
    if target >= 2:
        services.request_approve(request_id=req.pk, actor=clerk)
    if target >= 3:
        payment = services.payment_start(request_id=req.pk, actor=user, backend_name="sandbox")
        services.payment_settle(result=GatewayResult(token=payment.token, ok=True, amount_rials=payment.amount_rials,
                                                     invoice_id=payment.invoice_id, bank_ref="T1"))
        assert Payment.objects.get(pk=payment.pk).status == "paid"
    if target >= 4:
        req = type(req).objects.get(pk=req.pk)
        if req.service_type == "in_person":
            from ramis.requests import selectors

            slot = next(start for slots in selectors.free_slots(req.office).values() for start, left in slots if left)
            services.appointment_book(request_id=req.pk, actor=user, starts_at=slot)
        else:
            services.visit_schedule(request_id=req.pk, actor=clerk, starts_at=timezone.now() + dt.timedelta(days=3))
    if target >= 5:
        issued = issue_test_certificate(req.cert_type)
        return services.request_mark_issued(request_id=req.pk, actor=clerk, serial=issued.serial_hex,
                                            not_before=issued.not_before, not_after=issued.not_after)
    return type(req).objects.get(pk=req.pk)
