"""/panel/messages/ (issue 13, item 10): the SMS and e-mails the applicant was sent, as cards, newest
first, codes masked, only their own, paginated, at a fixed number of queries."""


import pytest
from django.urls import reverse
from django.utils import timezone

from ramis.common import notify
from ramis.common.models import OutboxMessage
from tests.conftest import MESSAGES_T0, login_staff, make_staff, sent_message

from .conftest import make_draft

URL = "/panel/messages/"
T0 = MESSAGES_T0


def _message(to: str, **fields):
    fields.setdefault("body", "رمیس: پیام آزمایشی")
    return sent_message(to, **fields)


def test_the_page_needs_a_logged_in_applicant(client, applicant_person):
    response = client.get(URL)
    assert response.status_code == 302 and "/auth/login/" in response["Location"]


def test_staff_are_not_shown_anyone_s_messages(client, applicant_person, db):
    _message(applicant_person.mobile, body="رمیس: پیام متقاضی")
    login_staff(client, make_staff("clerk-x", superuser=True))
    response = client.get(URL)
    assert response.status_code == 403 and "پیام متقاضی" not in response.content.decode()


def test_the_panel_links_to_the_messages(applicant_client):
    assert f'href="{URL}"' in applicant_client.get(reverse("requests:panel")).content.decode()
    assert reverse("requests:messages") == URL


def test_sms_and_email_as_cards_newest_first_with_jalali_time_and_state(applicant_client, applicant_person):
    applicant_person.email = "ali@example.com"
    applicant_person.save(update_fields=["email"])
    _message(applicant_person.mobile, minutes=0, body="رمیس: درخواست شما ثبت شد.")
    _message("ALI@example.com", minutes=5, channel="email", subject="رمیس: تأیید درخواست", body="درخواست تأیید شد.",
             status="queued")
    _message(applicant_person.mobile, minutes=10, body="رمیس: ارسال نشد.", status="failed", last_error="HTTP 500")
    html = applicant_client.get(URL).content.decode()
    cards = html.split('class="card message-card')[1:]
    assert len(cards) == 3
    assert "ارسال نشد؛ دوباره تلاش می‌کنیم" in cards[0] and "پیامک" in cards[0]
    assert "رایانامه" in cards[1] and "رمیس: تأیید درخواست" in cards[1] and "در انتظار ارسال" in cards[1]
    assert "درخواست شما ثبت شد" in cards[2] and "ارسال شد" in cards[2]
    assert "۱۴۰۵/۰۱/۰۱ ۱۰:۰۰" in cards[2] and "۱۴۰۵/۰۱/۰۱ ۱۰:۰۵" in cards[1]  # Jalali, Tehran, Persian digits
    assert "<table" not in html.split('id="messages"', 1)[1]  # cards, not a wide table


def test_a_login_code_is_never_shown(applicant_client, applicant_person, settings):
    settings.OUTBOX_KEEP_SECRETS = True
    notify.send_sms(to=applicant_person.mobile, template="login_code", secrets=("code",),
                    context={"code": "493817", "minutes": 2})
    OutboxMessage.objects.create(channel="sms", to=applicant_person.mobile, template="login_code",
                                 body="رمیس: کد ورود شما 705214 است.", status="sent")  # a row with no masked copy
    html = applicant_client.get(URL).content.decode()
    assert "کد ورود شما" in html
    for code in ("493817", "۴۹۳۸۱۷", "705214", "۷۰۵۲۱۴"):
        assert code not in html


def test_only_the_applicant_s_own_messages(applicant_client, applicant_person, other_applicant_person, office,
                                           catalogue):
    _message(applicant_person.mobile, body="رمیس: پیام خودم")
    _message(other_applicant_person.mobile, body="رمیس: پیام دیگری")
    # An address typed into a request is the applicant's only once confirmed with the e-mailed code.
    unconfirmed = make_draft(applicant_person, office, catalogue=catalogue)
    unconfirmed.email = "someone.else@example.com"
    unconfirmed.save(update_fields=["email"])
    _message("someone.else@example.com", channel="email", subject="نامه شخص دیگر")
    confirmed = make_draft(applicant_person, office, catalogue=catalogue)
    confirmed.email = confirmed.email_confirmed = "office@company.example"
    confirmed.email_confirmed_at = timezone.now()
    confirmed.save(update_fields=["email", "email_confirmed", "email_confirmed_at"])
    _message("office@company.example", channel="email", subject="کد تأیید رایانامه درخواست")
    html = applicant_client.get(URL).content.decode()
    assert "پیام خودم" in html and "کد تأیید رایانامه درخواست" in html
    assert "پیام دیگری" not in html and "نامه شخص دیگر" not in html


def test_another_applicant_sees_none_of_them(other_applicant_client, applicant_person):
    _message(applicant_person.mobile, body="رمیس: پیام خودم")
    html = other_applicant_client.get(URL).content.decode()
    assert "پیام خودم" not in html and 'id="no-messages"' in html


def test_pagination(applicant_client, applicant_person):
    for i in range(25):
        _message(applicant_person.mobile, minutes=i, body=f"رمیس: پیام شماره {i}.")
    first = applicant_client.get(URL).content.decode()
    assert first.count('class="card message-card') == 20
    assert "رمیس: پیام شماره 24." in first and "رمیس: پیام شماره 4." not in first
    assert 'href="?page=2"' in first and "صفحه ۱ از ۲" in first
    second = applicant_client.get(URL + "?page=2").content.decode()
    assert second.count('class="card message-card') == 5 and "رمیس: پیام شماره 0." in second


@pytest.mark.parametrize("count", [3, 40])
def test_query_count_is_fixed(applicant_client, applicant_person, django_assert_num_queries, count):
    applicant_person.email = "ali@example.com"
    applicant_person.save(update_fields=["email"])
    for i in range(count):
        _message(applicant_person.mobile if i % 2 else "ali@example.com", minutes=i,
                 channel="sms" if i % 2 else "email")
    # session, user, OTP device, person, confirmed request addresses, count, the page's rows,
    # and the idle-timeout session save (savepoint, update, release)
    with django_assert_num_queries(10):
        response = applicant_client.get(URL)
    assert response.content.decode().count('class="card message-card') == min(count, 20)
