"""N12, N14, N15: expert review with the deficiency loop, physical documents, manager approval,
seal issuance; permissions per persona; the commitment letter PDF."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from enamad.businesses.services import (
    business_accept_documents,
    business_documents_received,
    business_reject_documents,
    business_resend,
    business_resend_documents,
    business_return_to_expert,
    business_review,
    business_send,
)
from enamad.models import Business, BusinessStatus, ChecklistItem, Review, Seal
from enamad.seals.services import business_final_approve
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.conftest import all_items_ok, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(account, business):
    business_send(business_id=business.pk, actor=account.user)
    business.refresh_from_db()
    return business


def set_contacts(business):
    from django.utils import timezone

    Business.objects.filter(pk=business.pk).update(phone_verified_at=timezone.now(), address_verified_at=timezone.now())


def test_deficiency_loop(client, account, sent, enamad_expert):
    items = list(ChecklistItem.objects.filter(active=True))
    results = all_items_ok()
    results[items[1].pk] = (False, "شماره تلفن در صفحه تماس نیست.")
    review = business_review(business_id=sent.pk, actor=enamad_expert, results=results)
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.DEFICIENT and review.round == 1
    assert AuditEntry.objects.filter(event="enamad.business.deficient", new="deficient").count() == 1
    assert OutboxMessage.objects.filter(template="enamad_status", body__contains="اعلام نقص").exists()

    # The applicant sees the failed item with the explanation, answers it and sends again.
    client.force_login(account.user)
    page = client.get(f"/enamad/panel/business/{sent.pk}/send/").content.decode()
    assert "عدم تأیید" in page and "شماره تلفن در صفحه تماس نیست." in page
    failed = review.items.get(approved=False)
    response = client.post(f"/enamad/panel/business/{sent.pk}/send/", {f"reply_{failed.pk}": "اضافه شد."})
    assert response.status_code == 302
    sent.refresh_from_db()
    failed.refresh_from_db()
    assert sent.status == BusinessStatus.UNDER_REVIEW and failed.reply == "اضافه شد."

    # Second round: all approved → physical documents.
    review2 = business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok())
    sent.refresh_from_db()
    assert review2.round == 2 and sent.status == BusinessStatus.PHYSICAL_DOCUMENTS


def test_not_approved_item_needs_an_explanation(sent, enamad_expert):
    results = all_items_ok()
    results[next(iter(results))] = (False, "  ")
    with pytest.raises(ValidationError):
        business_review(business_id=sent.pk, actor=enamad_expert, results=results)
    with pytest.raises(ValidationError):  # every item must be looked at
        business_review(business_id=sent.pk, actor=enamad_expert, results={})
    assert not Review.objects.exists()


def test_only_experts_review(sent, account, enamad_manager):
    with pytest.raises(PermissionDenied):
        business_review(business_id=sent.pk, actor=account.user, results=all_items_ok())
    with pytest.raises(PermissionDenied):
        business_review(business_id=sent.pk, actor=enamad_manager, results=all_items_ok())
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.UNDER_REVIEW


def test_expert_asks_for_activity_change(client, account, sent, enamad_expert):
    business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok(),
                    ask_activity_change=True)
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.DEFICIENT and sent.activity_change_requested
    client.force_login(account.user)
    client.post(f"/enamad/panel/business/{sent.pk}/activity/", {"activity_type": "guild"})
    sent.refresh_from_db()
    assert sent.activity_type == "guild"


def test_documents_and_manager_issue_the_seal(account, sent, enamad_expert, enamad_manager, settings):
    settings.ENAMAD_SEAL_VALIDITY_DAYS = 730
    business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok())
    business_reject_documents(business_id=sent.pk, actor=enamad_expert, reason="امضا گواهی نشده است.")
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.DOCUMENTS_REJECTED and sent.last_reason == "امضا گواهی نشده است."
    business_resend_documents(business_id=sent.pk, actor=account.user)
    business_documents_received(business_id=sent.pk, actor=enamad_expert)
    business_accept_documents(business_id=sent.pk, actor=enamad_expert)
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.MANAGER_REVIEW

    # Final approval needs all three contacts verified (N10).
    with pytest.raises(InvalidTransition) as info:
        business_final_approve(business_id=sent.pk, actor=enamad_manager)
    assert "هر سه" in info.value.message
    set_contacts(sent)
    with pytest.raises(PermissionDenied):
        business_final_approve(business_id=sent.pk, actor=enamad_expert)
    seal = business_final_approve(business_id=sent.pk, actor=enamad_manager)
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.APPROVED
    assert seal.stars == 1 and len(seal.code) == 32 and seal.code.isalnum() and 100_000 <= seal.number < 10_000_000
    assert (seal.expires_at - seal.granted_at).days == 730
    events = list(AuditEntry.objects.for_object(sent).values_list("event", flat=True))
    assert events[-6:] == ["enamad.business.approved", "enamad.business.documents_rejected",
                           "enamad.business.documents_resent", "enamad.business.documents_received",
                           "enamad.business.documents_accepted", "enamad.business.final_approved"]
    assert AuditEntry.objects.filter(event="enamad.seal.issued").count() == 1
    sms = OutboxMessage.objects.filter(channel="sms", template="enamad_status").latest("pk")
    assert "«تأیید نهایی» شد" in sms.body and "دریافت کد نماد" in sms.body  # a first seal: paste its code


def test_two_stars_with_tls(account, sent, enamad_expert, enamad_manager):
    Business.objects.filter(pk=sent.pk).update(tls_valid=True)
    set_contacts(sent)
    business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok())
    business_accept_documents(business_id=sent.pk, actor=enamad_expert)
    assert business_final_approve(business_id=sent.pk, actor=enamad_manager).stars == 2


def test_manager_can_return_to_expert(sent, enamad_expert, enamad_manager):
    business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok())
    business_accept_documents(business_id=sent.pk, actor=enamad_expert)
    business_return_to_expert(business_id=sent.pk, actor=enamad_manager, reason="بررسی دوباره")
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.UNDER_REVIEW


def test_wrong_state_transitions_refused(account, business, enamad_expert, enamad_manager):
    with pytest.raises(InvalidTransition):
        business_accept_documents(business_id=business.pk, actor=enamad_expert)
    with pytest.raises(InvalidTransition):
        business_final_approve(business_id=business.pk, actor=enamad_manager)
    with pytest.raises(InvalidTransition):
        business_resend(business_id=business.pk, actor=account.user)
    assert type(business).objects.get(pk=business.pk).status == business.status


def test_staff_desk_review_with_per_item_verdicts(client, sent, enamad_expert):
    staff_client(client, enamad_expert)
    page = client.get("/enamad/staff/").content.decode()
    assert sent.domain in page
    items = list(ChecklistItem.objects.filter(active=True))
    data = {f"item_{item.pk}": "1" for item in items}
    data[f"item_{items[0].pk}"] = "0"
    response = client.post(f"/enamad/staff/business/{sent.pk}/review/", data)
    assert response.status_code == 400 and "توضیح بنویسید" in response.content.decode()
    data[f"explain_{items[0].pk}"] = "نام سایت با پرونده یکی نیست."
    response = client.post(f"/enamad/staff/business/{sent.pk}/review/", data)
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.status == BusinessStatus.DEFICIENT


def test_staff_desk_refuses_applicants_and_password_only_staff(client, account, sent, enamad_expert, other_account):
    client.force_login(account.user)
    assert client.get("/enamad/staff/").status_code == 302  # to the staff login
    client.force_login(enamad_expert)  # no TOTP in this session
    assert client.get("/enamad/staff/").status_code == 302


def test_staff_without_enamad_permission_gets_403(client, clerk):
    staff_client(client, clerk)
    assert client.get("/enamad/staff/").status_code == 403


def test_manager_desk_approves(client, sent, enamad_expert, enamad_manager):
    set_contacts(sent)
    business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok())
    business_accept_documents(business_id=sent.pk, actor=enamad_expert)
    staff_client(client, enamad_manager)
    response = client.post(f"/enamad/staff/business/{sent.pk}/final_approve/", follow=True)
    assert "نماد صادر شد" in response.content.decode()
    assert Seal.objects.filter(business=sent).exists()


def test_commitment_letter_pdf(client, account, sent, enamad_expert, other_account):
    client.force_login(account.user)
    assert client.get(f"/enamad/panel/business/{sent.pk}/commitment.pdf").status_code == 404  # not yet
    business_review(business_id=sent.pk, actor=enamad_expert, results=all_items_ok())
    response = client.get(f"/enamad/panel/business/{sent.pk}/commitment.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert sent.reference in text and sent.domain in text
    client.force_login(other_account.user)
    assert client.get(f"/enamad/panel/business/{sent.pk}/commitment.pdf").status_code == 404
