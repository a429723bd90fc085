"""The words e-Namad's services post outside a page — the postal letter's text and the thread
lines a change request's decision leaves — are templates (``templates/enamad/words/``), read as
they did when the services wrote them (issue 15)."""

import re
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from enamad.businesses.services import business_send_address_letter
from enamad.models import ChangeStatus, Ticket
from enamad.support.services import ticket_approve_change, ticket_reject_change
from tests.enamad.conftest import make_business
from tests.enamad.support.test_tickets import pdf, png, to_legal


def test_the_words_render_plain_and_whole():
    business = SimpleNamespace(name='کتاب "نو" & دفتر', domain="shop.test")
    letter = render_to_string("enamad/words/address_letter.txt", {"business": business, "code": "01234567"})
    assert letter.strip() == 'کد احراز نشانی کسب‌وکار «کتاب "نو" & دفتر» (shop.test) در سامانه اینماد: 01234567'

    def approved(note, superseded=()):
        return render_to_string("enamad/words/change_approved.txt",
                                {"note": note, "superseded": list(superseded)}).strip()

    assert approved("") == approved("  ") == "درخواست تغییر تأیید و اعمال شد."
    assert approved("مدارک <درست> است.") == "درخواست تغییر تأیید و اعمال شد.\nمدارک <درست> است."
    assert approved("", ["نام کسب‌وکار", "رایانامه"]) == (
        "درخواست تغییر تأیید و اعمال شد.\nمقدار درخواستی شما در تمدید برای همین موارد کنار گذاشته شد و مقدار "
        "این تیکت می‌ماند: نام کسب‌وکار، رایانامه.")
    rejected = render_to_string("enamad/words/change_rejected.txt", {"note": "آگهی & اساسنامه ناخواناست."})
    assert rejected.strip() == "درخواست تغییر رد شد: آگهی & اساسنامه ناخواناست."


@pytest.mark.django_db
def test_the_services_post_the_same_words(owner_client, account, enamad_expert):
    business = make_business(account, ready=False)
    letter = business_send_address_letter(business_id=business.pk, actor=account.user)
    code = re.search(r"(\d{8})", letter.body).group(1)
    assert letter.body == f"کد احراز نشانی کسب‌وکار «{business.name}» ({business.domain}) در سامانه اینماد: {code}"

    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get()
    ticket_reject_change(ticket_id=ticket.pk, actor=enamad_expert, note="آگهی ناخواناست.")
    assert ticket.messages.order_by("-pk").first().body == "درخواست تغییر رد شد: آگهی ناخواناست."

    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get(change_status=ChangeStatus.PENDING)
    ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert, note="مدارک درست است.")
    assert ticket.messages.order_by("-pk").first().body == "درخواست تغییر تأیید و اعمال شد.\nمدارک درست است."
