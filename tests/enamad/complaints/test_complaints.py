"""N23 complaints: filed by anyone from the seal page; the holder is told and has 96 hours to
answer in the panel; past the deadline the complaint is flagged to the expert (time travel);
the expert upholds, dismisses, or upholds and suspends the seal; counts on the staff page."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from enamad.complaints.services import complaint_answer, complaint_decide, complaint_file, complaint_flag
from enamad.models import Business, BusinessStatus, Complaint, ComplaintStatus
from enamad.seals.services import business_suspend
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import captcha_answer, make_staff
from tests.enamad.conftest import DOMAIN, forget_cached_seals, png_bytes, staff_client
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db

BUYER = "09131234567"


@pytest.fixture
def seal(business):
    return issue_seal(business)


def complaint_url(seal):
    return f"/trustseal/complaint/?id={seal.number}&Code={seal.code}"


def file_complaint(client, seal, **changes):
    page = client.get(complaint_url(seal)).content.decode()
    data = {"complaint_type": "non_delivery", "payment_reference": "۱۲۳۴۵۶۷۸۹۰", "contact_name": "علی خریدار",
            "description": "سفارش را دو هفته پیش پرداختم و هنوز چیزی نرسیده است.", "contact_mobile": BUYER,
            "contact_email": "buyer@example.com",
            "attachments": [SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png")],
            **captcha_answer(page)}
    data.update(changes)
    return client.post(complaint_url(seal), data)


def quick_complaint(seal, **data):
    base = {"complaint_type": "delay", "payment_reference": "987", "description": "دیر رسید و پاسخی ندادند.",
            "contact_name": "مریم", "contact_mobile": BUYER}
    return complaint_file(seal_id=seal.pk, data={**base, **data})


def test_seal_page_links_to_the_complaint_form(client, seal):
    page = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}").content.decode()
    assert 'id="complaint-link"' in page and f"/trustseal/complaint/?id={seal.number}" in page
    form = client.get(complaint_url(seal)).content.decode()
    for label in ("عدم تحویل کالا", "عدم استرداد وجه", "مغایرت کالا", "تأخیر", "هزینه جدید", "خدمات پس از فروش",
                  "فاکتور"):
        assert label in form
    assert "۹۶ ساعت" in form
    assert client.get(f"/trustseal/complaint/?id={seal.number}&Code={'x' * 32}").status_code == 404


def test_required_fields_and_checked_attachments(client, seal):
    page = client.get(complaint_url(seal)).content.decode()
    response = client.post(complaint_url(seal), captcha_answer(page))
    errors = response.context["form"].errors
    assert {"complaint_type", "payment_reference", "description", "contact_name", "contact_mobile"} <= set(errors)
    fake = SimpleUploadedFile("x.png", b"<script>", content_type="image/png")
    response = file_complaint(client, seal, attachments=[fake])
    assert "attachments" in response.context["form"].errors
    response = file_complaint(client, seal, captcha_1="WRONG")
    assert "captcha" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_filing_notifies_holder_and_buyer(client, seal, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = file_complaint(client, seal)
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert complaint.tracking_code in page
    assert complaint.payment_reference == "1234567890" and complaint.status == ComplaintStatus.AWAITING_ANSWER
    assert complaint.answer_due_at - complaint.created_at == dt.timedelta(hours=96)
    assert complaint.attachments.count() == 1
    holder = OutboxMessage.objects.get(channel="sms", to=account.mobile, template="enamad_complaint_holder")
    assert complaint.tracking_code in holder.body and "۹۶ ساعت" in holder.body
    assert OutboxMessage.objects.filter(channel="email", to=account.user.email).exists()
    buyer = OutboxMessage.objects.get(channel="sms", to=BUYER)
    assert complaint.tracking_code in buyer.body
    assert AuditEntry.objects.filter(event="enamad.complaint.filed", actor=None).exists()
    # the filed page is only for the one who filed it
    assert Client().get(response["Location"]).status_code == 404


def test_holder_answers_in_the_panel(owner_client, account, seal):
    complaint = quick_complaint(seal)
    panel = owner_client.get("/enamad/panel/").content.decode()
    assert 'id="complaints-to-answer"' in panel
    assert complaint.tracking_code in owner_client.get("/enamad/panel/complaints/").content.decode()
    page = owner_client.get(f"/enamad/panel/complaints/{complaint.pk}/").content.decode()
    assert "دیر رسید" in page and "پاسخ به شکایت" in page
    owner_client.post(f"/enamad/panel/complaints/{complaint.pk}/", {"answer": "کالا امروز ارسال شد؛ کد رهگیری ۱۲۳."})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED and not complaint.answered_late
    assert "کد رهگیری" in complaint.answer
    assert OutboxMessage.objects.filter(channel="sms", to=BUYER, body__contains="پاسخ داد").exists()
    assert AuditEntry.objects.filter(event="enamad.complaint.answered", actor=account.user).exists()
    with pytest.raises(InvalidTransition):
        complaint_answer(complaint_id=complaint.pk, actor=account.user, text="دوباره")


def test_unanswered_complaint_is_flagged_after_96_hours(client, owner_client, account, seal, enamad_expert):
    from enamad.tasks import flag_overdue_complaints

    enamad_expert.email = "expert@enamad.test"
    enamad_expert.save()
    complaint = quick_complaint(seal)
    with time_machine.travel(complaint.created_at + dt.timedelta(hours=95, minutes=59), tick=False):
        assert flag_overdue_complaints() == 0
    assert Complaint.objects.get().status == ComplaintStatus.AWAITING_ANSWER
    with time_machine.travel(complaint.created_at + dt.timedelta(hours=96, minutes=1), tick=False):
        assert flag_overdue_complaints() == 1
        assert flag_overdue_complaints() == 0
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OVERDUE and complaint.flagged_at is not None
    assert AuditEntry.objects.filter(event="enamad.complaint.flagged", actor=None).exists()
    mail = OutboxMessage.objects.get(channel="email", to="expert@enamad.test")
    assert complaint.tracking_code in mail.body
    assert OutboxMessage.objects.filter(channel="sms", to=account.mobile, body__contains="مهلت پاسخ").exists()
    staff = staff_client(Client(), enamad_expert)
    assert complaint.tracking_code in staff.get("/enamad/staff/complaints/?q=overdue").content.decode()
    # a late answer is still possible and shows as late
    with time_machine.travel(complaint.created_at + dt.timedelta(hours=100), tick=False):
        complaint_answer(complaint_id=complaint.pk, actor=account.user, text="ببخشید، دیر دیدیم.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED and complaint.answered_late


def test_expert_upholds_and_suspends_the_seal(client, seal, account, enamad_expert,
                                              django_capture_on_commit_callbacks):
    complaint = quick_complaint(seal)
    staff = staff_client(Client(), enamad_expert)
    response = staff.post(f"/enamad/staff/complaints/{complaint.pk}/",
                          {"outcome": "dismissed", "note": "x", "suspend_seal": "on"})
    assert response.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/enamad/staff/complaints/{complaint.pk}/",
                   {"outcome": "upheld", "note": "فروشنده کالا را نفرستاده است.", "suspend_seal": "on"})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.UPHELD and complaint.seal_suspended
    assert complaint.decided_by == enamad_expert
    assert Business.objects.get(pk=seal.business_id).status == BusinessStatus.SUSPENDED
    suspended = AuditEntry.objects.get(event="enamad.seal.suspended")
    assert suspended.actor == enamad_expert and suspended.extra == {"complaint": complaint.tracking_code}
    assert AuditEntry.objects.filter(event="enamad.complaint.upheld", actor=enamad_expert).exists()
    forget_cached_seals()
    logo = client.get(f"/trustseal/logo/?id={seal.number}&Code={seal.code}", HTTP_REFERER=f"https://{DOMAIN}/")
    assert logo["X-Seal-Variant"] == "suspended"
    assert OutboxMessage.objects.filter(channel="sms", to=BUYER, body__contains="تعلیق").exists()
    assert OutboxMessage.objects.filter(channel="sms", to=account.mobile, body__contains="وارد دانسته شد").exists()
    with pytest.raises(InvalidTransition):
        complaint_decide(complaint_id=complaint.pk, actor=enamad_expert, upheld=False, note="x")


def test_expert_dismisses(seal, enamad_expert):
    complaint = quick_complaint(seal)
    with pytest.raises(ValidationError):
        complaint_decide(complaint_id=complaint.pk, actor=enamad_expert, upheld=False, note="  ")
    complaint_decide(complaint_id=complaint.pk, actor=enamad_expert, upheld=False,
                     note="رسید پرداخت با این فروشگاه نیست.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.DISMISSED and not complaint.seal_suspended
    assert Business.objects.get(pk=seal.business_id).status == BusinessStatus.APPROVED


def test_who_may_see_and_decide(client, owner_client, seal, other_account):
    complaint = quick_complaint(seal)
    complaint_answer(complaint_id=complaint.pk, actor=seal.business.account.user, text="پاسخ",
                     attachments=[SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")])
    attachment = complaint.attachments.get()
    assert owner_client.get(f"/enamad/panel/complaints/attachments/{attachment.pk}/").status_code == 200
    other = Client()
    other.force_login(other_account.user)
    assert other.get(f"/enamad/panel/complaints/{complaint.pk}/").status_code == 404
    assert other.get(f"/enamad/panel/complaints/attachments/{attachment.pk}/").status_code == 404
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        complaint_answer(complaint_id=complaint.pk, actor=other_account.user, text="x")
    officer = make_staff("doc_officer", perms=["enamad.review_documents"])
    staff = staff_client(Client(), officer)
    response = staff.post(f"/enamad/staff/complaints/{complaint.pk}/", {"outcome": "upheld", "note": "x"})
    assert response.status_code == 403  # complaint pages are for those who handle complaints
    assert Complaint.objects.get().status == ComplaintStatus.ANSWERED
    clerk = make_staff("ramis_clerk2")
    assert staff_client(Client(), clerk).get("/enamad/staff/complaints/").status_code == 403


def test_counts_on_the_staff_business_page(seal, enamad_expert):
    first, second, third = (quick_complaint(seal) for _ in range(3))
    complaint_decide(complaint_id=first.pk, actor=enamad_expert, upheld=True, note="وارد است")
    complaint_decide(complaint_id=second.pk, actor=enamad_expert, upheld=False, note="وارد نیست")
    assert complaint_flag(complaint_id=third.pk) is False  # not yet due
    staff = staff_client(Client(), enamad_expert)
    page = staff.get(f"/enamad/staff/business/{seal.business_id}/").content.decode()
    assert 'id="complaint-counts"' in page
    assert "مجموع ۳" in page and "باز ۱" in page and "وارد ۱" in page and "رد ۱" in page


def test_buyer_follows_the_complaint(client, seal):
    complaint = quick_complaint(seal)
    page = client.post("/trustseal/complaint/status/", {"code": complaint.tracking_code, "mobile": "09130000000"})
    assert "پیدا نشد" in page.content.decode()
    page = client.post("/trustseal/complaint/status/", {"code": complaint.tracking_code, "mobile": BUYER})
    assert 'id="complaint-result"' in page.content.decode() and "در انتظار پاسخ فروشنده" in page.content.decode()


def test_complaints_panel_is_per_account(client, seal, other_account):
    complaint = quick_complaint(seal)
    client.force_login(other_account.user)
    page = client.get("/enamad/panel/complaints/").content.decode()
    # no tracking code at all (C- and ten digits), not only not this one
    assert complaint.tracking_code not in page and re.search(r"C-\d{10}", page) is None


def test_a_complaint_against_a_renewing_or_monitor_suspended_seal_cannot_suspend_twice(seal, account,
                                                                                       enamad_expert, enamad_manager):
    complaint = quick_complaint(seal)
    business_suspend(business_id=seal.business_id, actor=enamad_manager, reason="پیش‌تر")
    with pytest.raises(InvalidTransition):
        complaint_decide(complaint_id=complaint.pk, actor=enamad_expert, upheld=True, note="x",
                         suspend_seal=True)
    assert Complaint.objects.get().status == ComplaintStatus.AWAITING_ANSWER  # nothing half-done



def test_complaint_lists_cost_a_fixed_number_of_queries(owner_client, seal, enamad_expert,
                                                        django_assert_max_num_queries):
    for _ in range(5):
        quick_complaint(seal)
    owner_client.get("/enamad/panel/complaints/")
    with django_assert_max_num_queries(8):  # session, user, account, nav, one list query; the session save
        assert owner_client.get("/enamad/panel/complaints/").content.decode().count("C-") >= 5
    staff = staff_client(Client(), enamad_expert)
    staff.get("/enamad/staff/complaints/?q=awaiting")
    with django_assert_max_num_queries(12):  # session, user, device, permissions, nav, the pager's COUNT, one list query, save
        assert staff.get("/enamad/staff/complaints/?q=awaiting").content.decode().count("C-") >= 5
