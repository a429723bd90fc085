"""N5: mobile by reverse SMS, landline by the IVR callback; signed webhooks; the dev operator."""

import datetime as dt

import pytest
from django.utils import timezone

from enamad.accounts.services import inbound_signature, phone_challenge_start, phone_inbound
from enamad.models import PhoneChallenge
from ramis.common.models import AuditEntry
from tests.enamad.conftest import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(db):
    account = make_account(verified=False)
    account.landline = "02188776655"
    account.save()
    return account


def post_signed(client, url, data, secret=None, *, sent_at: float | None = None):
    import time
    from urllib.parse import urlencode

    body = urlencode(data).encode()
    timestamp = str(int(time.time() if sent_at is None else sent_at))
    signature = inbound_signature(body, timestamp) if secret is None else secret
    return client.generic("POST", url, body, content_type="application/x-www-form-urlencoded",
                          HTTP_X_ENAMAD_SIGNATURE=signature, HTTP_X_ENAMAD_TIMESTAMP=timestamp)


def test_mobile_verified_by_reverse_sms(client, fresh):
    client.force_login(fresh.user)
    page = client.get("/enamad/panel/identity/").content.decode()
    challenge = PhoneChallenge.objects.get(account=fresh, purpose="mobile")
    assert challenge.code in page and "100020003000" in page.replace("۰", "0").replace("۱", "1").replace("۲", "2").replace("۳", "3")
    # Reloading shows the same code.
    client.get("/enamad/panel/identity/")
    assert PhoneChallenge.objects.filter(account=fresh, purpose="mobile").count() == 1

    response = post_signed(client, "/enamad/hooks/sms/", {"from": "+989121112233", "message": f" {challenge.code} "})
    assert response.status_code == 200 and response.json() == {"ok": True, "matched": True}
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is not None
    assert AuditEntry.objects.filter(event="enamad.phone.mobile_verified").count() == 1
    assert "صحت تلفن همراه شما تأیید شده است" in client.get("/enamad/panel/").content.decode()


def test_persian_digits_in_the_text_are_accepted(fresh):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    persian = challenge.code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert phone_inbound(channel="sms", sender="09121112233", text=persian)


def test_wrong_number_does_not_verify(client, fresh):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    response = post_signed(client, "/enamad/hooks/sms/", {"from": "09359998877", "message": challenge.code})
    assert response.json()["matched"] is False
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is None


def test_wrong_code_does_not_verify(client, fresh):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    wrong = f"{(int(challenge.code) + 1) % 10**6:06d}"
    assert post_signed(client, "/enamad/hooks/sms/", {"from": "09121112233", "message": wrong}).json()["matched"] is False
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is None


def test_expired_code_does_not_verify(client, fresh):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    PhoneChallenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert post_signed(client, "/enamad/hooks/sms/", {"from": "09121112233", "message": challenge.code}).json()["matched"] is False
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is None
    # A new visit issues a new code that works.
    fresh_challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    assert fresh_challenge.pk != challenge.pk
    assert phone_inbound(channel="sms", sender="09121112233", text=fresh_challenge.code)


def test_code_works_once(fresh):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    assert phone_inbound(channel="sms", sender="09121112233", text=challenge.code)
    assert phone_inbound(channel="sms", sender="09121112233", text=challenge.code) is None


def test_unsigned_or_badly_signed_webhook_refused(client, fresh, settings):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    data = {"from": "09121112233", "message": challenge.code}
    assert post_signed(client, "/enamad/hooks/sms/", data, secret="0" * 64).status_code == 403
    assert post_signed(client, "/enamad/hooks/sms/", data, secret="").status_code == 403
    settings.ENAMAD_INBOUND_SECRET = ""  # no secret configured: every callback is refused
    assert post_signed(client, "/enamad/hooks/sms/", data, secret="").status_code == 403
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is None
    assert client.get("/enamad/hooks/sms/").status_code == 405


def test_replayed_or_undated_webhook_refused(client, fresh):
    import hashlib
    import hmac
    import time
    from urllib.parse import urlencode

    from django.conf import settings

    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    data = {"from": "09121112233", "message": challenge.code}
    url = "/enamad/hooks/sms/"
    assert post_signed(client, url, data, sent_at=time.time() - 301).status_code == 403  # captured and replayed
    assert post_signed(client, url, data, sent_at=time.time() + 301).status_code == 403
    # Signed over the body alone (no time), or with the time missing: refused.
    body = urlencode(data).encode()
    body_only = hmac.new(settings.ENAMAD_INBOUND_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert client.generic("POST", url, body, content_type="application/x-www-form-urlencoded",
                          HTTP_X_ENAMAD_SIGNATURE=body_only).status_code == 403
    for timestamp in ("", "²", "1e9", "-1"):
        assert client.generic("POST", url, body, content_type="application/x-www-form-urlencoded",
                              HTTP_X_ENAMAD_SIGNATURE=inbound_signature(body, timestamp),
                              HTTP_X_ENAMAD_TIMESTAMP=timestamp).status_code == 403
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is None
    assert post_signed(client, url, data, sent_at=time.time() - 250).json()["matched"] is True


def test_landline_verified_by_ivr_callback(client, fresh):
    client.force_login(fresh.user)
    phone_inbound(channel="sms", sender="09121112233",
                  text=phone_challenge_start(account_id=fresh.pk, actor=fresh.user,
                                             purpose="mobile").code)
    page = client.get("/enamad/panel/identity/").content.decode()
    challenge = PhoneChallenge.objects.get(account=fresh, purpose="landline")
    assert challenge.channel == "ivr" and challenge.code in page
    # An SMS with the landline's code is not an IVR call.
    assert phone_inbound(channel="sms", sender="02188776655", text=challenge.code) is None
    response = post_signed(client, "/enamad/hooks/ivr/", {"caller": "021-88776655", "digits": challenge.code})
    assert response.json()["matched"] is True
    fresh.refresh_from_db()
    assert fresh.landline_verified_at is not None
    assert "صحت تلفن ثابت شما تأیید شده است" in client.get("/enamad/panel/").content.decode()


def test_dev_operator_page_only_in_development(client, fresh, settings):
    challenge = phone_challenge_start(account_id=fresh.pk, actor=fresh.user, purpose="mobile")
    settings.DEV_OUTBOX = False
    assert client.get("/enamad/dev/operator/").status_code == 404
    settings.DEV_OUTBOX = True
    response = client.post("/enamad/dev/operator/", {"channel": "sms", "sender": "09121112233",
                                                      "text": challenge.code}, follow=True)
    assert "احراز شد" in response.content.decode()
    fresh.refresh_from_db()
    assert fresh.mobile_verified_at is not None
