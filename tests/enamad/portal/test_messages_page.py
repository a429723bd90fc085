"""/enamad/panel/messages/ (issue 13, item 10): the SMS and e-mails the shop owner was sent, through
the same selector and cards as RAMIS's panel; only their own, codes and secret links masked."""

import pytest
from django.urls import reverse

from tests.conftest import MESSAGES_T0, sent_message
from tests.enamad.conftest import make_account

T0 = MESSAGES_T0


def _message(to: str, **fields):
    fields.setdefault("body", "اینماد: پیام آزمایشی")
    return sent_message(to, **fields)


@pytest.fixture
def url():
    return reverse("enamad:messages")


def test_the_page_needs_an_owner(client, account, url):
    response = client.get(url)
    assert response.status_code == 302 and reverse("enamad:login") in response["Location"]


def test_the_panel_links_to_the_messages(owner_client, url):
    assert f'href="{url}"' in owner_client.get(reverse("enamad:panel")).content.decode()


def test_owner_sees_sms_to_the_verified_mobile_and_mail_to_the_account(owner_client, account, url):
    _message(account.mobile, minutes=0, body="اینماد: پرونده shop.test تأیید شد.")
    _message(account.user.email.upper(), minutes=1, channel="email", subject="اینماد: پاسخ تیکت", body="پاسخ داده شد.")
    html = owner_client.get(url).content.decode()
    cards = html.split('class="card message-card')[1:]
    assert len(cards) == 2
    assert "رایانامه" in cards[0] and "اینماد: پاسخ تیکت" in cards[0] and "۱۴۰۵/۰۱/۰۱ ۱۰:۰۱" in cards[0]
    assert "پیامک" in cards[1] and "پرونده shop.test تأیید شد" in cards[1] and "ارسال شد" in cards[1]


def test_an_unverified_mobile_s_sms_are_not_listed(client, db, url):
    account = make_account("newshop", verified=False, mobile="09127778899")
    _message("09127778899", body="اینماد: پیام به شماره‌ای که هنوز احراز نشده")
    _message(account.user.email, channel="email", subject="اینماد: خوش آمدید")
    client.force_login(account.user)
    html = client.get(url).content.decode()
    assert "هنوز احراز نشده" not in html and "خوش آمدید" in html
    assert 'id="inbox-note"' in html


def test_activation_links_and_codes_are_masked(owner_client, account, url):
    _message(account.user.email, channel="email", template="enamad_activation", subject="فعال‌سازی حساب اینماد",
             body="برای فعال‌سازی:\nhttp://127.0.0.1:8000/enamad/activate/eyJ1Ijo0fQ:1secret/")
    _message(account.user.email, channel="email", template="enamad_domain_code", subject="کد تأییدیه فنی",
             body="کد تأییدیه فنی: 318274", redacted_body="کد تأییدیه فنی: ••••••")
    html = owner_client.get(url).content.decode()
    assert "1secret" not in html and "/activate/" not in html and "پیوند محرمانه" in html
    assert "318274" not in html and "۳۱۸۲۷۴" not in html


def test_another_owner_sees_none_of_them(client, account, other_account, url):
    _message(account.mobile, body="اینماد: پیام مالک نخست")
    _message(account.user.email, channel="email", subject="نامه مالک نخست")
    client.force_login(other_account.user)
    html = client.get(url).content.decode()
    assert "مالک نخست" not in html and 'id="no-messages"' in html


def test_pagination(owner_client, account, url):
    for i in range(23):
        _message(account.mobile, minutes=i, body=f"اینماد: پیام شماره {i}.")
    first = owner_client.get(url).content.decode()
    assert first.count('class="card message-card') == 20 and 'href="?page=2"' in first
    second = owner_client.get(url + "?page=2").content.decode()
    assert second.count('class="card message-card') == 3 and "اینماد: پیام شماره 0." in second


@pytest.mark.parametrize("count", [3, 40])
def test_query_count_is_fixed(owner_client, account, url, django_assert_num_queries, count):
    for i in range(count):
        _message(account.mobile if i % 2 else account.user.email, minutes=i, channel="sms" if i % 2 else "email")
    # session, user, account, count, the page's rows, and the idle-timeout session save (savepoint,
    # update, release): 8, whatever the number of messages
    with django_assert_num_queries(8):
        response = owner_client.get(url)
    assert response.content.decode().count('class="card message-card') == min(count, 20)
