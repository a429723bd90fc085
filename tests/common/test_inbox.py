"""The shared selector of the messages pages (ramis.common.inbox): whose messages, and what of them
may be read again (codes and links that act on their own stay masked)."""

import pytest

from ramis.common import inbox, notify
from ramis.common.models import OutboxMessage


def _message(**fields) -> OutboxMessage:
    data = {"channel": "sms", "to": "09121234567", "body": "متن", "status": "sent"}
    data.update(fields)
    return OutboxMessage.objects.create(**data)


@pytest.mark.django_db
def test_messages_to_matches_sms_by_mobile_and_email_case_aside():
    mine_sms = _message(to="09121234567")
    mine_mail = _message(channel="email", to="Ali.Rezaei@Example.com", subject="موضوع")
    _message(to="09350000000")
    _message(channel="email", to="other@example.com")
    _message(channel="email", to="09121234567")  # an e-mail row never matches a mobile, nor the reverse
    found = list(inbox.messages_to(mobiles=["09121234567"], emails=["ali.rezaei@example.com"]))
    assert [m.pk for m in found] == [mine_mail.pk, mine_sms.pk]  # newest first


@pytest.mark.django_db
def test_no_address_no_messages():
    _message(to="")
    assert list(inbox.messages_to(mobiles=[""], emails=["", None])) == []


@pytest.mark.django_db
def test_a_login_code_is_masked_before_and_after_sending(settings):
    settings.OUTBOX_KEEP_SECRETS = True  # even when the outbox keeps the code, the page does not show it
    message = notify.send_sms(to="09121234567", template="login_code", secrets=("code",),
                              context={"code": "493817", "minutes": 2})
    assert "493817" in message.body  # queued: the gateway still needs it
    text = inbox.safe_text(message)
    assert "493817" not in text and inbox.MASK in text and "کد ورود" in text


def test_a_code_is_masked_even_without_a_masked_copy():
    message = OutboxMessage(channel="email", template="request_email_code", redacted_body="",
                            body="کد تأیید رایانامه: 582914\nدرخواست RQ-1403-000123")
    text = inbox.safe_text(message)
    assert "582914" not in text and inbox.MASK in text
    assert "RQ-1403-000123" in text  # a reference is not a code


def test_secret_links_are_masked_and_ordinary_links_kept():
    activation = OutboxMessage(channel="email", template="enamad_activation",
                               body="برای فعال‌سازی:\nhttp://127.0.0.1:8000/enamad/activate/eyJ1Ijo0fQ:1abc/")
    assert "activate" not in inbox.safe_text(activation) and inbox.LINK_MASK in inbox.safe_text(activation)
    reset = OutboxMessage(channel="email", template="", body="بازنشانی: http://127.0.0.1:8000/enamad/reset/MQ/set-password/")
    assert "/reset/" not in inbox.safe_text(reset)
    ordinary = OutboxMessage(channel="sms", template="enamad_status", body="پنل: http://127.0.0.1:8000/enamad/panel/")
    assert inbox.safe_text(ordinary) == ordinary.body


@pytest.mark.parametrize(("status", "error", "words"), [
    ("sent", "", "ارسال شد"),
    ("queued", "", "در انتظار ارسال"),
    ("sending", "", "در انتظار ارسال"),
    ("failed", "gateway answered HTTP 500", "ارسال نشد؛ دوباره تلاش می‌کنیم"),
    ("failed", "expired before delivery", "ارسال نشد؛ اعتبار کد پیش از ارسال گذشت"),
])
def test_delivery_state_in_words(status, error, words):
    assert inbox.state_words(OutboxMessage(status=status, last_error=error)) == words
