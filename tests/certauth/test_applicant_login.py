"""R3: identity + captcha, then a 6-digit SMS code; every failure path."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certauth.models import SMSDevice
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import captcha_answer, last_sms, make_person, make_role, sms_code

IDENTITY = {
    "national_code": "0499370899",
    "birth_date": "۱۳۶۵/۰۴/۱۲",
    "birth_certificate_number": "12345",
    "mobile": "09121234567",
}


def start(client, **overrides):
    page = client.get("/auth/login/")
    data = {**IDENTITY, **overrides, **captcha_answer(page.content.decode())}
    return client.post("/auth/login/", data)


def submit_code(client, code):
    return client.post("/auth/login/verify/", {"code": code})


@pytest.fixture
def applicant(applicant_person):
    return applicant_person


def test_login_success(client, applicant):
    response = start(client)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/verify/"
    sms = last_sms("09121234567")
    assert sms is not None and "رمیس" in sms.body
    response = submit_code(client, sms_code(sms))
    assert response.status_code == 302
    assert response["Location"] == "/panel/"
    panel = client.get("/panel/")
    assert panel.status_code == 200
    html = panel.content.decode()
    assert "شرکت نمونه پارس" in html and "مدیرعامل" in html
    applicant.refresh_from_db()
    assert AuditEntry.objects.filter(event="applicant.logged_in", target_id=str(applicant.user_id)).exists()
    # Idle timeout: 30 minutes from the last request.
    assert client.session.get_expiry_age() == 30 * 60


def test_persian_digits_accepted_everywhere(client, applicant):
    response = start(client, national_code="۰۴۹۹۳۷۰۸۹۹", mobile="۰۹۱۲۱۲۳۴۵۶۷", birth_certificate_number="۱۲۳۴۵")
    assert response.status_code == 302
    sms = last_sms()
    code = sms_code(sms).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert submit_code(client, code)["Location"] == "/panel/"


@pytest.mark.parametrize(
    "field,value",
    [("birth_date", "1365/04/13"), ("birth_certificate_number", "54321"), ("mobile", "09127654321"),
     ("national_code", "0013542419")],
)
def test_any_mismatched_field_sends_nothing(client, applicant, field, value):
    response = start(client, **{field: value})
    assert response.status_code == 302 and response["Location"] == "/auth/login/verify/"
    assert not OutboxMessage.objects.exists()


def test_unapproved_introduction_cannot_log_in(client, company):
    person = make_person("0013542419", "09351112233")
    make_role(person, company, status="pending")
    start(client, national_code="0013542419", mobile="09351112233")
    assert not OutboxMessage.objects.exists()


def test_ended_role_cannot_log_in(client, company):
    person = make_person("0013542419", "09351112233")
    make_role(person, company, status="ended")
    start(client, national_code="0013542419", mobile="09351112233")
    assert not OutboxMessage.objects.exists()


def test_no_enumeration(client, applicant, django_user_model):
    known = start(client)
    known_page = client.get("/auth/login/verify/").content.decode()
    client.cookies.clear()
    unknown = start(client, national_code="0013542419")
    unknown_page = client.get("/auth/login/verify/").content.decode()
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])

    def strip(html):  # the CSRF token differs per session
        import re

        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert strip(known_page) == strip(unknown_page)


def test_invalid_form_shows_persian_errors_next_to_fields(client, applicant):
    page = client.get("/auth/login/")
    data = {**IDENTITY, "national_code": "0684159415", "birth_date": "1365/13/40",
            **captcha_answer(page.content.decode())}
    response = client.post("/auth/login/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "کد ملی معتبر نیست." in html
    assert 'id="national_code-error"' in html and 'id="birth_date-error"' in html


def test_wrong_captcha_refused(client, applicant):
    client.get("/auth/login/")
    page = client.get("/auth/login/")
    answer = captcha_answer(page.content.decode())
    response = client.post("/auth/login/", {**IDENTITY, **answer, "captcha_1": "WRONG"})
    assert response.status_code == 200
    assert "کد امنیتی درست نیست" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_expired_code(client, applicant):
    start(client)
    code = sms_code(last_sms())
    SMSDevice.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    response = submit_code(client, code)
    assert response.status_code == 200
    assert "منقضی" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_code_is_single_use(client, applicant):
    start(client)
    code = sms_code(last_sms())
    assert submit_code(client, code)["Location"] == "/panel/"
    client.post("/auth/logout/")
    client.cookies.clear()
    # Back to the verify page with the same pending identity: the used code no longer works.
    session = client.session
    session["applicant_login"] = {**IDENTITY, "birth_date": "1986-07-03", "sent_at": 0}
    session.save()
    assert submit_code(client, code).status_code == 200
    assert "_auth_user_id" not in client.session


def test_code_dies_after_five_wrong_tries(client, applicant, settings):
    settings.AXES_FAILURE_LIMIT = 50  # isolate the device's own limit from the IP lockout
    start(client)
    code = sms_code(last_sms())
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert submit_code(client, wrong).status_code == 200
    response = submit_code(client, code)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    device = SMSDevice.objects.get()
    assert device.token_hash == "" and device.failures == 5


def test_code_is_stored_hashed(client, applicant):
    start(client)
    code = sms_code(last_sms())
    device = SMSDevice.objects.get()
    assert code not in device.token_hash and len(device.token_hash) == 64


def test_resend_too_early_then_allowed(client, applicant):
    start(client)
    assert OutboxMessage.objects.count() == 1
    response = client.post("/auth/login/resend/", follow=True)
    assert "ثانیه" in response.content.decode()
    assert OutboxMessage.objects.count() == 1
    # 61 seconds later (session and device clocks both moved back).
    session = client.session
    session["applicant_login"]["sent_at"] -= 61
    session.save()
    SMSDevice.objects.update(last_sent_at=timezone.now() - timedelta(seconds=61))
    client.post("/auth/login/resend/")
    assert OutboxMessage.objects.count() == 2
    first, second = OutboxMessage.objects.order_by("id")
    assert sms_code(first) != sms_code(second) or first.pk != second.pk


def test_device_refuses_resend_within_a_minute_even_from_a_new_session(client, applicant):
    start(client)
    client.cookies.clear()
    start(client)
    assert OutboxMessage.objects.count() == 1


def test_identity_step_is_throttled_per_ip(client, applicant, settings):
    settings.LOGIN_THROTTLE_LIMIT = 3
    statuses = [start(client, national_code="0013542419").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    response = start(client)  # even the right identity, from this IP, now waits
    assert response.status_code == 429
    assert "تعداد تلاش‌ها" in response.content.decode()


def test_wrong_codes_lock_out_through_axes(client, applicant, settings):
    settings.AXES_FAILURE_LIMIT = 3
    start(client)
    code = sms_code(last_sms())
    for _ in range(3):
        submit_code(client, "000001" if code != "000001" else "000002")
    response = submit_code(client, code)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_panel_requires_login(client, db):
    response = client.get("/panel/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


def test_staff_user_is_not_an_applicant(client, seo_reviewer):
    from tests.conftest import STAFF_PASSWORD, totp_now

    client.post("/auth/staff/login/", {"username": "seo", "password": STAFF_PASSWORD,
                                       "otp_token": totp_now(seo_reviewer)})
    assert client.get("/panel/").status_code == 403


def test_idle_session_ends_after_thirty_minutes(client, applicant):
    from django.contrib.sessions.models import Session

    start(client)
    submit_code(client, sms_code(last_sms()))
    assert client.get("/panel/").status_code == 200
    key = client.cookies["sessionid"].value
    # Each request pushes the expiry 30 minutes ahead; 31 idle minutes later the session is gone.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(minutes=1))
    response = client.get("/panel/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


def test_the_idle_clock_moves_once_a_minute_not_on_every_request(client, applicant, monkeypatch):
    """A page within a minute of the last move of the session's expiry writes nothing (no session
    UPDATE, no transaction); a page a minute or more later moves it 30 minutes ahead of that page.
    So a session ends 29–30 minutes after the last request (ramis/common/sessions.py)."""
    import time

    from django.contrib.sessions.models import Session

    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    start(client)
    submit_code(client, sms_code(last_sms()))
    assert client.get("/panel/").status_code == 200  # the first page after the login moves the clock
    key = client.cookies["sessionid"].value
    moved = Session.objects.get(session_key=key).expire_date
    Session.objects.filter(session_key=key).update(expire_date=moved - timedelta(minutes=10))  # a marker
    clock[0] += 59
    response = client.get("/panel/")
    assert response.status_code == 200 and "sessionid" not in response.cookies  # nothing set, nothing written
    assert Session.objects.get(session_key=key).expire_date == moved - timedelta(minutes=10)
    clock[0] += 2  # 61 s after the last move
    before = timezone.now()
    assert client.get("/panel/").status_code == 200
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry >= before + timedelta(minutes=30) - timedelta(seconds=5)


def test_a_page_that_changes_nothing_writes_no_session(client, applicant, monkeypatch):
    """Counted on the database: within the minute, a page's statements include no write to the
    session table; a minute later one UPDATE of it."""
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    start(client)
    submit_code(client, sms_code(last_sms()))
    client.get("/panel/")
    with CaptureQueriesContext(connection) as quiet:
        assert client.get("/panel/").status_code == 200
    clock[0] += 60
    with CaptureQueriesContext(connection) as moved:
        assert client.get("/panel/").status_code == 200
    writes = lambda ctx: [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE \"django_session\"")]  # noqa: E731
    assert writes(quiet) == []
    assert len(writes(moved)) == 1
