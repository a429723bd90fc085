"""The clerk's staff views (R10, R12–R15, X7): each action through its service, audited, with
an SMS; and refused for a clerk of another office (404), for an applicant (sent to the staff
login) and for staff who are not clerks (403)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ramis.common.models import AuditEntry
from ramis.common.templatetags.jalali import rials
from ramis.desk.models import IdentityCheck, OfficeRevocation
from ramis.desk.selectors import day_bounds
from ramis.offices import hours
from ramis.requests.models import (
    Appointment,
    Certificate,
    CertificateRequest,
    Invoice,
    Payment,
    Refund,
    ReturnNote,
    RevocationRequest,
)
from tests.conftest import last_sms, make_person, make_role
from tests.requests.conftest import PDF_BYTES, advance, make_draft, pdf_upload, png_bytes

from .conftest import attorney_ok, identity_ok


def national_code(n: int) -> str:
    """A valid national code (X6) for the n-th test person."""
    body = f"{n + 100:09d}"
    r = sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    return body + str(r if r < 2 else 11 - r)


@pytest.fixture
def submitted(applicant_person, office, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted")


def _issue(req, clerk, token):
    from ramis.desk import services

    from .conftest import TOKEN_PIN

    return services.request_issue_on_token(request_id=req.pk, actor=clerk, pin=TOKEN_PIN, token_serial=token.serial)


@pytest.fixture
def issued_certificate(ca, awaiting_issuance, clerk, applicant_token):
    identity_ok(awaiting_issuance, clerk)
    return _issue(awaiting_issuance, clerk, applicant_token)


@pytest.fixture
def issued_to_attorney(ca, awaiting_issuance, clerk, applicant_token):
    """A certificate handed to the applicant's attorney: the identity check has a power-of-attorney scan."""
    attorney_ok(awaiting_issuance, clerk)
    return _issue(awaiting_issuance, clerk, applicant_token)


# --- who may see the desk -----------------------------------------------------------------------------


def _urls(req, certificate=None, revocation=None, document=None, check=None):
    urls = [("get", reverse("desk:queue")), ("get", reverse("desk:day")), ("get", reverse("desk:revocations")),
            ("get", reverse("desk:review", args=[req.pk])), ("post", reverse("desk:approve", args=[req.pk])),
            ("post", reverse("desk:return", args=[req.pk])), ("post", reverse("desk:reject", args=[req.pk])),
            ("post", reverse("desk:cancel", args=[req.pk])),
            ("get", reverse("desk:visit", args=[req.pk])), ("get", reverse("desk:identity", args=[req.pk])),
            ("get", reverse("desk:issue", args=[req.pk])), ("get", reverse("desk:handover", args=[req.pk]))]
    if certificate:
        urls.append(("get", reverse("desk:certificate", args=[certificate.pk])))
    if revocation:
        urls += [("post", reverse("desk:revocation_confirm", args=[revocation.pk])),
                 ("post", reverse("desk:revocation_reject", args=[revocation.pk]))]
    if document:
        urls += [("get", reverse("desk:document", args=[document.pk])),
                 ("get", reverse("desk:document_preview", args=[document.pk]))]
    if check:
        urls.append(("get", reverse("desk:power_of_attorney", args=[check.pk])))
    return urls


def test_applicant_and_anonymous_are_sent_to_the_staff_login(client, applicant_client, submitted):
    for c in (client, applicant_client):
        for method, url in _urls(submitted):
            response = getattr(c, method)(url)
            assert response.status_code == 302 and "/auth/staff/login/" in response["Location"], url
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "submitted"


def test_staff_without_an_office_get_403(plain_staff_client, submitted):
    for method, url in _urls(submitted):
        assert getattr(plain_staff_client, method)(url).status_code == 403, url


def test_a_staff_session_without_totp_is_sent_to_login(clerk, client, submitted):
    client.force_login(clerk, backend="django.contrib.auth.backends.ModelBackend")  # password only
    response = client.get(reverse("desk:queue"))
    assert response.status_code == 302 and "/auth/staff/login/" in response["Location"]


def test_another_offices_clerk_gets_404_for_every_object(issued_to_attorney, clerk_client, other_clerk_client,
                                                        applicant_person):
    issued_certificate = issued_to_attorney
    req = issued_certificate.request
    revocation = RevocationRequest.objects.create(certificate=issued_certificate, reason="affiliation_changed",
                                                  requested_by=applicant_person.user)
    check = IdentityCheck.objects.get(request=req)
    assert check.power_file  # else the power-of-attorney view would 404 for everyone
    document = req.documents.first()
    for method, url in _urls(req, issued_certificate, revocation, document, check)[3:]:
        assert getattr(other_clerk_client, method)(url).status_code == 404, url
    # the same objects are there for the office's own clerk
    for url in (reverse("desk:power_of_attorney", args=[check.pk]), reverse("desk:document", args=[document.pk]),
                reverse("desk:certificate", args=[issued_certificate.pk]), reverse("desk:handover", args=[req.pk])):
        assert clerk_client.get(url).status_code == 200, url
    # and the other office's queue does not list it
    html = other_clerk_client.get(reverse("desk:queue") + "?tab=issued").content.decode()
    assert req.reference not in html
    assert Certificate.objects.get(pk=issued_certificate.pk).status == "active"
    assert RevocationRequest.objects.get(pk=revocation.pk).status == "submitted"


# --- the queue ----------------------------------------------------------------------------------------


def test_queue_tabs_and_search(clerk_client, submitted, applicant_person, other_applicant_person, office, clerk,
                               catalogue, other_office):
    other = advance(make_draft(other_applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    elsewhere = make_person(national_code(7), "09120000007", first_name="رضا", last_name="کریمی")
    make_role(elsewhere, submitted.role.company)
    foreign = advance(make_draft(elsewhere, other_office, catalogue=catalogue), "submitted")

    html = clerk_client.get(reverse("desk:queue")).content.decode()
    assert submitted.reference in html and foreign.reference not in html and other.reference not in html
    assert "علی رضایی" in html and "۰۴۹۹۳۷۰۸۹۹" in html
    assert "data-tab=\"submitted\"" in html
    jalali = __import__("ramis.common.jalali", fromlist=["x"]).jalali_datetime(
        CertificateRequest.objects.get(pk=submitted.pk).submitted_at)
    assert jalali in html

    def found(q, tab="submitted"):
        # the row's link, not the reference text: the search box echoes the query back
        page = clerk_client.get(reverse("desk:queue"), {"tab": tab, "q": q}).content.decode()
        return f'href="{reverse("desk:review", args=[submitted.pk])}"' in page

    assert found("0499370899") and found("۰۴۹۹") and found("رضایی") and found("نمونه")
    assert found(submitted.reference) and found(str(submitted.pk))
    assert not found("0013542419") and not found("کریمی")
    assert clerk_client.get(reverse("desk:queue"), {"tab": "nope"}).status_code == 404


def test_queue_pages_and_a_fixed_number_of_queries(clerk_client, applicant_person, office, django_assert_num_queries,
                                                   settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.OFFICE_QUEUE_PAGE_SIZE = 10
    role = applicant_person.roles.get()

    def add(n):
        CertificateRequest.objects.bulk_create([
            CertificateRequest(applicant=applicant_person, role=role, cert_type="signature", office=office,
                               status="submitted", submitted_at=timezone.now(), service_type="in_person")
            for _ in range(n)
        ])

    add(3)
    clerk_client.get(reverse("desk:queue"))  # the session's idle clock moved: the pages below write nothing
    with CaptureQueriesContext(connection) as few:
        clerk_client.get(reverse("desk:queue"))
    add(40)
    with django_assert_num_queries(len(few.captured_queries)):
        response = clerk_client.get(reverse("desk:queue"))
    html = response.content.decode()
    assert html.count('href="/office/requests/') == 10
    assert "صفحه ۱ از ۵" in html
    page5 = clerk_client.get(reverse("desk:queue"), {"page": 5}).content.decode()
    assert page5.count('href="/office/requests/') == 3


def test_today_tab_and_day_view(clerk_client, awaiting_issuance):
    appointment = Appointment.objects.get(request=awaiting_issuance, is_active=True)
    html = clerk_client.get(reverse("desk:queue"), {"tab": "today"}).content.decode()
    assert awaiting_issuance.reference not in html  # booked from tomorrow on
    # today, in Tehran, whatever the hour the suite runs at (near midnight, now + 5 minutes is tomorrow)
    start_of_today, _end = day_bounds(hours.today_in_tehran())
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=start_of_today + dt.timedelta(minutes=1))
    html = clerk_client.get(reverse("desk:queue"), {"tab": "today"}).content.decode()
    assert awaiting_issuance.reference in html
    day = clerk_client.get(reverse("desk:day")).content.decode()
    assert awaiting_issuance.reference in day and "احراز هویت و صدور" in day
    tomorrow = clerk_client.get(reverse("desk:day"), {"date": "1300/01/01"}).content.decode()
    assert awaiting_issuance.reference not in tomorrow


def test_day_view_costs_a_fixed_number_of_queries(clerk_client, clerk, applicant_person, office,
                                                  django_assert_num_queries):
    """STYLE 18: the day's rows (in person and on site, with the assigned clerk) in one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ramis.common.jalali import jalali_date
    from ramis.offices.models import Clerk
    from tests.conftest import make_staff

    role = applicant_person.roles.get()
    second = make_staff("clerk-b")
    Clerk.objects.create(user=second, office=office)
    # the morning of the day after tomorrow in Tehran: its rows never run past its midnight
    day = day_bounds(hours.today_in_tehran() + dt.timedelta(days=2))[0] + dt.timedelta(hours=9)

    def add(n):
        reqs = CertificateRequest.objects.bulk_create([
            CertificateRequest(applicant=applicant_person, role=role, cert_type="signature", office=office,
                               status="awaiting_issuance", submitted_at=timezone.now(),
                               service_type="on_site" if i % 2 else "in_person")
            for i in range(n)])
        Appointment.objects.bulk_create([
            Appointment(request=r, office=office, kind=r.service_type, starts_at=day + dt.timedelta(minutes=i),
                        ends_at=day + dt.timedelta(minutes=i + 30), is_active=True,
                        address="تهران، برج نمونه" if r.service_type == "on_site" else "",
                        assigned_to=(clerk, second)[i // 2 % 2] if r.service_type == "on_site" else None)
            for i, r in enumerate(reqs)])
        return reqs

    url = reverse("desk:day") + "?date=" + jalali_date(day)
    add(1)
    clerk_client.get(url)  # the session's idle clock moved: the pages below write nothing
    with CaptureQueriesContext(connection) as one:
        clerk_client.get(url)
    reqs = add(7)
    with django_assert_num_queries(len(one.captured_queries)):
        html = clerk_client.get(url).content.decode()
    assert all(r.reference in html for r in reqs)
    assert html.count('href="/office/requests/') >= 8 and "برج نمونه" in html


def test_day_view_shows_only_the_clerks_office(clerk_client, other_clerk_client, other_office_clerk,
                                               applicant_person, other_applicant_person, office, other_office):
    """X7: the same day at two offices, in person and on site; each clerk sees only their office's."""
    from ramis.common.jalali import jalali_date

    day = timezone.now() + dt.timedelta(days=3)
    rows = {}
    for person, at, assigned in ((applicant_person, office, None), (other_applicant_person, other_office,
                                                                     other_office_clerk)):
        kind = "on_site" if assigned else "in_person"
        req = CertificateRequest.objects.create(applicant=person, role=person.roles.get(), cert_type="signature",
                                                office=at, status="awaiting_issuance", submitted_at=timezone.now(),
                                                service_type=kind)
        Appointment.objects.create(request=req, office=at, kind=kind, starts_at=day, is_active=True,
                                   ends_at=day + dt.timedelta(minutes=30), assigned_to=assigned,
                                   address="اصفهان، خیابان نمونه" if assigned else "")
        rows[at.pk] = req
    ours, theirs = rows[office.pk], rows[other_office.pk]
    url = reverse("desk:day") + "?date=" + jalali_date(day)
    html = clerk_client.get(url).content.decode()
    assert ours.reference in html and reverse("desk:review", args=[ours.pk]) in html
    assert theirs.reference not in html and "خیابان نمونه" not in html
    html = other_clerk_client.get(url).content.decode()
    assert theirs.reference in html and "خیابان نمونه" in html and ours.reference not in html


# --- review and decisions (R10) -----------------------------------------------------------------------


def test_review_shows_data_and_documents_inline(clerk_client, applicant_person, office, catalogue):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ramis.requests import services as request_services

    draft = make_draft(applicant_person, office, catalogue=catalogue)
    request_services.document_upload(request_id=draft.pk, requirement_id=catalogue["requirements"]["photo"].pk,
                                     actor=applicant_person.user,
                                     upload=SimpleUploadedFile("p.png", png_bytes(), content_type="image/png"))
    submitted = advance(draft, "submitted")
    html = clerk_client.get(reverse("desk:review", args=[submitted.pk])).content.decode()
    assert "علی رضایی" in html and "حسن" in html and "شرکت نمونه پارس" in html and "مدیرعامل" in html
    pdf_doc = submitted.documents.get(requirement__code="national-card")
    png_doc = submitted.documents.get(requirement__code="photo")
    for doc in (pdf_doc, png_doc):
        assert f'data-src="{reverse("desk:document_preview", args=[doc.pk])}"' in html
        assert f'href="{reverse("desk:document", args=[doc.pk])}"' in html
    response = clerk_client.get(reverse("desk:document", args=[pdf_doc.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert clerk_client.get(reverse("desk:document_preview", args=[png_doc.pk]))["Content-Type"] == "image/png"
    # the test PDF has no page to draw: no preview (the page says so and links the file)
    assert clerk_client.get(reverse("desk:document_preview", args=[pdf_doc.pk])).status_code == 404
    assert 'id="approve"' in html and 'id="return-box"' in html and 'id="reject-box"' in html


def test_pdf_preview_is_the_first_page_as_png(clerk_client, applicant_person, office, catalogue):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from ramis.common.pdf import render_pdf
    from ramis.requests import services as request_services

    draft = make_draft(applicant_person, office, catalogue=catalogue)
    pdf = render_pdf("pdf/user_guide.html", {})
    request_services.document_upload(request_id=draft.pk, actor=applicant_person.user,
                                     requirement_id=catalogue["requirements"]["national-card"].pk,
                                     upload=SimpleUploadedFile("card.pdf", pdf, content_type="application/pdf"))
    submitted = advance(draft, "submitted")
    doc = submitted.documents.get(requirement__code="national-card")
    response = clerk_client.get(reverse("desk:document_preview", args=[doc.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    import io

    assert Image.open(io.BytesIO(response.content)).size[0] == 900


def test_approve(clerk_client, clerk, submitted, applicant_person):
    response = clerk_client.post(reverse("desk:approve", args=[submitted.pk]))
    assert response.status_code == 302
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "awaiting_payment"
    assert AuditEntry.objects.get(event="request.approved").actor_id == clerk.pk
    assert last_sms(applicant_person.mobile).template == "request_approved"
    # twice: refused with a message, nothing changes
    clerk_client.post(reverse("desk:approve", args=[submitted.pk]))
    assert AuditEntry.objects.filter(event="request.approved").count() == 1


def test_return_with_a_note_per_item(clerk_client, submitted, applicant_person):
    url = reverse("desk:return", args=[submitted.pk])
    clerk_client.post(url, {"reason": ""})  # no note at all: refused
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "submitted"
    clerk_client.post(url, {"note_details": "نام لاتین با گذرنامه یکی نیست",
                            "note_doc__national-card": "تصویر پشت کارت خوانا نیست", "note_token": ""})
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "returned"
    notes = dict(ReturnNote.objects.filter(request=submitted).values_list("item", "note"))
    assert notes == {"details": "نام لاتین با گذرنامه یکی نیست", "doc:national-card": "تصویر پشت کارت خوانا نیست"}
    assert last_sms(applicant_person.mobile).template == "request_returned"
    assert AuditEntry.objects.filter(event="request.returned").exists()


def test_return_notes_show_persian_labels_on_the_desk_and_the_panel(clerk_client, applicant_client, submitted):
    form_page = clerk_client.get(reverse("desk:review", args=[submitted.pk])).content.decode()
    clerk_client.post(reverse("desk:return", args=[submitted.pk]), {
        "note_details": "نام لاتین را اصلاح کنید", "note_doc__national-card": "تصویر خوانا نیست",
        "note_token": "مدل توکن را دوباره انتخاب کنید"})
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "returned"
    desk = clerk_client.get(reverse("desk:review", args=[submitted.pk])).content.decode()
    notes = desk[desk.index('id="notes"'):]
    for label, note in [("مشخصات", "نام لاتین را اصلاح کنید"), ("مدرک: تصویر کارت ملی", "تصویر خوانا نیست"),
                        ("توکن", "مدل توکن را دوباره انتخاب کنید")]:
        assert f"<strong>{label}</strong>: {note}" in notes
        assert label in form_page  # the return form's field labels come from the same place
    for raw in ("details", "doc:national-card", "token"):
        assert f"<strong>{raw}</strong>" not in notes
    panel = applicant_client.get(reverse("requests:detail", args=[submitted.pk])).content.decode()
    assert "مدرک: تصویر کارت ملی" in panel


def test_reject_needs_a_reason(clerk_client, submitted, applicant_person):
    url = reverse("desk:reject", args=[submitted.pk])
    clerk_client.post(url, {"reason": ""})
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "submitted"
    clerk_client.post(url, {"reason": "معرفی‌نامه معتبر نیست"})
    assert CertificateRequest.objects.get(pk=submitted.pk).status == "rejected"
    assert AuditEntry.objects.get(event="request.rejected").reason == "معرفی‌نامه معتبر نیست"
    assert last_sms(applicant_person.mobile).template == "request_rejected"


def test_decisions_refused_for_the_applicant_as_service_caller(submitted, applicant_person):
    from django.core.exceptions import PermissionDenied

    from ramis.requests import services as request_services

    with pytest.raises(PermissionDenied):
        request_services.request_approve(request_id=submitted.pk, actor=applicant_person.user)


# --- cancel at the desk ---------------------------------------------------------------------------------


def test_clerk_cancels_a_paid_request_with_a_reason_and_its_refund_is_shown(clerk_client, clerk, awaiting_issuance,
                                                                             applicant_person):
    req = awaiting_issuance
    paid = Payment.objects.get(invoice__request=req, status="paid")
    booked = req.appointments.active().get()
    page = clerk_client.get(reverse("desk:review", args=[req.pk])).content.decode()
    assert reverse("desk:cancel", args=[req.pk]) in page and 'id="refunds"' not in page
    url = reverse("desk:cancel", args=[req.pk])

    for data in ({}, {"reason": "  ", "confirm": "on"}, {"reason": "متقاضی انصراف داد"}):
        response = clerk_client.post(url, data)
        assert response.status_code == 400
        html = response.content.decode()
        if not (data.get("reason") or "").strip():
            assert '<p class="error" id="reason-error">دلیل لغو درخواست را بنویسید.</p>' in html
        if "confirm" not in data:
            assert '<p class="error" id="confirm-error">لغو درخواست را تأیید کنید.</p>' in html
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
    assert not Refund.objects.exists() and not AuditEntry.objects.filter(event="request.cancelled").exists()

    response = clerk_client.post(url, {"reason": "متقاضی در دفتر انصراف داد", "confirm": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("desk:review", args=[req.pk])
    req = CertificateRequest.objects.get(pk=req.pk)
    assert req.status == "cancelled"
    assert not Appointment.objects.get(pk=booked.pk).is_active
    refund = Refund.objects.get(request=req)
    assert (refund.amount_rials, refund.payment_id, refund.status) == (paid.amount_rials, paid.pk, "requested")
    entry = AuditEntry.objects.get(event="request.cancelled", target_id=str(req.pk))
    assert (entry.actor_id, entry.reason, entry.new) == (clerk.pk, "متقاضی در دفتر انصراف داد", "cancelled")
    assert AuditEntry.objects.filter(event="refund.requested", target_id=str(refund.pk)).count() == 1
    assert last_sms(applicant_person.mobile).template == "request_cancelled"
    html = response.content.decode()
    amount = rials(refund.amount_rials)
    assert f"بازپرداخت {amount} ریال ثبت شد" in html  # the message
    section = html[html.index('id="refunds"'):]
    assert f"<td>{amount}</td>" in section and "در انتظار بازپرداخت" in section and "لغو درخواست پس از پرداخت" in section
    assert reverse("desk:cancel", args=[req.pk]) not in html  # nothing left to cancel
    # a second cancel is refused with a message; nothing more is refunded
    clerk_client.post(url, {"reason": "دوباره", "confirm": "on"})
    assert Refund.objects.count() == 1 and AuditEntry.objects.filter(event="request.cancelled").count() == 1


def test_clerk_cancels_before_payment_without_refund(clerk_client, clerk, applicant_person, office, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_payment", clerk=clerk)
    response = clerk_client.post(reverse("desk:cancel", args=[req.pk]), {"reason": "درخواست تکراری", "confirm": "on"},
                                 follow=True)
    assert CertificateRequest.objects.get(pk=req.pk).status == "cancelled"
    assert Invoice.objects.get(request=req).status == "void" and not Refund.objects.exists()
    assert 'id="refunds"' not in response.content.decode()


def test_no_cancel_after_issuance(clerk_client, clerk, applicant_person, office, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk).request
    url = reverse("desk:cancel", args=[req.pk])
    assert url not in clerk_client.get(reverse("desk:review", args=[req.pk])).content.decode()
    response = clerk_client.post(url, {"reason": "اشتباه", "confirm": "on"}, follow=True)
    assert response.status_code == 200 and "این عملیات در وضعیت فعلی امکان‌پذیر نیست." in response.content.decode()
    assert CertificateRequest.objects.get(pk=req.pk).status == "issued"
    assert not Refund.objects.exists() and not AuditEntry.objects.filter(event="request.cancelled").exists()


# --- on-site visit (R12) ------------------------------------------------------------------------------


def test_schedule_an_on_site_visit(clerk_client, clerk, applicant_person, office, catalogue):
    req = advance(make_draft(applicant_person, office, service_type="on_site", catalogue=catalogue), "paid",
                  clerk=clerk)
    url = reverse("desk:visit", args=[req.pk])
    html = clerk_client.get(url).content.decode()
    assert "تهران، خیابان نمونه" in html
    response = clerk_client.post(url, {"date": "1300/01/01", "time": "10:30", "address": "x",
                                       "assigned_to": clerk.pk})
    assert response.status_code == 200 and CertificateRequest.objects.get(pk=req.pk).status == "awaiting_visit"
    from ramis.common.jalali import jalali_date

    day = jalali_date(timezone.now() + dt.timedelta(days=3))
    response = clerk_client.post(url, {"date": day, "time": "۱۰:۳۰", "address": "تهران، برج نمونه، طبقه ۵",
                                       "assigned_to": clerk.pk})
    assert response.status_code == 302
    appointment = Appointment.objects.get(request=req, is_active=True)
    assert appointment.kind == "on_site" and appointment.assigned_to == clerk
    assert appointment.address == "تهران، برج نمونه، طبقه ۵"
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "visit_scheduled" and "برج نمونه" in sms.body


def test_visit_refuses_a_clerk_of_another_office_as_assignee(clerk, other_office_clerk, applicant_person, office,
                                                             catalogue):
    from ramis.requests import services as request_services

    req = advance(make_draft(applicant_person, office, service_type="on_site", catalogue=catalogue), "paid",
                  clerk=clerk)
    with pytest.raises(request_services.DomainError):
        request_services.visit_schedule(request_id=req.pk, actor=clerk, assigned_to=other_office_clerk,
                                        starts_at=timezone.now() + dt.timedelta(days=2))


# --- identity check (R13, R14, R21) -------------------------------------------------------------------


def test_identity_check_owner(clerk_client, clerk, awaiting_issuance):
    url = reverse("desk:identity", args=[awaiting_issuance.pk])
    response = clerk_client.post(url, {"national_card_seen": "on", "second_document": "passport",
                                       "photo_matches": "on", "presenter": "owner"})
    assert response["Location"] == reverse("desk:issue", args=[awaiting_issuance.pk])
    check = IdentityCheck.objects.get(request=awaiting_issuance)
    assert check.passed and check.checked_by == clerk and check.second_document == "passport"
    entry = AuditEntry.objects.for_object(awaiting_issuance).get(event="request.identity_checked")
    assert entry.extra["passed"] is True and entry.actor_id == clerk.pk


def test_identity_check_attorney_with_a_notarised_power(clerk_client, awaiting_issuance):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("desk:identity", args=[awaiting_issuance.pk])
    base = {"national_card_seen": "on", "second_document": "birth_certificate", "photo_matches": "on",
            "presenter": "attorney", "attorney_name": "مریم احمدی", "attorney_national_code": "0013542419",
            "power_kind": "notarised"}
    response = clerk_client.post(url, base)  # no number, date or scan: the form asks for them
    assert response.status_code == 200 and not IdentityCheck.objects.exists()
    assert "برای وکالت‌نامه محضری این مورد لازم است" in response.content.decode()
    response = clerk_client.post(url, {**base, "power_number": "۱۲۳۴۵", "power_date": "۱۴۰۳/۰۱/۱۵",
                                       "power_notary": "دفترخانه ۱۲ تهران",
                                       "power_file": SimpleUploadedFile("poa.pdf", PDF_BYTES)})
    assert response.status_code == 302
    check = IdentityCheck.objects.get()
    assert check.passed and check.power_number == "۱۲۳۴۵" and check.power_kind == "notarised"
    assert check.power_date == dt.date(2024, 4, 3) and check.power_file_kind == "pdf"
    pdf = clerk_client.get(reverse("desk:power_of_attorney", args=[check.pk]))
    assert pdf.status_code == 200


@pytest.mark.parametrize("kind", ["registration", "tax"])
def test_identity_check_refuses_registration_or_tax_powers(clerk_client, awaiting_issuance, kind):
    url = reverse("desk:identity", args=[awaiting_issuance.pk])
    response = clerk_client.post(url, {"national_card_seen": "on", "second_document": "birth_certificate",
                                       "photo_matches": "on", "presenter": "attorney", "attorney_name": "وکیل",
                                       "attorney_national_code": "0013542419", "power_kind": kind,
                                       "power_number": "9"})
    assert response["Location"] == reverse("desk:review", args=[awaiting_issuance.pk])
    check = IdentityCheck.objects.get()
    assert not check.passed and any("وکالت ثبت شرکت یا امور مالیاتی" in f for f in check.failures)
    entry = AuditEntry.objects.get(event="request.identity_checked")
    assert entry.extra["passed"] is False and entry.extra["power_kind"] == kind
    assert clerk_client.get(reverse("desk:issue", args=[awaiting_issuance.pk]))["Location"] == reverse(
        "desk:identity", args=[awaiting_issuance.pk])


def test_identity_check_photo_mismatch_is_recorded_and_blocks(clerk_client, awaiting_issuance):
    clerk_client.post(reverse("desk:identity", args=[awaiting_issuance.pk]),
                      {"national_card_seen": "on", "second_document": "", "presenter": "owner"})
    check = IdentityCheck.objects.get()
    assert not check.passed and len(check.failures) == 2


@pytest.mark.parametrize("case, code, goes_to", [
    ("no_identity_check", "no_identity", "desk:identity"), ("identity_refused", "no_identity", "desk:identity"),
    ("not_awaiting_issuance", "state", "desk:review"),
])
def test_a_post_to_issue_that_the_page_would_not_offer_is_refused_and_audited(
        case, code, goes_to, request, clerk_client, clerk, applicant_person, office, catalogue, applicant_token):
    """The view lets the service decide, so the refusal is audited like every other (issue 5)."""
    from ramis.desk.models import IssuanceAttempt
    from tokens.conf import get_manager

    from .conftest import TOKEN_PIN

    if case == "not_awaiting_issuance":
        req = advance(make_draft(applicant_person, office, catalogue=catalogue), "paid", clerk=clerk)
    else:
        req = request.getfixturevalue("awaiting_issuance")
        if case == "identity_refused":
            identity_ok(req, clerk, photo_matches=False)
    status = req.status
    response = clerk_client.post(reverse("desk:issue", args=[req.pk]),
                                 {"token": applicant_token.serial, "pin": TOKEN_PIN}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(goes_to, args=[req.pk])
    entry = AuditEntry.objects.for_object(req).get(event="issuance.refused")
    assert (entry.extra["code"], entry.actor_id, entry.old, entry.new) == (code, clerk.pk, status, status)
    assert entry.reason in response.content.decode()  # the clerk reads the service's message
    assert CertificateRequest.objects.get(pk=req.pk).status == status
    assert not IssuanceAttempt.objects.exists() and not Certificate.objects.exists()
    token = get_manager().open(serial=applicant_token.serial, pin=TOKEN_PIN)
    assert token.objects() == []
    token.logout()


def test_identity_check_only_awaiting_issuance(clerk, submitted):
    from ramis.common.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        identity_ok(submitted, clerk)


# --- certificates and revocation (R19) ----------------------------------------------------------------


def test_office_revocation_needs_the_signed_form(clerk_client, issued_certificate, django_capture_on_commit_callbacks):
    url = reverse("desk:certificate", args=[issued_certificate.pk])
    html = clerk_client.get(url).content.decode()
    assert issued_certificate.serial in html and 'id="revoke"' in html
    response = clerk_client.post(url, {"reason": "affiliation_changed", "confirm": "on"})
    assert response.status_code == 200 and Certificate.objects.get(pk=issued_certificate.pk).status == "active"
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk_client.post(url, {"reason": "affiliation_changed", "confirm": "on", "note": "پایان همکاری",
                                           "form_file": pdf_upload("form.pdf")})
    assert response.status_code == 302
    assert Certificate.objects.get(pk=issued_certificate.pk).status == "revoked"
    revocation = OfficeRevocation.objects.get()
    assert revocation.form_kind == "pdf" and revocation.reason == "affiliation_changed"
    assert AuditEntry.objects.filter(event="certificate.office_revoked").exists()
    from ramis.ca.models import IssuedCertificate

    assert IssuedCertificate.objects.get(serial_hex=issued_certificate.serial).status == "revoked"


def test_holder_revocation_requests_confirmed_or_rejected(clerk_client, issued_certificate, applicant_person,
                                                          django_capture_on_commit_callbacks):
    from ramis.requests import services as request_services

    outcome = request_services.revocation_request(certificate_id=issued_certificate.pk, actor=applicant_person.user,
                                                  reason="affiliation_changed")
    html = clerk_client.get(reverse("desk:revocations")).content.decode()
    assert issued_certificate.serial in html
    clerk_client.post(reverse("desk:revocation_reject", args=[outcome.revocation.pk]), {"reason": ""})
    assert RevocationRequest.objects.get(pk=outcome.revocation.pk).status == "submitted"
    clerk_client.post(reverse("desk:revocation_reject", args=[outcome.revocation.pk]), {"reason": "فرم امضا ندارد"})
    assert RevocationRequest.objects.get(pk=outcome.revocation.pk).status == "rejected"
    again = request_services.revocation_request(certificate_id=issued_certificate.pk, actor=applicant_person.user,
                                                reason="affiliation_changed")
    with django_capture_on_commit_callbacks(execute=True):
        clerk_client.post(reverse("desk:revocation_confirm", args=[again.revocation.pk]))
    assert Certificate.objects.get(pk=issued_certificate.pk).status == "revoked"


def test_staff_home_links_the_desk(clerk_client):
    html = clerk_client.get(reverse("certauth:staff_home")).content.decode()
    assert reverse("desk:queue") in html
