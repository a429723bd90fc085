"""The multi-step form (R6–R9): drafts saved at every step, uploads checked, final submit."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from ramis.requests import services
from ramis.requests.models import CertificateRequest, RequestDocument
from tests.conftest import last_sms, login_applicant, make_person, make_role

from .conftest import PDF_BYTES, advance, mailed_email_code, make_draft, png_bytes


def _new(client, role, cert_type="signature"):
    return client.post(reverse("requests:new", args=[role.pk]), {"cert_type": cert_type})


def test_new_request_creates_a_draft_and_audits(applicant_client, applicant_person, catalogue):
    role = applicant_person.roles.get()
    response = _new(applicant_client, role)
    req = CertificateRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("requests:step", args=[req.pk, "details"])
    assert req.status == "draft" and req.cert_type == "signature" and req.validity_years == 2
    assert AuditEntry.objects.for_object(req).get().event == "request.created"


def test_seal_only_for_a_role_with_signing_authority(client, company, catalogue):
    person = make_person("0013542419", "09351112233")
    role = make_role(person, company, has_signing_authority=False)
    login_applicant(client, person)
    assert "حق امضا ندارد" in client.get(reverse("requests:new", args=[role.pk])).content.decode()
    _new(client, role, "seal")
    assert not CertificateRequest.objects.exists()


def test_new_request_for_someone_elses_role_is_404(applicant_client, other_applicant_person):
    role = other_applicant_person.roles.get()
    assert _new(applicant_client, role).status_code == 404


def test_steps_save_the_draft_and_the_form_can_be_continued(applicant_client, applicant_person, office, catalogue,
                                                            django_capture_on_commit_callbacks):
    _new(applicant_client, applicant_person.roles.get())
    req = CertificateRequest.objects.get()
    url = lambda step: reverse("requests:step", args=[req.pk, step])  # noqa: E731
    r = applicant_client.post(url("details"), {"validity_years": 2, "email": "ali@example.com",
                                               "latin_first_name": "Ali", "latin_last_name": "رضایی"})
    assert r.status_code == 200 and "فقط حروف لاتین" in r.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = applicant_client.post(url("details"), {"validity_years": 2, "email": "ali@example.com",
                                                   "latin_first_name": "Ali", "latin_last_name": "Rezaei"})
    # saved, and the address is to be confirmed before the form goes on: a code was e-mailed to it
    assert r["Location"] == url("details") + "#email-confirm"
    assert "کد تأیید به ali@example.com فرستاده شد" in applicant_client.get(url("details")).content.decode()
    code = mailed_email_code("ali@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    r = applicant_client.post(url("details"), {"action": "email_confirm", "code": wrong})
    page = r.content.decode()
    assert r.status_code == 200
    assert 'id="code-error">کد درست نیست؛ 4 بار دیگر می‌توانید تلاش کنید.' in page
    assert not CertificateRequest.objects.get(pk=req.pk).email_is_confirmed
    r = applicant_client.post(url("details"), {"action": "email_confirm", "code": code})
    assert r["Location"] == url("documents")
    saved = CertificateRequest.objects.get(pk=req.pk)
    assert saved.email_is_confirmed and saved.email_confirmed == "ali@example.com"
    assert "✔ رایانامه" in applicant_client.get(url("details")).content.decode()
    assert (saved.email, saved.latin_last_name) == ("ali@example.com", "Rezaei")
    # leave and continue: the stepper shows the details step done
    html = applicant_client.get(url("documents")).content.decode()
    assert 'class="step done"' in html and 'aria-current="step"' in html
    r = applicant_client.post(url("office"), {"office": office.pk, "service_type": "on_site", "on_site_address": ""})
    assert "نشانی را وارد کنید" in r.content.decode()
    r = applicant_client.post(url("office"), {"office": office.pk, "service_type": "in_person"})
    assert r["Location"] == url("token")
    r = applicant_client.post(url("token"), {"token_choice": "buy"})
    assert "مدل توکن را انتخاب کنید" in r.content.decode()
    r = applicant_client.post(url("token"), {"token_choice": "buy", "token_model": catalogue["token"].pk})
    assert r["Location"] == url("review")
    saved = CertificateRequest.objects.get(pk=req.pk)
    assert saved.office == office and saved.token_model == catalogue["token"]


def test_office_that_does_not_offer_on_site_is_refused(applicant_client, applicant_person, other_office, catalogue):
    req = make_draft(applicant_person, other_office, catalogue=catalogue)
    r = applicant_client.post(reverse("requests:step", args=[req.pk, "office"]),
                              {"office": other_office.pk, "service_type": "on_site", "on_site_address": "x"})
    assert "خدمت در محل ارائه نمی‌دهد" in r.content.decode()


def test_someone_elses_draft_is_404_everywhere(other_applicant_client, applicant_person, office, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    for name, args in [("detail", [req.pk]), ("step", [req.pk, "details"]), ("appointment", [req.pk]),
                       ("receipt", [req.pk])]:
        assert other_applicant_client.get(reverse(f"requests:{name}", args=args)).status_code == 404
    for name in ("submit", "cancel", "pay"):
        assert other_applicant_client.post(reverse(f"requests:{name}", args=[req.pk])).status_code == 404
    assert CertificateRequest.objects.get(pk=req.pk).status == "draft"


# --- uploads (X8) -------------------------------------------------------------------------------------


def _upload(client, req, requirement, content, name):
    return client.post(reverse("requests:step", args=[req.pk, "documents"]),
                       {f"doc_{requirement.pk}": SimpleUploadedFile(name, content)})


def test_upload_pdf_and_png_by_content(applicant_client, applicant_person, office, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue, upload=False)
    card = catalogue["requirements"]["national-card"]
    assert _upload(applicant_client, req, card, png_bytes(), "card.pdf").status_code == 302  # a PNG named .pdf
    doc = RequestDocument.objects.get(request=req, requirement=card)
    assert doc.kind == "png" and not doc.file.name.endswith("card.pdf") and "/" in doc.file.name
    assert AuditEntry.objects.filter(event="request.document_uploaded").count() == 1
    # a second upload replaces the first
    assert _upload(applicant_client, req, card, PDF_BYTES, "card.pdf").status_code == 302
    assert RequestDocument.objects.get(request=req, requirement=card).kind == "pdf"


@pytest.mark.parametrize("content,message", [
    (b"MZ\x90\x00 this is an executable, renamed", "نوع فایل پذیرفته نیست"),
    (b"%PDF-1.4 truncated", "PDF ناقص"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "تصویر خراب"),
])
def test_upload_refused_by_content(applicant_client, applicant_person, office, catalogue, content, message):
    req = make_draft(applicant_person, office, catalogue=catalogue, upload=False)
    r = _upload(applicant_client, req, catalogue["requirements"]["national-card"], content, "scan.pdf")
    assert r.status_code == 200 and message in r.content.decode()
    assert not RequestDocument.objects.exists()


def test_upload_size_limit(applicant_client, applicant_person, office, catalogue, settings):
    settings.UPLOAD_MAX_BYTES = 100
    req = make_draft(applicant_person, office, catalogue=catalogue, upload=False)
    r = _upload(applicant_client, req, catalogue["requirements"]["national-card"], PDF_BYTES + b" " * 200, "a.pdf")
    assert "حجم فایل بیش از حد مجاز" in r.content.decode()


def test_document_view_is_permission_checked(client, applicant_client, other_applicant_client, applicant_person,
                                             office, clerk, other_office_clerk, seo_reviewer, catalogue):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.conftest import login_staff, make_staff

    req = make_draft(applicant_person, office, catalogue=catalogue)
    doc = req.documents.first()
    url = reverse("requests:document", args=[doc.pk])
    response = applicant_client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["Cache-Control"] == "private, no-store"
    assert other_applicant_client.get(url).status_code == 404
    assert Client().get(url).status_code == 404
    assert login_staff(Client(), clerk).get(url).status_code == 404  # a draft is the applicant's own
    services.request_submit(request_id=req.pk, actor=applicant_person.user)
    assert login_staff(Client(), clerk).get(url).status_code == 200
    assert login_staff(Client(), other_office_clerk).get(url).status_code == 404
    assert login_staff(Client(), seo_reviewer).get(url).status_code == 404
    reviewer = make_staff("reviewer")
    reviewer.user_permissions.add(Permission.objects.get(codename="view_certificaterequest"))
    assert login_staff(Client(), reviewer).get(url).status_code == 200
    unverified = Client()
    unverified.force_login(clerk)  # password only, no TOTP in this session
    assert unverified.get(url).status_code == 404


# --- final submit (R9) --------------------------------------------------------------------------------


def test_final_submit_lists_what_is_missing_in_persian(applicant_client, applicant_person, office, catalogue):
    _new(applicant_client, applicant_person.roles.get())
    req = CertificateRequest.objects.get()
    r = applicant_client.post(reverse("requests:submit", args=[req.pk]), follow=True)
    html = r.content.decode()
    for text in ["رایانامه وارد نشده است", "دفتر ثبت‌نام انتخاب نشده است", "نوع خدمت", "وضعیت توکن",
                 "«تصویر کارت ملی» بارگذاری نشده است", "«معرفی‌نامه شرکت» بارگذاری نشده است"]:
        assert text in html
    assert "«عکس پرسنلی»" not in html.split('id="missing"')[1]  # optional document
    assert "«آگهی روزنامه رسمی" not in html  # seal-only document
    assert CertificateRequest.objects.get(pk=req.pk).status == "draft"
    assert not OutboxMessage.objects.exists()


def test_seal_request_needs_the_gazette(applicant_person, office, catalogue):
    req = make_draft(applicant_person, office, cert_type="seal", catalogue=catalogue)  # uploads required docs
    assert "«آگهی روزنامه رسمی آخرین تغییرات» بارگذاری نشده است." not in services.selectors.missing_items(req)
    req.documents.filter(requirement__code="gazette").delete()
    assert "مدرک «آگهی روزنامه رسمی آخرین تغییرات» بارگذاری نشده است." in services.selectors.missing_items(req)


def test_final_submit_happy_path(applicant_client, applicant_person, office, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    r = applicant_client.post(reverse("requests:submit", args=[req.pk]))
    assert r["Location"] == reverse("requests:detail", args=[req.pk])
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "submitted" and req.submitted_at is not None
    entry = AuditEntry.objects.filter(event="request.submitted").get()
    assert (entry.old, entry.new, entry.actor_id) == ("draft", "submitted", applicant_person.user_id)
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "request_submitted" and req.reference in sms.body and office.name in sms.body
    assert req in services.selectors.requests_for_office(office)
    # no more edits once submitted; a second submit is refused
    assert applicant_client.get(reverse("requests:step", args=[req.pk, "details"]))["Location"].endswith(
        f"/requests/{req.pk}/")
    with pytest.raises(InvalidTransition):
        services.request_submit(request_id=req.pk, actor=applicant_person.user)


def test_only_the_applicant_may_submit(applicant_person, office, clerk, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    with pytest.raises(PermissionDenied):
        services.request_submit(request_id=req.pk, actor=clerk)


def test_returned_request_shows_notes_and_resubmits(applicant_client, applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    services.request_return(request_id=req.pk, actor=clerk, notes={
        "details": "نام لاتین با گذرنامه یکی نیست.", "doc:national-card": "تصویر کارت ملی خوانا نیست.",
    })
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "returned"
    assert last_sms(applicant_person.mobile).template == "request_returned"
    assert "نام لاتین با گذرنامه یکی نیست." in applicant_client.get(
        reverse("requests:step", args=[req.pk, "details"])).content.decode()
    assert "تصویر کارت ملی خوانا نیست." in applicant_client.get(
        reverse("requests:step", args=[req.pk, "documents"])).content.decode()
    detail = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "اصلاح درخواست" in detail
    notes = detail.split('id="return-notes"')[1].split("</section>")[0]
    assert "<strong>مشخصات</strong>: نام لاتین" in notes
    assert "<strong>مدرک: تصویر کارت ملی</strong>: تصویر کارت ملی خوانا نیست." in notes
    assert "doc:" not in notes and "details" not in notes
    applicant_client.post(reverse("requests:step", args=[req.pk, "details"]), {
        "validity_years": 2, "email": req.email, "latin_first_name": "Ali", "latin_last_name": "Rezaee"})
    applicant_client.post(reverse("requests:submit", args=[req.pk]))
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "submitted" and req.latin_last_name == "Rezaee"
    assert not req.return_notes.filter(is_open=True).exists()
    assert AuditEntry.objects.filter(event="request.resubmitted", old="returned", new="submitted").count() == 1


def test_cancel_before_payment(applicant_client, applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    applicant_client.post(reverse("requests:cancel", args=[req.pk]))
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "cancelled" and req.invoice.status == "void"
    assert AuditEntry.objects.filter(event="request.cancelled").exists()


def test_timeline_shows_every_transition_with_jalali_time(applicant_client, applicant_person, office, clerk,
                                                          catalogue):
    clerk.first_name, clerk.last_name = "زهرا", "محمدی"
    clerk.save()
    # Tehran is UTC+3:30: 06:45 UTC on 22 March 2025 is 10:15 on 2 Farvardin 1404
    with time_machine.travel(dt.datetime(2025, 3, 22, 6, 45, tzinfo=dt.UTC), tick=False):
        req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")
    with time_machine.travel(dt.datetime(2025, 3, 25, 10, 10, tzinfo=dt.UTC), tick=False):
        services.request_return(request_id=req.pk, actor=clerk, notes={"details": "نام لاتین"},
                                reason="نام لاتین را مانند گذرنامه بنویسید.")
    html = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    items = [" ".join(li.split("</li>")[0].split()) for li in html.split('id="timeline"')[1].split("<li>")[1:]]
    created, code_sent, confirmed, *uploads, submitted, returned = items
    assert created.startswith("<strong>ایجاد درخواست</strong> — ۱۴۰۴/۰۱/۰۲ ۱۰:۱۵ — متقاضی")
    assert code_sent.startswith("<strong>ارسال کد تأیید رایانامه</strong> — ۱۴۰۴/۰۱/۰۲ ۱۰:۱۵ — متقاضی")
    assert confirmed.startswith("<strong>تأیید رایانامه</strong> — ۱۴۰۴/۰۱/۰۲ ۱۰:۱۵ — متقاضی")
    assert len(uploads) == 3 and all(u.startswith("<strong>بارگذاری مدرک</strong> — ۱۴۰۴/۰۱/۰۲ ۱۰:۱۵ — متقاضی")
                                     for u in uploads)
    assert submitted.startswith("<strong>ثبت نهایی و ارسال به دفتر</strong> — ۱۴۰۴/۰۱/۰۲ ۱۰:۱۵ — متقاضی")
    assert returned.startswith("<strong>بازگشت برای اصلاح</strong> — ۱۴۰۴/۰۱/۰۵ ۱۳:۴۰ — زهرا محمدی")
    assert "<small>نام لاتین را مانند گذرنامه بنویسید.</small>" in returned  # the clerk's note


def test_cancel_sends_an_sms_and_is_refused_after_issuance(applicant_person, other_applicant_person, office, clerk,
                                                          catalogue):
    from django.core.exceptions import PermissionDenied

    from ramis.common.errors import InvalidTransition
    from ramis.requests import services
    from tests.conftest import last_sms

    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    from django.test import Client

    from tests.conftest import login_applicant

    login_applicant(Client(), other_applicant_person)
    with pytest.raises(PermissionDenied):
        services.request_cancel(request_id=req.pk, actor=other_applicant_person.user)
    services.request_cancel(request_id=req.pk, actor=applicant_person.user)
    assert last_sms(applicant_person.mobile).template == "request_cancelled"
    issued = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk).request
    with pytest.raises(InvalidTransition):
        services.request_cancel(request_id=issued.pk, actor=applicant_person.user)
    assert CertificateRequest.objects.get(pk=issued.pk).status == "issued"
