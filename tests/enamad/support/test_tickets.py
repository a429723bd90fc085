"""N19, N20: support tickets (every field required, threaded, open → answered → closed, Jalali
dates, the holder told by SMS and e-mail) and change requests by ticket (persona, identity,
business data) that carry the documents the change needs and are applied only when staff
approve them."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from enamad.businesses.services import business_send
from enamad.models import (
    Account,
    AttachmentKind,
    Business,
    BusinessStatus,
    ChangeStatus,
    IdentityDocument,
    Persona,
    Ticket,
    TicketStatus,
)
from enamad.support.services import (
    ticket_answer,
    ticket_approve_change,
    ticket_close,
    ticket_follow_up,
    ticket_open,
    ticket_reject_change,
    tickets_close_idle,
)
from ramis.common.errors import InvalidTransition
from ramis.common.jalali import jalali_datetime
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import make_staff
from tests.enamad.conftest import PDF_BYTES, make_account, png_bytes, staff_client
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db


def png(name="scan.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def pdf(name="doc.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def open_ticket(client, category="general", **extra):
    data = {"subject": "پرسش درباره تأییدیه فنی", "body": "برچسب meta را گذاشته‌ام ولی تأیید نشد.",
            "attachments": [png()]}
    data.update(extra)
    return client.post(f"/enamad/panel/tickets/new/{category}/", data)


# --- general tickets ---------------------------------------------------------------------------


def test_every_field_is_required(owner_client, account):
    response = owner_client.post("/enamad/panel/tickets/new/general/", {})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"subject", "body", "attachments"}
    assert not Ticket.objects.exists()
    with pytest.raises(ValidationError):  # the service guards it too
        ticket_open(account_id=account.pk, actor=account.user, category="general", subject="s",
                    body="b", attachments=[])


def test_attachments_are_checked_by_content(owner_client):
    fake = SimpleUploadedFile("photo.png", b"just text, not an image", content_type="image/png")
    response = open_ticket(owner_client, attachments=[fake])
    assert response.status_code == 200 and "attachments" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_category_page_lists_change_requests(owner_client):
    page = owner_client.get("/enamad/panel/tickets/new/").content.decode()
    for label in ("تغییر نوع شخصیت", "تغییر اطلاعات هویتی", "تغییر اطلاعات کسب‌وکار", "پرسش عمومی"):
        assert label in page
    assert owner_client.get("/enamad/panel/tickets/new/nonsense/").status_code == 404


def test_ticket_lifecycle(client, owner_client, account, enamad_expert, django_capture_on_commit_callbacks):
    response = open_ticket(owner_client, attachments=[png(), pdf()])
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/enamad/panel/tickets/{ticket.pk}/"
    assert ticket.status == TicketStatus.OPEN and ticket.messages.get().attachments.count() == 2
    listing = owner_client.get("/enamad/panel/tickets/").content.decode()
    assert ticket.reference in listing and jalali_datetime(ticket.created_at) in listing and "باز" in listing
    assert AuditEntry.objects.filter(event="enamad.ticket.opened", actor=account.user).exists()

    staff = staff_client(Client(), enamad_expert)
    assert ticket.reference in staff.get("/enamad/staff/tickets/").content.decode()
    assert "برچسب meta" in staff.get(f"/enamad/staff/tickets/{ticket.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/enamad/staff/tickets/{ticket.pk}/answer/", {"body": "فایل را در ریشه سایت بگذارید."})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    sms = OutboxMessage.objects.get(channel="sms", template="enamad_ticket_answered")
    assert sms.to == account.mobile and ticket.reference in sms.body and "ریشه سایت" in sms.body
    assert OutboxMessage.objects.filter(channel="email", to=account.user.email,
                                        template="enamad_ticket_answered").exists()
    entry = AuditEntry.objects.get(event="enamad.ticket.answered")
    assert (entry.actor, entry.old, entry.new) == (enamad_expert, "open", "answered")

    page = owner_client.get(f"/enamad/panel/tickets/{ticket.pk}/").content.decode()
    assert "فایل را در ریشه سایت بگذارید" in page and "پاسخ داده شد" in page
    assert f'action="/enamad/panel/tickets/{ticket.pk}/close/"' in page and 'href="/enamad/panel/tickets/"' in page
    assert "پاسخ داده شد" in owner_client.get("/enamad/panel/tickets/").content.decode()  # the list follows
    owner_client.post(f"/enamad/panel/tickets/{ticket.pk}/", {"body": "ممنون، درست شد؟"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 3
    owner_client.post(f"/enamad/panel/tickets/{ticket.pk}/close/")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    listing = owner_client.get("/enamad/panel/tickets/").content.decode()
    assert 'status-closed' in listing and jalali_datetime(ticket.last_message_at) in listing
    with pytest.raises(InvalidTransition):
        ticket_follow_up(ticket_id=ticket.pk, actor=account.user, body="باز هم")
    with pytest.raises(InvalidTransition):
        ticket_answer(ticket_id=ticket.pk, actor=enamad_expert, body="پاسخ دیر")


def test_others_see_nothing(client, owner_client, account, other_account):
    open_ticket(owner_client)
    ticket = Ticket.objects.get()
    attachment = ticket.messages.get().attachments.get()
    assert owner_client.get(f"/enamad/panel/tickets/attachments/{attachment.pk}/").status_code == 200
    client.force_login(other_account.user)
    assert client.get(f"/enamad/panel/tickets/{ticket.pk}/").status_code == 404
    assert client.post(f"/enamad/panel/tickets/{ticket.pk}/", {"body": "x"}).status_code == 404
    assert client.get(f"/enamad/panel/tickets/attachments/{attachment.pk}/").status_code == 404
    assert client.post(f"/enamad/panel/tickets/{ticket.pk}/close/").status_code == 404
    assert ticket.reference not in client.get("/enamad/panel/tickets/").content.decode()
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        ticket_follow_up(ticket_id=ticket.pk, actor=other_account.user, body="x")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 1


def test_staff_without_the_permission(client, owner_client):
    open_ticket(owner_client)
    ticket = Ticket.objects.get()
    officer = make_staff("docs_officer", perms=["enamad.review_documents"])
    staff = staff_client(Client(), officer)
    assert staff.get(f"/enamad/staff/tickets/{ticket.pk}/").status_code == 403  # ticket pages are ticket staff's
    assert staff.post(f"/enamad/staff/tickets/{ticket.pk}/answer/", {"body": "x"}).status_code == 403
    approver = make_staff("changes_only", perms=["enamad.approve_change"])
    staff = staff_client(Client(), approver)
    assert staff.get(f"/enamad/staff/tickets/{ticket.pk}/").status_code == 200  # may read
    response = staff.post(f"/enamad/staff/tickets/{ticket.pk}/answer/", {"body": "x"}, follow=True)
    assert "اجازه پاسخ" in response.content.decode()
    assert Ticket.objects.get().status == TicketStatus.OPEN
    clerk = make_staff("ramis_clerk")
    staff_client(client, clerk)
    assert client.get("/enamad/staff/tickets/").status_code == 403


def test_staff_ticket_list_fixed_queries(client, account, enamad_expert):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        for i in range(n):
            ticket_open(account_id=account.pk, actor=account.user, category="general", subject=f"s{i}",
                        body="b", attachments=[("other", png())])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            page = staff.get("/enamad/staff/tickets/").content.decode()
        return len([q for q in ctx.captured_queries if q["sql"].startswith("SELECT")]), page.count("<tr><td dir")

    add(3)
    staff = staff_client(client, enamad_expert)
    staff.get("/enamad/staff/tickets/")
    few = count()
    add(7)
    many = count()
    assert few[1] == 3 and many[1] == 10
    assert few[0] == many[0] <= 9  # session, user, device, permissions, nav, one list query


# --- persona change (N20) ----------------------------------------------------------------------


def to_legal(client, **files):
    data = {"subject": "تبدیل به شخص حقوقی", "body": "شرکت ثبت کردیم.", "company_name": "شرکت کتاب نمونه",
            "legal_national_id": "10380284790", "registration_number": "۱۲۳۴۵"}
    data.update(files)
    return client.post("/enamad/panel/tickets/new/persona_change/", data)


def test_persona_change_needs_articles_and_gazette(owner_client, account):
    page = owner_client.get("/enamad/panel/tickets/new/persona_change/").content.decode()
    assert "اساسنامه" in page and "آگهی روزنامه رسمی" in page and "نام شرکت" in page
    response = to_legal(owner_client, doc_articles=pdf())
    assert response.status_code == 200 and "doc_gazette" in response.context["form"].errors
    assert not Ticket.objects.exists()
    with pytest.raises(ValidationError, match="آگهی روزنامه رسمی"):  # the service refuses too
        ticket_open(account_id=account.pk, actor=account.user, category="persona_change", subject="s",
                    body="b", attachments=[(AttachmentKind.ARTICLES, pdf())],
                    change_data={"persona": "legal", "company_name": "x", "legal_national_id": "10380284790",
                                 "registration_number": "1"})


def test_persona_change_applied_only_after_approval(client, owner_client, account, enamad_expert,
                                                    django_capture_on_commit_callbacks):
    response = to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.change_status == ChangeStatus.PENDING
    assert ticket.change_data == {"persona": "legal", "company_name": "شرکت کتاب نمونه",
                                  "legal_national_id": "10380284790", "registration_number": "12345"}
    account.refresh_from_db()
    assert account.persona == Persona.NATURAL and account.company_name == ""  # nothing applied yet
    assert not IdentityDocument.objects.filter(account=account, kind="gazette").exists()

    answerer = make_staff("support_only", perms=["enamad.answer_ticket"], totp=False)
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied: answering is not approving
        ticket_approve_change(ticket_id=ticket.pk, actor=answerer)
    assert Account.objects.get(pk=account.pk).persona == Persona.NATURAL

    staff = staff_client(Client(), enamad_expert)
    page = staff.get(f"/enamad/staff/tickets/{ticket.pk}/").content.decode()
    assert "شرکت کتاب نمونه" in page and "شخص حقوقی" in page and "تأیید و اعمال تغییر" in page
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/enamad/staff/tickets/{ticket.pk}/approve/", {"note": "مدارک درست است."})
    account.refresh_from_db()
    assert account.persona == Persona.LEGAL
    assert (account.company_name, account.legal_national_id, account.registration_number) == (
        "شرکت کتاب نمونه", "10380284790", "12345")
    kinds = set(IdentityDocument.objects.filter(account=account).values_list("kind", flat=True))
    assert {"gazette", "articles", "national_card", "birth_certificate"} <= kinds
    assert account.missing_documents() == []
    entry = AuditEntry.objects.get(event="enamad.account.persona_changed")
    assert (entry.actor, entry.old, entry.new) == (enamad_expert, "natural", "legal")
    assert entry.extra["ticket"] == ticket.reference
    ticket.refresh_from_db()
    assert ticket.change_status == ChangeStatus.APPROVED and ticket.status == TicketStatus.ANSWERED
    assert OutboxMessage.objects.filter(template="enamad_ticket_answered", to=account.mobile).exists()
    with pytest.raises(InvalidTransition):
        ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)


def test_legal_to_natural_needs_birth_certificate_and_national_card(client, db, enamad_expert):
    account = make_account("company1", persona="legal", national_code="0013542419", mobile="09351112233")
    Account.objects.filter(pk=account.pk).update(company_name="شرکت قدیم", legal_national_id="10380284790",
                                                 registration_number="99")
    client.force_login(account.user)
    page = client.get("/enamad/panel/tickets/new/persona_change/").content.decode()
    assert "شناسنامه" in page and "کارت ملی" in page and "نام شرکت" not in page
    data = {"subject": "تبدیل به حقیقی", "body": "شرکت منحل شد.", "doc_birth_certificate": png()}
    response = client.post("/enamad/panel/tickets/new/persona_change/", data)
    assert "doc_national_card" in response.context["form"].errors
    data.update(doc_birth_certificate=png(), doc_national_card=png())
    assert client.post("/enamad/panel/tickets/new/persona_change/", data).status_code == 302
    ticket = Ticket.objects.get()
    ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)
    account.refresh_from_db()
    assert account.persona == Persona.NATURAL and account.company_name == "" and account.legal_national_id == ""


def test_rejected_change_is_not_applied(owner_client, account, enamad_expert):
    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get()
    with pytest.raises(ValidationError):
        ticket_reject_change(ticket_id=ticket.pk, actor=enamad_expert, note=" ")
    ticket_reject_change(ticket_id=ticket.pk, actor=enamad_expert, note="شناسه ملی با آگهی نمی‌خواند.")
    ticket.refresh_from_db()
    assert ticket.change_status == ChangeStatus.REJECTED and ticket.status == TicketStatus.ANSWERED
    assert Account.objects.get(pk=account.pk).persona == Persona.NATURAL
    assert "شناسه ملی با آگهی نمی‌خواند" in ticket.messages.last().body
    with pytest.raises(InvalidTransition):
        ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)


def test_government_persona_does_not_change_by_ticket(client, db):
    account = make_account("gov1", persona="government", national_code="0013542419", mobile="09351112233")
    client.force_login(account.user)
    assert "تغییر نوع شخصیت" not in client.get("/enamad/panel/tickets/new/").content.decode()
    response = client.get("/enamad/panel/tickets/new/persona_change/", follow=True)
    assert "دستگاه دولتی" in response.content.decode()
    with pytest.raises(ValidationError):
        ticket_open(account_id=account.pk, actor=account.user, category="persona_change", subject="s",
                    body="b", attachments=[("national_card", png()), ("birth_certificate", png())],
                    change_data={"persona": "natural"})


# --- identity and business data changes (N20) ---------------------------------------------------


def test_identity_change(owner_client, account, enamad_expert):
    page = owner_client.get("/enamad/panel/tickets/new/identity_change/").content.decode()
    assert 'value="کریمی"' in page  # pre-filled with the current values
    data = {"subject": "اصلاح نام خانوادگی", "body": "طبق شناسنامه جدید.", "first_name": "سارا",
            "last_name": "کریمی‌نژاد", "national_code": "0499370899", "father_name": "رضا", "birth_date": "۱۳۶۹/۰۱/۰۱"}
    response = owner_client.post("/enamad/panel/tickets/new/identity_change/", {**data, "doc_national_card": png()})
    assert "doc_birth_certificate" in response.context["form"].errors
    unchanged = {**data, "last_name": "کریمی", "doc_national_card": png(), "doc_birth_certificate": png()}
    response = owner_client.post("/enamad/panel/tickets/new/identity_change/", unchanged)
    assert "تغییر نکرده" in response.content.decode()
    owner_client.post("/enamad/panel/tickets/new/identity_change/",
                      {**data, "doc_national_card": png(), "doc_birth_certificate": png()})
    ticket = Ticket.objects.get()
    assert ticket.change_data == {"last_name": "کریمی‌نژاد"}
    assert Account.objects.get(pk=account.pk).last_name == "کریمی"
    ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)
    account.refresh_from_db()
    assert account.last_name == "کریمی‌نژاد" and account.first_name == "سارا"
    entry = AuditEntry.objects.get(event="enamad.account.identity_changed")
    assert entry.extra["fields"] == {"last_name": ["کریمی", "کریمی‌نژاد"]}


def test_business_change_of_a_sealed_business(client, owner_client, account, business, enamad_expert):
    seal = issue_seal(business)
    page = owner_client.get("/enamad/panel/tickets/new/business_change/").content.decode()
    assert business.domain in page
    url = f"/enamad/panel/tickets/new/business_change/?business={business.pk}"
    assert "02188776655" in owner_client.get(url).content.decode()
    data = {"subject": "تغییر تلفن", "body": "خط جدید", "business": business.pk, "name": business.name,
            "address": business.address, "postal_code": business.postal_code, "phone": "02177665544",
            "email": business.email, "answering_hours": business.answering_hours}
    response = owner_client.post(url, data)
    assert "doc_supporting" in response.context["form"].errors
    assert owner_client.post(url, {**data, "doc_supporting": pdf()}).status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.business == business and ticket.change_data == {"phone": "02177665544"}
    assert Business.objects.get(pk=business.pk).phone == "02188776655"
    ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)
    business.refresh_from_db()
    assert business.phone == "02177665544" and business.phone_verified_at is None
    assert business.status == BusinessStatus.APPROVED
    assert AuditEntry.objects.filter(event="enamad.business.data_changed", target_id=str(business.pk)).exists()
    page = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}").content.decode()
    assert "۰۲۱۷۷۶۶۵۵۴۴" in page


def test_business_change_only_for_own_sent_files(owner_client, account, other_account):
    from tests.enamad.conftest import make_business

    draft = make_business(account, domain="draft.test")
    others = make_business(other_account, domain="others.test")
    for target in (draft, others):
        url = f"/enamad/panel/tickets/new/business_change/?business={target.pk}"
        assert owner_client.get(url).status_code == 404


def test_business_change_refused_for_an_editable_file(account):
    from tests.enamad.conftest import make_business

    draft = make_business(account, domain="draft2.test")
    with pytest.raises(ValidationError, match="از صفحه خودش ویرایش"):
        ticket_open(account_id=account.pk, actor=account.user, category="business_change", subject="s",
                    body="b", attachments=[("supporting", pdf())], business_id=draft.pk,
                    change_data={"phone": "02177665544"})
    assert not Ticket.objects.filter(account=account, category="business_change").exists()


def test_holder_lists_cost_a_fixed_number_of_queries(owner_client, account, django_assert_max_num_queries):
    for i in range(6):
        ticket_open(account_id=account.pk, actor=account.user, category="general", subject=f"s{i}",
                    body="b", attachments=[("other", png())])
    owner_client.get("/enamad/panel/tickets/")
    with django_assert_max_num_queries(8):  # session, user, account, nav, one list query; the session save
        page = owner_client.get("/enamad/panel/tickets/").content.decode()
    assert page.count("/enamad/panel/tickets/") >= 6


def test_locked_identity_points_to_the_change_ticket(owner_client, account, business):
    business_send(business_id=business.pk, actor=account.user)
    for url in ("/enamad/panel/profile/", "/enamad/panel/documents/"):
        page = owner_client.get(url).content.decode()
        assert 'id="identity-locked"' in page and "/enamad/panel/tickets/new/identity_change/" in page


# --- the change request's own status: FSM transitions only, audited ----------------------------


def test_change_status_moves_only_by_audited_transitions(owner_client, account, enamad_expert):
    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get()
    assert ticket.change_status == ChangeStatus.PENDING
    assert AuditEntry.objects.get(event="enamad.ticket.opened").extra["change_status"] == ChangeStatus.PENDING
    with pytest.raises(AttributeError):  # protected: no assignment outside a transition
        ticket.change_status = ChangeStatus.APPROVED
    ticket_reject_change(ticket_id=ticket.pk, actor=enamad_expert, note="آگهی ناخواناست.")
    entry = AuditEntry.objects.get(event="enamad.ticket.change_rejected")
    assert (entry.actor, entry.old, entry.new, entry.reason) == (
        enamad_expert, ChangeStatus.PENDING, ChangeStatus.REJECTED, "آگهی ناخواناست.")
    ticket.refresh_from_db()
    assert (ticket.change_decided_by, ticket.change_note) == (enamad_expert, "آگهی ناخواناست.")
    with pytest.raises(InvalidTransition):
        ticket_reject_change(ticket_id=ticket.pk, actor=enamad_expert, note="دوباره")


def test_approving_a_change_is_audited_with_its_status(owner_client, account, enamad_expert):
    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get()
    ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert, note="درست است.")
    entry = AuditEntry.objects.get(event="enamad.ticket.change_approved")
    assert (entry.actor, entry.old, entry.new) == (enamad_expert, ChangeStatus.PENDING, ChangeStatus.APPROVED)


def test_a_closed_tickets_change_cannot_be_decided(owner_client, account, enamad_expert):
    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    ticket = Ticket.objects.get()
    ticket_close(ticket_id=ticket.pk, actor=account.user)
    with pytest.raises(InvalidTransition):
        ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)
    assert Ticket.objects.get(pk=ticket.pk).change_status == ChangeStatus.PENDING
    assert Account.objects.get(pk=account.pk).persona == Persona.NATURAL


def test_a_general_ticket_has_no_change_to_decide(owner_client, account, enamad_expert):
    open_ticket(owner_client)
    ticket = Ticket.objects.get()
    assert ticket.change_status == ""
    from django_fsm import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        ticket.request_change({})  # not a change category
    with pytest.raises(InvalidTransition):
        ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert)


# --- answered tickets the holder leaves are closed; a reply within the period reopens them ------


def answered_ticket(owner_client, account, enamad_expert, **extra):
    open_ticket(owner_client, **extra)
    ticket = Ticket.objects.latest("pk")
    ticket_answer(ticket_id=ticket.pk, actor=enamad_expert, body="فایل را در ریشه سایت بگذارید.")
    ticket.refresh_from_db()
    return ticket


def test_an_answered_ticket_left_by_the_holder_is_closed_and_reopens_on_a_reply(
        owner_client, account, enamad_expert, settings):
    import datetime as dt

    import time_machine

    from enamad.tasks import close_idle_tickets

    settings.ENAMAD_TICKET_CLOSE_DAYS = 7
    ticket = answered_ticket(owner_client, account, enamad_expert)
    waiting = Ticket.objects.create(account=account, category="general", subject="بی‌پاسخ")  # waits for staff
    answered_at = ticket.last_message_at
    with time_machine.travel(answered_at + dt.timedelta(days=6, hours=23), tick=False):
        assert close_idle_tickets() == 0
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.ANSWERED
    with time_machine.travel(answered_at + dt.timedelta(days=7, minutes=1), tick=False):
        assert close_idle_tickets() == 1
        assert close_idle_tickets() == 0
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.auto_closed and ticket.closed_at is not None
    assert Ticket.objects.get(pk=waiting.pk).status == TicketStatus.OPEN  # staff still owe an answer
    entry = AuditEntry.objects.get(event="enamad.ticket.closed")
    assert (entry.actor, entry.old, entry.new, entry.extra) == (None, "answered", "closed", {"by": "auto", "days": 7})
    sms = OutboxMessage.objects.get(channel="sms", template="enamad_ticket_closed")
    assert sms.to == account.mobile and ticket.reference in sms.body and "۷ روز" in sms.body
    assert jalali_datetime(ticket.closed_at + dt.timedelta(days=7)) in sms.body  # until when a reply reopens it
    assert OutboxMessage.objects.filter(channel="email", to=account.user.email,
                                        template="enamad_ticket_closed").exists()

    # within the period the holder's reply reopens it
    with time_machine.travel(ticket.closed_at + dt.timedelta(days=6), tick=False):
        owner_client.force_login(account.user)  # a new session: the old one ended after 30 idle minutes
        page = owner_client.get(f"/enamad/panel/tickets/{ticket.pk}/").content.decode()
        assert 'id="reply"' in page and "دوباره باز شود" in page and "بستن تیکت" not in page
        owner_client.post(f"/enamad/panel/tickets/{ticket.pk}/", {"body": "هنوز تأیید نشده است."})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and not ticket.auto_closed and ticket.closed_at is None
    assert ticket.messages.count() == 3
    entry = AuditEntry.objects.get(event="enamad.ticket.reopened")
    assert (entry.actor, entry.old, entry.new) == (account.user, "closed", "open")


def test_after_the_period_a_closed_ticket_stays_closed(owner_client, account, enamad_expert, settings):
    import datetime as dt

    import time_machine

    settings.ENAMAD_TICKET_CLOSE_DAYS = 3  # the setting, not a constant
    ticket = answered_ticket(owner_client, account, enamad_expert)
    with time_machine.travel(ticket.last_message_at + dt.timedelta(days=3, minutes=1), tick=False):
        assert tickets_close_idle() == 1
    ticket.refresh_from_db()
    with time_machine.travel(ticket.closed_at + dt.timedelta(days=3, minutes=1), tick=False):
        owner_client.force_login(account.user)
        page = owner_client.get(f"/enamad/panel/tickets/{ticket.pk}/").content.decode()
        assert 'id="reply"' not in page and "تیکت جدید بفرستید" in page
        response = owner_client.post(f"/enamad/panel/tickets/{ticket.pk}/", {"body": "دیر نوشتم"}, follow=True)
        assert "تیکت تازه‌ای بفرستید" in response.content.decode()
        with pytest.raises(InvalidTransition):
            ticket_follow_up(ticket_id=ticket.pk, actor=account.user, body="دیر نوشتم")
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED
    assert not AuditEntry.objects.filter(event="enamad.ticket.reopened").exists()


def test_a_ticket_closed_by_hand_or_with_a_pending_change_is_left_alone(owner_client, account, enamad_expert):
    import datetime as dt

    import time_machine

    closed = answered_ticket(owner_client, account, enamad_expert)
    ticket_close(ticket_id=closed.pk, actor=account.user)
    to_legal(owner_client, doc_articles=pdf(), doc_gazette=png())
    change = Ticket.objects.get(change_status=ChangeStatus.PENDING)
    ticket_answer(ticket_id=change.pk, actor=enamad_expert, body="مدارک در حال بررسی است.")
    with time_machine.travel(timezone.now() + dt.timedelta(days=30), tick=False):
        assert tickets_close_idle() == 0  # the change still awaits its decision
        with pytest.raises(InvalidTransition):  # closed by the holder: a new ticket, not a reopening
            ticket_follow_up(ticket_id=closed.pk, actor=account.user, body="باز هم")
    assert Ticket.objects.get(pk=change.pk).status == TicketStatus.ANSWERED
