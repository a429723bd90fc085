"""Races on PostgreSQL (STYLE 19): two managers approving at once issue one seal; a file sent
twice at once is sent once."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from enamad.businesses import verification
from enamad.businesses.services import business_accept_documents, business_review, business_send
from enamad.complaints.services import complaint_decide, complaint_file
from enamad.models import Business, BusinessStatus, Seal
from enamad.seals.control import seal_record_check, seals_claim_due
from enamad.seals.services import business_final_approve, business_reinstate
from enamad.support.services import (
    ticket_answer,
    ticket_approve_change,
    ticket_auto_close,
    ticket_follow_up,
    ticket_open,
)
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from tests.conftest import make_staff
from tests.enamad.conftest import all_items_ok, make_account, make_business

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL (row locks)")


def race(fn, n=2):
    barrier = threading.Barrier(n)
    outcomes = []

    def worker(i):
        try:
            barrier.wait()
            outcomes.append(("ok", fn(i)))
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcomes.append(("error", exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_managers_approve_at_once():
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory

    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account()
    business = make_business(account)
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(phone_verified_at=now, address_verified_at=now)
    expert = make_staff("exp", perms=["enamad.review_business", "enamad.review_documents"], totp=False)
    managers = [make_staff(f"mgr{i}", perms=["enamad.approve_business"], totp=False) for i in range(2)]
    business_send(business_id=business.pk, actor=account.user)
    business_review(business_id=business.pk, actor=expert, results=all_items_ok())
    business_accept_documents(business_id=business.pk, actor=expert)

    outcomes = race(lambda i: business_final_approve(business_id=business.pk, actor=managers[i]))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert isinstance(next(v for k, v in outcomes if k == "error"), InvalidTransition)
    assert Seal.objects.filter(business=business).count() == 1
    assert AuditEntry.objects.filter(event="enamad.business.final_approved").count() == 1
    assert Business.objects.get(pk=business.pk).status == BusinessStatus.APPROVED


def test_double_send():
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory

    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account()
    business = make_business(account)
    outcomes = race(lambda i: business_send(business_id=business.pk, actor=account.user))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert AuditEntry.objects.filter(event="enamad.business.sent").count() == 1


def _sealed(count: int):
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory

    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account()
    now = timezone.now()
    seals = []
    for i in range(count):
        business = make_business(account, domain=f"race{i}.test")
        Business.objects.filter(pk=business.pk).update(status=BusinessStatus.APPROVED)
        seals.append(Seal.objects.create(business=business, number=500_000 + i, granted_at=now,
                                         expires_at=now + dt.timedelta(days=365), monitor_due_at=now))
    return account, seals


def test_two_dispatchers_claim_disjoint_seals():
    _, seals = _sealed(10)
    outcomes = race(lambda i: seals_claim_due(6))
    claimed = [set(ids) for kind, ids in outcomes if kind == "ok"]
    assert len(claimed) == 2 and not claimed[0] & claimed[1]
    assert claimed[0] | claimed[1] == {s.pk for s in seals}


def test_two_experts_decide_one_complaint():
    account, seals = _sealed(1)
    complaint = complaint_file(seal_id=seals[0].pk, data={
        "complaint_type": "delay", "payment_reference": "1", "description": "دیر", "contact_name": "x",
        "contact_mobile": "09131234567"})
    experts = [make_staff(f"cx{i}", perms=["enamad.handle_complaint"], totp=False) for i in range(2)]
    outcomes = race(lambda i: complaint_decide(complaint_id=complaint.pk, actor=experts[i],
                                               upheld=bool(i), note="نظر", suspend_seal=bool(i)))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert AuditEntry.objects.filter(event__in=["enamad.complaint.upheld", "enamad.complaint.dismissed"]).count() == 1


def test_a_change_request_is_applied_once():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enamad.models import Account
    from tests.enamad.conftest import png_bytes

    account, _ = _sealed(0)

    def upload():
        return SimpleUploadedFile("x.png", png_bytes(), content_type="image/png")

    ticket = ticket_open(account_id=account.pk, actor=account.user, category="persona_change", subject="s",
                         body="b", attachments=[("articles", upload()), ("gazette", upload())],
                         change_data={"persona": "legal", "company_name": "شرکت",
                                      "legal_national_id": "10380284790", "registration_number": "1"})
    experts = [make_staff(f"ch{i}", perms=["enamad.approve_change", "enamad.answer_ticket"], totp=False)
               for i in range(2)]
    outcomes = race(lambda i: ticket_approve_change(ticket_id=ticket.pk, actor=experts[i]))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert AuditEntry.objects.filter(event="enamad.account.persona_changed").count() == 1
    assert Account.objects.get(pk=account.pk).persona == "legal"


def _start_blocked(fn):
    """Run ``fn`` in a thread and return once its database session waits for a lock (PostgreSQL's
    ``pg_blocking_pids``); the thread's outcome lands in the returned list."""
    outcome, pid = [], []

    def worker():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            outcome.append(("ok", fn()))
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcome.append(("error", exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 10
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline and not outcome:
            if pid:
                cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [pid[0]])
                if cursor.fetchone()[0]:
                    return thread, outcome
            time.sleep(0.02)
    raise AssertionError(f"the thread never waited for a lock: {outcome}")


def test_seal_check_and_staff_reinstatement_do_not_deadlock():
    """The monitor re-checks a seal it suspended while a manager lifts the suspension. Both lock
    the business and the seal: with the seal's row held for a moment by a third session, the
    check queues first and the reinstatement second; locked in different orders, they deadlock
    when the third session lets go. Business first, then seal, everywhere: both finish."""
    _, (seal,) = _sealed(1)
    now = timezone.now()
    Business.objects.filter(pk=seal.business_id).update(status=BusinessStatus.SUSPENDED)
    Seal.objects.filter(pk=seal.pk).update(suspended_by_monitor=True, domain_failing_since=now - dt.timedelta(days=9))
    manager = make_staff("mgr", perms=["enamad.approve_business"], totp=False)
    still_failing = verification.MonitorResult(reachable=True, tls_valid=False, domain_ok=False,
                                               problems=["برچسب meta یافت نشد."])
    with transaction.atomic():
        Seal.objects.select_for_update().get(pk=seal.pk)  # the third session holds the seal's row
        check, check_outcome = _start_blocked(
            lambda: seal_record_check(seal_id=seal.pk, result=still_failing))
        staff, staff_outcome = _start_blocked(
            lambda: business_reinstate(business_id=seal.business_id, actor=manager))
    check.join(30)
    staff.join(30)
    assert [kind for kind, _ in check_outcome + staff_outcome] == ["ok", "ok"], check_outcome + staff_outcome
    assert Business.objects.get(pk=seal.business_id).status == BusinessStatus.APPROVED
    seal.refresh_from_db()
    assert not seal.suspended_by_monitor and seal.domain_failing_since is None and seal.monitored_at is not None
    assert AuditEntry.objects.filter(event="enamad.seal.reinstated", actor=manager).count() == 1


def test_a_reply_racing_the_idle_ticket_task_leaves_the_ticket_open():
    """The holder replies just as the idle task closes the answered ticket: whichever locks the row
    first, the reply is kept and the ticket ends open (closed then reopened, or never closed)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enamad.models import Ticket, TicketStatus
    from tests.enamad.conftest import png_bytes

    account, _ = _sealed(0)
    staff = make_staff("answerer", perms=["enamad.answer_ticket"], totp=False)
    ticket = ticket_open(account_id=account.pk, actor=account.user, category="general", subject="s",
                         body="b", attachments=[("other", SimpleUploadedFile(
                                      "x.png", png_bytes(), content_type="image/png"))])
    ticket_answer(ticket_id=ticket.pk, actor=staff, body="پاسخ")
    Ticket.objects.filter(pk=ticket.pk).update(last_message_at=timezone.now() - dt.timedelta(days=30))
    outcomes = race(lambda i: ticket_auto_close(ticket_id=ticket.pk) if i == 0 else
                    ticket_follow_up(ticket_id=ticket.pk, actor=account.user, body="هنوز هست"))
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 3
    events = list(AuditEntry.objects.for_object(ticket).order_by("pk").values_list("event", flat=True))
    assert events[-1] in ("enamad.ticket.followed_up", "enamad.ticket.reopened")
