"""Issue 13, item 8: e-Namad's support for RAMIS applicants — the same ticket room and staff
desk, not a copy. An applicant (SMS-code login) opens a ticket from /panel/, support answer it on
their desk where it is marked as RAMIS, the applicant is told by SMS with a link to the RAMIS
panel; another applicant, an e-Namad account and a stranger see none of it."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client

from enamad.models import Ticket, TicketStatus
from enamad.support import services as support_services
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.conftest import make_account, png_bytes, staff_client

pytestmark = pytest.mark.django_db


def open_applicant_ticket(client, **extra):
    data = {"category": "general", "subject": "پرداخت انجام شد ولی وضعیت تغییر نکرد",
            "body": "مبلغ از حساب کم شد ولی درخواست هنوز در انتظار پرداخت است."}
    data.update(extra)
    return client.post("/panel/support/new/", data)


def test_panel_links_to_support(applicant_client):
    html = applicant_client.get("/panel/").content.decode()
    assert 'href="/panel/support/new/"' in html and 'href="/panel/support/"' in html


def test_applicant_opens_a_ticket_staff_answer_it_on_their_desk(
        applicant_client, applicant_person, enamad_expert, settings, django_capture_on_commit_callbacks):
    settings.PUBLIC_BASE_URL = "https://portal.test:8443"
    png = SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png")
    response = open_applicant_ticket(applicant_client, attachments=[png])
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/panel/support/{ticket.pk}/"
    assert ticket.person == applicant_person and ticket.account is None and ticket.from_ramis
    assert ticket.status == TicketStatus.OPEN and ticket.messages.get().attachments.count() == 1
    entry = AuditEntry.objects.get(event="enamad.ticket.opened")
    assert entry.actor == applicant_person.user and entry.extra["from"] == "ramis"
    listing = applicant_client.get("/panel/support/").content.decode()
    assert ticket.reference in listing and "پرداخت انجام شد" in listing

    # The same desk e-Namad's tickets are answered on, the row marked as RAMIS.
    staff = staff_client(Client(), enamad_expert)
    desk = staff.get("/enamad/staff/tickets/").content.decode()
    row = re.search(rf"<tr>.*?{ticket.reference}.*?</tr>", desk, re.S).group(0)
    assert "badge-ramis" in row and applicant_person.full_name in row
    page = staff.get(f"/enamad/staff/tickets/{ticket.pk}/").content.decode()
    assert 'id="ramis-applicant"' in page and "مبلغ از حساب کم شد" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/enamad/staff/tickets/{ticket.pk}/answer/", {"body": "پرداخت تأیید شد؛ صفحه را تازه کنید."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    sms = OutboxMessage.objects.get(channel="sms", template="enamad_ticket_answered")
    assert sms.to == applicant_person.mobile
    assert f"https://portal.test:8443/panel/support/{ticket.pk}/" in sms.body
    answered = AuditEntry.objects.get(event="enamad.ticket.answered")
    assert (answered.actor, answered.old, answered.new) == (enamad_expert, "open", "answered")

    # The applicant reads the answer, writes again, then closes the ticket.
    page = applicant_client.get(f"/panel/support/{ticket.pk}/").content.decode()
    assert "پرداخت تأیید شد" in page and "پاسخ داده شد" in page
    # its forms and links stay in the RAMIS panel, not e-Namad's
    assert f'action="/panel/support/{ticket.pk}/close/"' in page and 'href="/panel/support/"' in page
    assert applicant_client.post(f"/panel/support/{ticket.pk}/", {"body": "درست شد، ممنون."}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 3
    assert applicant_client.post(f"/panel/support/{ticket.pk}/close/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert AuditEntry.objects.filter(event="enamad.ticket.closed", actor=applicant_person.user).exists()


def test_only_the_applicants_own_tickets(applicant_client, other_applicant_client, client):
    open_applicant_ticket(applicant_client, attachments=[
        SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png")])
    ticket = Ticket.objects.get()
    attachment = ticket.messages.get().attachments.get()
    assert applicant_client.get(f"/panel/support/attachments/{attachment.pk}/").status_code == 200

    other = other_applicant_client
    assert other.get(f"/panel/support/{ticket.pk}/").status_code == 404
    assert other.post(f"/panel/support/{ticket.pk}/", {"body": "x"}).status_code == 404
    assert other.post(f"/panel/support/{ticket.pk}/close/").status_code == 404
    assert other.get(f"/panel/support/attachments/{attachment.pk}/").status_code == 404
    assert ticket.reference not in other.get("/panel/support/").content.decode()
    assert Ticket.objects.get().messages.count() == 1

    # An e-Namad account does not reach it through e-Namad's pages either; a stranger must log in.
    shop = make_account("shopowner2", national_code="0013542419")
    client.force_login(shop.user)
    assert client.get(f"/enamad/panel/tickets/{ticket.pk}/").status_code == 404
    assert client.get(f"/enamad/panel/tickets/attachments/{attachment.pk}/").status_code == 404
    assert client.get("/panel/support/").status_code in (302, 403)
    stranger = Client()
    response = stranger.get(f"/panel/support/{ticket.pk}/")
    assert response.status_code == 302 and "/auth/" in response["Location"]


def test_neither_persona_reaches_the_others_tickets(applicant_client, account):
    """The two personas' pages are one implementation, each asking only for its own tickets: an
    applicant's pages do not open a holder's ticket, nor a holder's pages an applicant's, whichever
    page (read, write again, close, attachment)."""
    holder = Client()
    holder.force_login(account.user)
    holder.post("/enamad/panel/tickets/new/general/", {
        "subject": "پرسش درباره تأییدیه فنی", "body": "برچسب meta را گذاشته‌ام.",
        "attachments": [SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png")]})
    open_applicant_ticket(applicant_client, attachments=[
        SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png")])
    holders, applicants = Ticket.objects.get(account=account), Ticket.objects.get(person__isnull=False)
    attachments = {t.pk: t.messages.get().attachments.get().pk for t in (holders, applicants)}
    for client, prefix, own, others in ((applicant_client, "/panel/support", applicants, holders),
                                        (holder, "/enamad/panel/tickets", holders, applicants)):
        assert client.get(f"{prefix}/{own.pk}/").status_code == 200
        assert client.get(f"{prefix}/attachments/{attachments[own.pk]}/").status_code == 200
        assert client.get(f"{prefix}/{others.pk}/").status_code == 404
        assert client.post(f"{prefix}/{others.pk}/", {"body": "x"}).status_code == 404
        assert client.post(f"{prefix}/{others.pk}/close/").status_code == 404
        assert client.get(f"{prefix}/attachments/{attachments[others.pk]}/").status_code == 404
        listing = client.get(f"{prefix}/").content.decode()
        assert own.reference in listing and others.reference not in listing
    for ticket in (holders, applicants):
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 1


def test_an_applicant_asks_only_general_or_technical_questions(applicant_client, applicant_person):
    response = open_applicant_ticket(applicant_client, category="persona_change")
    assert response.status_code == 200 and "category" in response.context["form"].errors
    with pytest.raises(Exception):  # noqa: B017 - ValidationError from the service itself
        support_services.ticket_open_for_applicant(person_id=applicant_person.pk, actor=applicant_person.user,
                                                   category="identity_change", subject="s", body="b")
    response = open_applicant_ticket(applicant_client, subject="", body="")
    assert set(response.context["form"].errors) == {"subject", "body"}
    assert not Ticket.objects.exists()


def test_a_ticket_has_exactly_one_holder(applicant_person):
    account = make_account("shopowner3")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(account=account, person=applicant_person, subject="s", category="general")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(subject="s", category="general")
    assert not Ticket.objects.filter(subject="s").exists()


def test_an_applicants_idle_answered_ticket_closes_and_the_sms_links_to_the_ramis_panel(
        applicant_client, applicant_person, enamad_expert, settings, django_capture_on_commit_callbacks):
    import datetime as dt

    import time_machine

    from enamad.tasks import close_idle_tickets

    settings.ENAMAD_TICKET_CLOSE_DAYS = 7
    settings.PUBLIC_BASE_URL = "https://portal.test:8443"
    open_applicant_ticket(applicant_client)
    ticket = Ticket.objects.get()
    support_services.ticket_answer(ticket_id=ticket.pk, actor=enamad_expert, body="پاسخ")
    ticket.refresh_from_db()
    with (time_machine.travel(ticket.last_message_at + dt.timedelta(days=7, minutes=1), tick=False),
          django_capture_on_commit_callbacks(execute=True)):
        assert close_idle_tickets() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.auto_closed
    sms = OutboxMessage.objects.get(channel="sms", template="enamad_ticket_closed")
    assert sms.to == applicant_person.mobile
    assert f"https://portal.test:8443/panel/support/{ticket.pk}/" in sms.body


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_existing_ticket_on_its_account():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    account = make_account("beforeshop")
    old_apps = migrate([("enamad", "0011_signed_letter")])
    try:
        OldTicket = old_apps.get_model("enamad", "Ticket")
        old = OldTicket.objects.create(account_id=account.pk, reference="T-00000001", subject="پیش از رمیس",
                                       category="general", status="answered")
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ticket = Ticket.objects.get(pk=old.pk)
    assert (ticket.account_id, ticket.person_id, ticket.status, ticket.subject) == (
        account.pk, None, "answered", "پیش از رمیس")
    assert not ticket.from_ramis and ticket.holder_user_id == account.user_id
