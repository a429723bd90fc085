"""Tickets and complaints take their steps through the one transition helper: a step the state
does not allow is refused with its Persian message, a step without its permission with
PermissionDenied, and either way nothing changes and no audit entry is written."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from enamad.complaints.services import complaint_answer, complaint_decide, complaint_file, complaint_flag
from enamad.models import (
    AttachmentKind,
    Business,
    BusinessStatus,
    ChangeStatus,
    Complaint,
    ComplaintStatus,
    Ticket,
    TicketStatus,
)
from enamad.support.services import (
    ticket_answer,
    ticket_approve_change,
    ticket_auto_close,
    ticket_close,
    ticket_follow_up,
    ticket_open,
    ticket_reject_change,
)
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import make_staff
from tests.enamad.conftest import PDF_BYTES, png_bytes
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db


def general_ticket(account) -> Ticket:
    png = SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png")
    return ticket_open(account_id=account.pk, actor=account.user, category="general", subject="پرسش",
                       body="برچسب را گذاشته‌ام.", attachments=[("other", png)])


def persona_change_ticket(account) -> Ticket:
    docs = [(kind, SimpleUploadedFile(f"{kind}.pdf", PDF_BYTES, content_type="application/pdf"))
            for kind in (AttachmentKind.ARTICLES, AttachmentKind.GAZETTE)]
    return ticket_open(account_id=account.pk, actor=account.user, category="persona_change", subject="حقوقی",
                       body="شرکت ثبت شد.", attachments=docs,
                       change_data={"persona": "legal", "company_name": "شرکت نمونه",
                                    "legal_national_id": "10380284790", "registration_number": "12345"})


def entries(obj) -> list[str]:
    return list(AuditEntry.objects.for_object(obj).order_by("pk").values_list("event", flat=True))


def snapshot(ticket: Ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (ticket.status, ticket.change_status, ticket.closed_at, ticket.last_message_at, ticket.messages.count(),
            entries(ticket))


def refused_step(call, message: str):
    with pytest.raises(InvalidTransition) as refused:
        call()
    assert refused.value.message == message


# --- tickets ----------------------------------------------------------------------------------


def test_staff_decide_a_pending_change_before_closing_its_ticket(account, enamad_expert):
    ticket = persona_change_ticket(account)
    before = snapshot(ticket)
    refused_step(lambda: ticket_close(ticket_id=ticket.pk, actor=enamad_expert),
                 "پیش از بستن، درباره درخواست تغییر تصمیم بگیرید.")
    assert snapshot(ticket) == before and before[:2] == (TicketStatus.OPEN, ChangeStatus.PENDING)
    assert entries(ticket) == ["enamad.ticket.opened"]
    ticket_close(ticket_id=ticket.pk, actor=account.user)  # its holder may withdraw it
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_a_closed_ticket_is_not_closed_again_even_with_a_pending_change(account, enamad_expert):
    ticket = persona_change_ticket(account)
    ticket_close(ticket_id=ticket.pk, actor=account.user)
    before = snapshot(ticket)
    for actor in (enamad_expert, account.user):  # "already closed", not "decide the change first"
        refused_step(lambda actor=actor: ticket_close(ticket_id=ticket.pk, actor=actor), "این تیکت پیش‌تر بسته شده است.")
    assert snapshot(ticket) == before
    assert entries(ticket) == ["enamad.ticket.opened", "enamad.ticket.closed"]


def test_only_the_holder_or_ticket_staff_close_a_ticket(account, other_account):
    ticket = general_ticket(account)
    before = snapshot(ticket)
    officer = make_staff("docs_only", perms=["enamad.review_documents"], totp=False)
    for stranger in (other_account.user, officer):
        with pytest.raises(PermissionDenied):
            ticket_close(ticket_id=ticket.pk, actor=stranger)
    assert snapshot(ticket) == before and before[0] == TicketStatus.OPEN
    assert entries(ticket) == ["enamad.ticket.opened"]


def test_staff_steps_need_their_own_permission(account):
    """Answering needs the right to answer tickets; deciding a change, the right to approve changes."""
    question, change = general_ticket(account), persona_change_ticket(account)
    before = snapshot(question), snapshot(change)
    approver = make_staff("changes_only", perms=["enamad.approve_change"], totp=False)
    answerer = make_staff("answers_only", perms=["enamad.answer_ticket"], totp=False)
    for step in (lambda: ticket_answer(ticket_id=question.pk, actor=approver, body="پاسخ"),
                 lambda: ticket_reject_change(ticket_id=change.pk, actor=answerer, note="ناخوانا"),
                 lambda: ticket_approve_change(ticket_id=change.pk, actor=answerer, note="درست")):
        with pytest.raises(PermissionDenied):
            step()
    assert (snapshot(question), snapshot(change)) == before
    assert before[0][0] == TicketStatus.OPEN and before[1][1] == ChangeStatus.PENDING
    assert not OutboxMessage.objects.filter(template="enamad_ticket_answered").exists()
    assert not AuditEntry.objects.filter(event="enamad.account.persona_changed").exists()


def test_a_closed_ticket_refuses_answers_replies_and_decisions_in_persian(account, enamad_expert):
    ticket = general_ticket(account)
    change = persona_change_ticket(account)
    for closed in (ticket, change):
        ticket_close(ticket_id=closed.pk, actor=account.user)
    before = snapshot(ticket), snapshot(change)
    refused_step(lambda: ticket_answer(ticket_id=ticket.pk, actor=enamad_expert, body="پاسخ دیر"),
                 "این تیکت بسته شده است.")
    refused_step(lambda: ticket_follow_up(ticket_id=ticket.pk, actor=account.user, body="باز هم"),
                 "این تیکت بسته شده است؛ تیکت تازه‌ای بفرستید.")
    refused_step(lambda: ticket_approve_change(ticket_id=ticket.pk, actor=enamad_expert),  # asks for no change
                 "درخواست تغییری در انتظار بررسی نیست.")
    refused_step(lambda: ticket_reject_change(ticket_id=change.pk, actor=enamad_expert, note="دیر"),
                 "درخواست تغییری در انتظار بررسی نیست.")
    assert (snapshot(ticket), snapshot(change)) == before
    assert not AuditEntry.objects.filter(event__in=["enamad.ticket.answered", "enamad.ticket.reopened",
                                                    "enamad.ticket.change_rejected"]).exists()


def test_a_ticket_not_yet_idle_is_not_closed_automatically(account, enamad_expert):
    ticket = general_ticket(account)
    ticket_answer(ticket_id=ticket.pk, actor=enamad_expert, body="پاسخ")
    before = snapshot(ticket)
    assert ticket_auto_close(ticket_id=ticket.pk) is False
    assert snapshot(ticket) == before and before[0] == TicketStatus.ANSWERED
    assert not OutboxMessage.objects.filter(template="enamad_ticket_closed").exists()


# --- complaints -------------------------------------------------------------------------------


@pytest.fixture
def complaint(business) -> Complaint:
    seal = issue_seal(business)
    return complaint_file(seal_id=seal.pk, data={"complaint_type": "delay", "payment_reference": "987",
                                                 "description": "دیر رسید.", "contact_name": "مریم",
                                                 "contact_mobile": "09131234567"})


def complaint_state(complaint: Complaint) -> tuple:
    complaint = Complaint.objects.get(pk=complaint.pk)
    return (complaint.status, complaint.answer, complaint.answered_at, complaint.decided_by_id,
            complaint.decision_note, complaint.seal_suspended, complaint.attachments.count(), entries(complaint))


def test_a_complaint_is_answered_once_and_only_by_its_holder(complaint, account, other_account):
    with pytest.raises(PermissionDenied):
        complaint_answer(complaint_id=complaint.pk, actor=other_account.user, text="پاسخ دیگری")
    assert complaint_state(complaint)[0] == ComplaintStatus.AWAITING_ANSWER
    assert entries(complaint) == ["enamad.complaint.filed"]
    complaint_answer(complaint_id=complaint.pk, actor=account.user, text="ارسال شد.")
    before = complaint_state(complaint)
    png = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    refused_step(lambda: complaint_answer(complaint_id=complaint.pk, actor=account.user, text="دوباره",
                                          attachments=[png]),
                 "به این شکایت پیش‌تر پاسخ داده شده یا رسیدگی آن پایان یافته است.")
    assert complaint_state(complaint) == before and before[1] == "ارسال شد."
    assert entries(complaint) == ["enamad.complaint.filed", "enamad.complaint.answered"]


def test_deciding_a_complaint_needs_the_permission_and_an_open_complaint(complaint, enamad_expert):
    before = complaint_state(complaint)
    officer = make_staff("docs_only", perms=["enamad.review_documents"], totp=False)
    for upheld, suspend in ((False, False), (True, False), (True, True)):
        with pytest.raises(PermissionDenied):
            complaint_decide(complaint_id=complaint.pk, actor=officer, upheld=upheld, note="نظر", suspend_seal=suspend)
    assert complaint_state(complaint) == before and before[3] is None
    assert Business.objects.get(pk=complaint.business_id).status == BusinessStatus.APPROVED
    assert not AuditEntry.objects.filter(event="enamad.seal.suspended").exists()

    complaint_decide(complaint_id=complaint.pk, actor=enamad_expert, upheld=False, note="وارد نیست")
    decided = complaint_state(complaint)
    refused_step(lambda: complaint_decide(complaint_id=complaint.pk, actor=enamad_expert, upheld=True,
                                          note="وارد است", suspend_seal=True),
                 "رسیدگی به این شکایت پیش‌تر پایان یافته است.")
    assert complaint_state(complaint) == decided and decided[0] == ComplaintStatus.DISMISSED
    assert Business.objects.get(pk=complaint.business_id).status == BusinessStatus.APPROVED
    assert entries(complaint) == ["enamad.complaint.filed", "enamad.complaint.dismissed"]


def test_only_an_unanswered_complaint_past_its_deadline_is_flagged(complaint, account):
    assert complaint_flag(complaint_id=complaint.pk) is False  # not yet due
    Complaint.objects.filter(pk=complaint.pk).update(answer_due_at=complaint.created_at)
    complaint_answer(complaint_id=complaint.pk, actor=account.user, text="پاسخ")
    before = complaint_state(complaint)
    assert complaint_flag(complaint_id=complaint.pk) is False  # answered, if late: nothing to flag
    assert complaint_state(complaint) == before and before[0] == ComplaintStatus.ANSWERED
    assert "enamad.complaint.flagged" not in entries(complaint)
