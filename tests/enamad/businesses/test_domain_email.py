"""N22: domain control by a code e-mailed to info@<the business's domain>. The code goes through
the outbox (delivered into ``mail.outbox``, masked in the database once sent), is stored as an
HMAC, lives 30 minutes (a setting), is used once, dies after five wrong tries, and is re-sent
no sooner than a minute and only a few times a day. Time travel moves past the limits."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from enamad.businesses.domains import control_email_address, normalize_domain
from enamad.businesses.services import business_update
from enamad.common import Throttled
from enamad.models import Business, DomainEmailCode
from enamad.seals.control import business_confirm_domain_code, business_send_domain_code
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.conftest import DOMAIN, make_business

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(account):
    return make_business(account, ready=False)


@pytest.fixture(autouse=True)
def _outbox_forgets_secrets(settings):
    settings.OUTBOX_KEEP_SECRETS = False


def technical_url(business) -> str:
    return f"/enamad/panel/business/{business.pk}/technical/"


def mailed_code() -> str:
    return re.search(r"کد تأییدیه فنی: (\d{6})", mail.outbox[-1].body).group(1)


def send(business, capture):
    with capture(execute=True):
        return business_send_domain_code(business_id=business.pk, actor=business.account.user)


def confirm(business, code: str) -> Business:
    return business_confirm_domain_code(business_id=business.pk, actor=business.account.user, code=code)


def refusal(business, code: str) -> str:
    with pytest.raises(ValidationError) as exc:
        confirm(business, code)
    return " ".join(exc.value.messages)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_whole_flow_through_the_page(owner_client, draft, django_capture_on_commit_callbacks):
    page = owner_client.get(technical_url(draft)).content.decode()
    assert 'id="email-method"' in page and f"info@{DOMAIN}" in page
    assert 'id="email-code-form"' not in page  # nothing to enter before a code is sent

    with django_capture_on_commit_callbacks(execute=True):
        # a typed address is ignored: the code only ever goes to info@ the business's own domain
        response = owner_client.post(technical_url(draft), {"action": "email_code", "to": "me@attacker.test"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[f"info@{DOMAIN}"]]
    code = mailed_code()
    assert "۳۰ دقیقه" in mail.outbox[0].body and technical_url(draft) in mail.outbox[0].body
    message = OutboxMessage.objects.get(template="enamad_domain_code")
    assert message.status == OutboxMessage.Status.SENT and message.to == f"info@{DOMAIN}"
    assert code not in message.body and "••••••" in message.body  # the outbox forgot it once sent
    row = DomainEmailCode.objects.get(business=draft)
    assert row.address == f"info@{DOMAIN}" and code not in row.code_hash and len(row.code_hash) == 64
    sent = AuditEntry.objects.get(event="enamad.business.domain_code_sent")
    assert sent.actor == draft.account.user and sent.extra == {"address": f"info@{DOMAIN}", "by": "holder"}

    page = owner_client.get(technical_url(draft)).content.decode()
    assert 'id="email-code-sent"' in page and 'id="email-code-form"' in page

    # a wrong code: a Persian error next to the field, counted
    response = owner_client.post(technical_url(draft), {"action": "email_confirm", "code": wrong(code)})
    assert response.status_code == 200
    assert re.search(r'<p class="error" id="code-error">کد درست نیست؛ 4 بار دیگر', response.content.decode())
    # Persian digits are accepted
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(technical_url(draft), {"action": "email_confirm", "code": persian})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.domain_verified_at is not None and draft.domain_verified_method == "email"
    entry = AuditEntry.objects.get(event="enamad.business.domain_verified")
    assert entry.new == "email" and entry.actor == draft.account.user
    assert entry.extra == {"domain": DOMAIN, "address": f"info@{DOMAIN}"}
    assert OutboxMessage.objects.filter(template="enamad_domain_verified", to=draft.account.user.email).exists()
    assert "تأییدیه فنی دامنه" not in draft.missing_for_send()
    page = owner_client.get(technical_url(draft)).content.decode()
    assert 'id="technical-ok"' in page and "کد ارسالی به رایانامه info دامنه" in page and 'id="email-note"' in page


def test_a_short_code_is_a_form_error_next_to_the_field(owner_client, draft):
    response = owner_client.post(technical_url(draft), {"action": "email_confirm", "code": "12a"})
    assert response.status_code == 200
    assert 'id="code-error"' in response.content.decode()
    assert not DomainEmailCode.objects.exists() and Business.objects.get(pk=draft.pk).domain_verified_at is None


def test_entering_a_code_before_one_is_sent(draft):
    assert refusal(draft, "123456") == f"هنوز کدی به info@{DOMAIN} فرستاده نشده است؛ «ارسال کد» را بزنید."


def test_idn_domain_gets_its_punycode_address(account, django_capture_on_commit_callbacks):
    ascii_name = normalize_domain("فروشگاه.ایران")
    assert ascii_name.startswith("xn--") and control_email_address(ascii_name) == f"info@{ascii_name}"
    assert control_email_address("فروشگاه.ایران") == f"info@{ascii_name}"  # a Unicode name is converted
    business = make_business(account, domain=ascii_name, ready=False)
    send(business, django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == [f"info@{ascii_name}"]
    assert "فروشگاه.ایران" in mail.outbox[-1].subject  # people read the Unicode form
    confirm(business, mailed_code())
    assert Business.objects.get(pk=business.pk).domain_verified_method == "email"


def test_code_expires_after_thirty_minutes(draft, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(draft, django_capture_on_commit_callbacks)
    code = mailed_code()
    with time_machine.travel(start + dt.timedelta(minutes=30, seconds=1), tick=False):
        assert refusal(draft, code) == "اعتبار این کد به پایان رسیده است؛ کد تازه بخواهید."
    with time_machine.travel(start + dt.timedelta(minutes=29, seconds=59), tick=False):
        confirm(draft, code)
    assert Business.objects.get(pk=draft.pk).domain_verified_method == "email"


def test_validity_is_a_setting(draft, settings, django_capture_on_commit_callbacks):
    settings.ENAMAD_DOMAIN_EMAIL_CODE_SECONDS = 5 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(draft, django_capture_on_commit_callbacks)
    assert "۵ دقیقه" in mail.outbox[-1].body
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        assert "اعتبار این کد" in refusal(draft, mailed_code())


def test_five_wrong_tries_kill_the_code(draft, django_capture_on_commit_callbacks):
    send(draft, django_capture_on_commit_callbacks)
    code = mailed_code()
    messages = [refusal(draft, wrong(code)) for _ in range(5)]
    assert messages[0] == "کد درست نیست؛ 4 بار دیگر می‌توانید تلاش کنید."
    assert messages[4] == "کد درست نیست؛ این کد دیگر پذیرفته نمی‌شود، کد تازه بخواهید."
    assert refusal(draft, code) == "این کد پس از چند بار ورود نادرست باطل شده است؛ کد تازه بخواهید."
    assert DomainEmailCode.objects.get(business=draft).failures == 5
    assert AuditEntry.objects.filter(event="enamad.business.domain_code_rejected").count() == 5
    assert Business.objects.get(pk=draft.pk).domain_verified_at is None
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=False):
        send(draft, django_capture_on_commit_callbacks)  # a new code works
        confirm(draft, mailed_code())
    assert Business.objects.get(pk=draft.pk).domain_verified_method == "email"


def test_a_code_is_used_once(draft, django_capture_on_commit_callbacks):
    send(draft, django_capture_on_commit_callbacks)
    code = mailed_code()
    confirm(draft, code)
    assert refusal(draft, code) == "این کد پیش‌تر به کار رفته است و دوباره پذیرفته نمی‌شود."
    assert AuditEntry.objects.filter(event="enamad.business.domain_verified").count() == 1
    with pytest.raises(InvalidTransition):  # verified: no more codes
        business_send_domain_code(business_id=draft.pk, actor=draft.account.user)


def test_resend_waits_a_minute_and_only_the_latest_code_counts(draft, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(draft, django_capture_on_commit_callbacks)
    first = mailed_code()
    with time_machine.travel(start + dt.timedelta(seconds=20), tick=False):
        with pytest.raises(Throttled) as exc:
            send(draft, django_capture_on_commit_callbacks)
    assert "40 ثانیه" in exc.value.message and len(mail.outbox) == 1
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        send(draft, django_capture_on_commit_callbacks)
        second = mailed_code()
        if first != second:
            assert "کد درست نیست" in refusal(draft, first)  # the earlier code died
        confirm(draft, second)


def test_daily_cap_per_business(draft, settings, django_capture_on_commit_callbacks):
    settings.ENAMAD_DOMAIN_EMAIL_DAILY_LIMIT = 3
    start = timezone.now()
    for minute in range(3):
        with time_machine.travel(start + dt.timedelta(minutes=2 * minute), tick=False):
            send(draft, django_capture_on_commit_callbacks)
    with time_machine.travel(start + dt.timedelta(hours=5), tick=False):
        with pytest.raises(Throttled) as exc:
            send(draft, django_capture_on_commit_callbacks)
    assert "سقف ارسال کد" in exc.value.message and len(mail.outbox) == 3
    with time_machine.travel(start + dt.timedelta(days=1, minutes=1), tick=False):
        send(draft, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 4


def test_daily_cap_per_address_across_claimants(account, other_account, settings, django_capture_on_commit_callbacks,
                                                client):
    """Anyone may add any domain: the cap per address keeps its mailbox from being flooded."""
    settings.ENAMAD_DOMAIN_EMAIL_ADDRESS_DAILY_LIMIT = 2
    mine, theirs = make_business(account, ready=False), make_business(other_account, ready=False)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(mine, django_capture_on_commit_callbacks)
        send(theirs, django_capture_on_commit_callbacks)
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        with pytest.raises(Throttled):
            send(mine, django_capture_on_commit_callbacks)
        client.force_login(account.user)
        response = client.post(technical_url(mine), {"action": "email_code"}, follow=True)
    assert "سقف ارسال کد" in response.content.decode() and len(mail.outbox) == 2


def test_another_holders_business_is_refused(client, draft, other_account, django_capture_on_commit_callbacks):
    send(draft, django_capture_on_commit_callbacks)
    code = mailed_code()
    with pytest.raises(PermissionDenied):
        business_send_domain_code(business_id=draft.pk, actor=other_account.user)
    with pytest.raises(PermissionDenied):
        business_confirm_domain_code(business_id=draft.pk, actor=other_account.user, code=code)
    client.force_login(other_account.user)
    assert client.get(technical_url(draft)).status_code == 404
    assert client.post(technical_url(draft), {"action": "email_confirm", "code": code}).status_code == 404
    assert client.post(technical_url(draft), {"action": "email_code"}).status_code == 404
    assert Business.objects.get(pk=draft.pk).domain_verified_at is None and len(mail.outbox) == 1


def test_a_domain_verified_by_another_business_is_refused(draft, other_account, django_capture_on_commit_callbacks):
    make_business(other_account)  # the same domain, verified (and sent on: not an idle claim)
    Business.objects.filter(account=other_account).update(status="under_review")
    with pytest.raises(ValidationError) as exc:
        send(draft, django_capture_on_commit_callbacks)
    assert "کسب‌وکار دیگری" in exc.value.messages[0] and mail.outbox == []


def test_a_domain_verified_meanwhile_by_another_business_is_refused_at_confirm(draft, other_account,
                                                                              django_capture_on_commit_callbacks):
    send(draft, django_capture_on_commit_callbacks)
    make_business(other_account)
    Business.objects.filter(account=other_account).update(status="under_review")
    assert "کسب‌وکار دیگری" in refusal(draft, mailed_code())
    draft.refresh_from_db()
    assert draft.domain_verified_at is None and DomainEmailCode.objects.get(business=draft).used_at is None


def test_changing_the_domain_voids_the_code(owner_client, draft, django_capture_on_commit_callbacks):
    send(draft, django_capture_on_commit_callbacks)
    code = mailed_code()
    business_update(business_id=draft.pk, actor=draft.account.user, data={"domain": "other-shop.test"})
    assert refusal(draft, code) == "هنوز کدی به info@other-shop.test فرستاده نشده است؛ «ارسال کد» را بزنید."
