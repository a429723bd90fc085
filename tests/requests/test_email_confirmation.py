"""The request's e-mail address, confirmed by a code e-mailed to it before it may go into a
certificate (issue 12): throttled, audited, Persian refusals next to the field."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from ramis.common.models import AuditEntry, OutboxMessage
from ramis.desk.selectors import certificate_subject
from ramis.requests import email_confirmation, selectors, services
from ramis.requests.models import CertificateRequest, EmailConfirmationCode

from .conftest import mailed_email_code, make_draft


@pytest.fixture(autouse=True)
def _outbox_forgets_secrets(settings):
    settings.OUTBOX_KEEP_SECRETS = False


@pytest.fixture
def draft(applicant_person, office, catalogue):
    """A complete draft whose address (a<pk>@example.com) is not confirmed yet."""
    return make_draft(applicant_person, office, catalogue=catalogue, confirm=False)


def send(req, capture, actor=None):
    with capture(execute=True):
        return email_confirmation.request_email_send_code(request_id=req.pk, actor=actor or req.applicant.user)


def confirm(req, code: str, actor=None):
    return email_confirmation.request_email_confirm(request_id=req.pk, actor=actor or req.applicant.user, code=code)


def refusal(req, code: str) -> str:
    with pytest.raises(ValidationError) as exc:
        confirm(req, code)
    return exc.value.messages[0]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_code_is_mailed_kept_only_as_a_hash_and_confirms_the_address(draft, django_capture_on_commit_callbacks):
    assert not draft.email_is_confirmed
    assert "رایانامه تأیید نشده است: کدی را که به آن فرستاده می‌شود در مرحلهٔ مشخصات وارد کنید." in \
        selectors.missing_items(draft)
    with pytest.raises(services.IncompleteRequest):
        services.request_submit(request_id=draft.pk, actor=draft.applicant.user)

    row = send(draft, django_capture_on_commit_callbacks)
    code = mailed_email_code(draft.email)
    assert mail.outbox[-1].to == [draft.email] and draft.reference in mail.outbox[-1].subject
    assert row.address == draft.email and code not in row.code_hash and len(row.code_hash) == 64
    message = OutboxMessage.objects.get(template="request_email_code")
    assert code not in message.body and "••••••" in message.body  # the outbox forgot it once sent
    sent = AuditEntry.objects.get(event="request.email_code_sent")
    assert sent.extra == {"address": draft.email} and sent.actor_id == draft.applicant.user.pk

    # Persian digits, as a phone keyboard may type them, are accepted
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    req = confirm(draft, persian)
    assert req.email_is_confirmed and req.email_confirmed == draft.email and req.email_confirmed_at
    assert AuditEntry.objects.get(event="request.email_confirmed").extra == {"address": draft.email}
    assert certificate_subject(req)["email"] == draft.email
    assert "رایانامه تأیید نشده است" not in " ".join(selectors.missing_items(req))
    assert confirm(draft, code).email_confirmed == draft.email  # a replay changes nothing

    # another address is not confirmed by it, and is never put in a certificate
    services.request_update(request_id=draft.pk, actor=draft.applicant.user, step="details",
                            data={"email": "other@example.ir"})
    req = CertificateRequest.objects.get(pk=draft.pk)
    assert not req.email_is_confirmed and "email" not in certificate_subject(req)
    assert refusal(req, code) == "هنوز کدی به other@example.ir فرستاده نشده است؛ «ارسال کد» را بزنید."


def test_wrong_codes_are_counted_audited_and_void_the_code(draft, django_capture_on_commit_callbacks, settings):
    send(draft, django_capture_on_commit_callbacks)
    code = mailed_email_code(draft.email)
    for left in range(settings.REQUEST_EMAIL_MAX_ATTEMPTS - 1, 0, -1):
        assert refusal(draft, wrong(code)) == f"کد درست نیست؛ {left} بار دیگر می‌توانید تلاش کنید."
    assert refusal(draft, wrong(code)) == "کد درست نیست؛ این کد دیگر پذیرفته نمی‌شود، کد تازه بخواهید."
    assert refusal(draft, code) == "این کد پس از چند بار ورود نادرست باطل شده است؛ کد تازه بخواهید."
    assert AuditEntry.objects.filter(event="request.email_code_rejected").count() == settings.REQUEST_EMAIL_MAX_ATTEMPTS
    assert not CertificateRequest.objects.get(pk=draft.pk).email_is_confirmed


def test_a_code_expires_and_only_the_latest_counts(draft, django_capture_on_commit_callbacks, settings):
    start = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        send(draft, django_capture_on_commit_callbacks)
        first = mailed_email_code(draft.email)
    with time_machine.travel(start + dt.timedelta(seconds=settings.REQUEST_EMAIL_CODE_SECONDS + 1), tick=False):
        assert refusal(draft, first) == "اعتبار این کد به پایان رسیده است؛ کد تازه بخواهید."
        send(draft, django_capture_on_commit_callbacks)
        second = mailed_email_code(draft.email)
        if second != first:
            assert refusal(draft, first).startswith("کد درست نیست")
        assert confirm(draft, second).email_is_confirmed


def test_sending_is_throttled_per_request_and_per_address(draft, django_capture_on_commit_callbacks, settings,
                                                          applicant_person, office, catalogue):
    start = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        send(draft, django_capture_on_commit_callbacks)
        with pytest.raises(email_confirmation.Throttled, match="60 ثانیه دیگر صبر کنید"):
            send(draft, django_capture_on_commit_callbacks)
    for i in range(1, settings.REQUEST_EMAIL_DAILY_LIMIT):
        with time_machine.travel(start + dt.timedelta(minutes=2 * i), tick=False):
            send(draft, django_capture_on_commit_callbacks)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        with pytest.raises(email_confirmation.Throttled, match="در یک روز پر شده است"):
            send(draft, django_capture_on_commit_callbacks)
    assert EmailConfirmationCode.objects.filter(request=draft).count() == settings.REQUEST_EMAIL_DAILY_LIMIT
    with time_machine.travel(start + dt.timedelta(days=1, minutes=1), tick=False):
        send(draft, django_capture_on_commit_callbacks)  # a day later: again

    # one mailbox is not flooded from many requests
    settings.REQUEST_EMAIL_ADDRESS_DAILY_LIMIT = 2
    later = start + dt.timedelta(days=3)
    for i in range(2):
        req = make_draft(applicant_person, office, catalogue=catalogue, confirm=False)
        services.request_update(request_id=req.pk, actor=req.applicant.user, step="details",
                                data={"email": "shared@example.ir"})
        with time_machine.travel(later + dt.timedelta(minutes=i), tick=False):
            send(req, django_capture_on_commit_callbacks)
    req = make_draft(applicant_person, office, catalogue=catalogue, confirm=False)
    services.request_update(request_id=req.pk, actor=req.applicant.user, step="details",
                            data={"email": "Shared@example.ir"})
    with time_machine.travel(later + dt.timedelta(minutes=5), tick=False):
        with pytest.raises(email_confirmation.Throttled, match="shared@example.ir|Shared@example.ir"):
            send(req, django_capture_on_commit_callbacks)


def test_only_the_applicant_and_only_while_editable(draft, django_capture_on_commit_callbacks,
                                                    other_applicant_person, clerk):
    from tests.requests.conftest import user_of

    with pytest.raises(PermissionDenied):
        send(draft, django_capture_on_commit_callbacks, actor=user_of(other_applicant_person))
    with pytest.raises(PermissionDenied):
        send(draft, django_capture_on_commit_callbacks, actor=clerk)
    assert not EmailConfirmationCode.objects.exists()
    send(draft, django_capture_on_commit_callbacks)
    code = mailed_email_code(draft.email)
    with pytest.raises(PermissionDenied):
        confirm(draft, code, actor=user_of(other_applicant_person))
    assert not CertificateRequest.objects.get(pk=draft.pk).email_is_confirmed
    confirm(draft, code)
    with pytest.raises(ValidationError) as exc:
        send(draft, django_capture_on_commit_callbacks)
    assert exc.value.messages == ["این رایانامه پیش‌تر تأیید شده است."]


def test_the_details_page_refuses_an_address_the_certificate_cannot_carry(applicant_client, draft):
    r = applicant_client.post(reverse("requests:step", args=[draft.pk, "details"]), {
        "validity_years": 2, "email": "ali@مثال.ir", "latin_first_name": "Ali", "latin_last_name": "Rezaei"})
    page = r.content.decode()
    assert r.status_code == 200 and "نشانی رایانامه" in page and "باید با حروف لاتین باشد" in page


def test_the_other_applicant_cannot_use_the_confirmation_page(other_applicant_client, draft):
    url = reverse("requests:step", args=[draft.pk, "details"])
    assert other_applicant_client.post(url, {"action": "email_code"}).status_code == 404
    assert other_applicant_client.post(url, {"action": "email_confirm", "code": "123456"}).status_code == 404
    assert not EmailConfirmationCode.objects.exists()
