"""Issue 13, item 8: a shop owner who forgot the password, or whose activation mail never came,
gets back in: reset by the mailed link (Django's token: one use, limited life), resend
activation; both answer the same whether or not the address has an account, are throttled, and
audited. The mail goes through the outbox with a link on PUBLIC_BASE_URL."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from certauth.models import User
from enamad.accounts import recovery
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import make_staff
from tests.enamad.conftest import PASSWORD, make_account

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-shop-pass-2026"
BASE = "https://portal.test:8443"


@pytest.fixture(autouse=True)
def _public_base(settings):
    settings.PUBLIC_BASE_URL = BASE


def ask_reset(client, email: str, capture):
    with capture(execute=True):
        return client.post("/enamad/password-reset/", {"email": email})


def mailed_reset_link() -> str:
    """The link in the last reset mail as it was delivered (the outbox copy masks it once sent)."""
    (message,) = [m for m in mail.outbox if m.subject == "بازیابی گذرواژه اینماد"]
    url = re.search(r"https?://\S+/enamad/password-reset/\S+/\S+/", message.body).group(0)
    assert url.startswith(BASE + "/enamad/password-reset/")
    return url.removeprefix(BASE)


def test_login_page_links_to_reset_and_resend_activation(client):
    html = client.get("/enamad/login/").content.decode()
    assert "فراموشی رمز عبور" in html and 'href="/enamad/password-reset/"' in html
    assert 'href="/enamad/activation/resend/"' in html
    assert 'href="/enamad/activation/resend/"' in client.get("/enamad/signup/done/").content.decode()


def test_reset_by_the_mailed_link_sets_a_new_password_once(client, account, settings,
                                                           django_capture_on_commit_callbacks):
    settings.OUTBOX_KEEP_SECRETS = False  # as in production
    response = ask_reset(client, "ShopOwner@Example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == "/enamad/password-reset/sent/"
    stored = OutboxMessage.objects.get(template="enamad_password_reset")
    assert stored.to == "shopowner@example.com" and stored.channel == OutboxMessage.Channel.EMAIL
    # Delivered like every mail, through the outbox; the copy it keeps no longer holds the link.
    assert stored.status == OutboxMessage.Status.SENT and "/password-reset/" not in stored.body
    assert AuditEntry.objects.filter(event="enamad.account.password_reset_requested",
                                     target_id=str(account.pk)).count() == 1
    link = mailed_reset_link()

    # The link opens the form (Django moves the token into the session, then shows the form).
    response = client.get(link, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "گذاشتن گذرواژه تازه" in page and "new_password1" in page
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/enamad/password-reset/done/"
    assert "گذرواژه شما تغییر کرد" in client.get("/enamad/password-reset/done/").content.decode()
    assert AuditEntry.objects.filter(event="enamad.account.password_reset", actor=account.user).count() == 1

    # The new password logs in; the old one does not.
    assert User.objects.get(pk=account.user_id).check_password(NEW_PASSWORD)
    response = client.post("/enamad/login/", {"username": "shopowner", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/enamad/panel/"

    # Used: the same link is dead now.
    client.logout()
    page = client.get(link, follow=True).content.decode()
    assert "پیوند بازیابی معتبر نیست" in page and "new_password1" not in page


def test_unknown_address_gets_the_same_page_and_no_mail(client, account, django_capture_on_commit_callbacks):
    known = ask_reset(client, "shopowner@example.com", django_capture_on_commit_callbacks)
    unknown = ask_reset(client, "nobody@example.com", django_capture_on_commit_callbacks)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert OutboxMessage.objects.filter(template="enamad_password_reset").count() == 1
    assert not OutboxMessage.objects.filter(to="nobody@example.com").exists()


def test_no_reset_for_staff_or_an_account_never_activated(client, django_capture_on_commit_callbacks):
    staff = make_staff("support1", perms=["enamad.answer_ticket"])
    User.objects.filter(pk=staff.pk).update(email="support1@example.com")
    inactive = make_account("newshop")
    User.objects.filter(pk=inactive.user_id).update(is_active=False)
    for email in ("support1@example.com", "newshop@example.com"):
        response = ask_reset(client, email, django_capture_on_commit_callbacks)
        assert response["Location"] == "/enamad/password-reset/sent/"
    assert not OutboxMessage.objects.filter(template="enamad_password_reset").exists()
    # Nor does a staff member's own token open the form.
    token = default_token_generator.make_token(staff)
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    assert "پیوند بازیابی معتبر نیست" in client.get(f"/enamad/password-reset/{uid}/{token}/", follow=True).content.decode()


def test_expired_and_forged_links_are_refused(client, account, settings):
    user = account.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    generator = default_token_generator
    old = generator._num_seconds(generator._now()) - settings.PASSWORD_RESET_TIMEOUT - 60
    expired = generator._make_token_with_timestamp(user, old, generator.secret)
    for token in (expired, "abc-0123456789abcdef"):
        page = client.get(f"/enamad/password-reset/{uid}/{token}/", follow=True).content.decode()
        assert "پیوند بازیابی معتبر نیست" in page and "new_password1" not in page
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


THROTTLED = "تعداد درخواست‌ها بیش از حد مجاز است"


def field_error(response, field: str) -> str:
    """The error shown next to ``field`` (components/form_fields.html), empty when none."""
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.content.decode())
    return found.group(1) if found else ""


def throttled_page(response, typed: str) -> str:
    """The page with what differs by nature masked: the CSRF token and the address typed (echoed)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return page.replace(typed, "TYPED")


def test_reset_requests_are_throttled_per_address(client, account, django_capture_on_commit_callbacks):
    for _ in range(recovery.RECOVERY_PER_IDENTIFIER):
        assert ask_reset(client, "shopowner@example.com", django_capture_on_commit_callbacks).status_code == 302
    for _ in range(2):  # refused, with the message next to the address field; no mail
        response = ask_reset(client, "ShopOwner@example.com ", django_capture_on_commit_callbacks)
        assert response.status_code == 429 and THROTTLED in field_error(response, "email")
    assert OutboxMessage.objects.filter(template="enamad_password_reset").count() == recovery.RECOVERY_PER_IDENTIFIER
    assert len(mail.outbox) == recovery.RECOVERY_PER_IDENTIFIER
    # audited once for the window (on the account), not once per refusal
    (refusal,) = AuditEntry.objects.filter(event="enamad.account.reset_throttled")
    assert (refusal.target_type, refusal.target_id) == ("enamad.account", str(account.pk))
    assert refusal.extra["counter"] == "identifier" and refusal.extra["typed"] == "shopowner@example.com"
    assert refusal.ip == "127.0.0.1"
    # An unknown address is throttled alike: the limit tells nothing about who has an account.
    for _ in range(recovery.RECOVERY_PER_IDENTIFIER):
        ask_reset(client, "nobody@example.com", django_capture_on_commit_callbacks)
    assert ask_reset(client, "nobody@example.com", django_capture_on_commit_callbacks).status_code == 429
    assert AuditEntry.objects.filter(event="enamad.account.reset_throttled",
                                     target_type="enamad.recovery_address").count() == 1


def test_a_refusal_looks_the_same_with_or_without_an_account(account, django_capture_on_commit_callbacks):
    from django.test import Client

    pages = []
    for typed in ("shopowner@example.com", "nobody@example.com"):
        client = Client()
        answers = [ask_reset(client, typed, django_capture_on_commit_callbacks)
                   for _ in range(recovery.RECOVERY_PER_IDENTIFIER + 1)]
        assert [a.status_code for a in answers] == [302] * recovery.RECOVERY_PER_IDENTIFIER + [429]
        assert {a["Location"] for a in answers[:-1]} == {"/enamad/password-reset/sent/"}
        pages.append(throttled_page(answers[-1], typed))
    assert THROTTLED in pages[0] and pages[0] == pages[1]


def test_reset_requests_are_throttled_per_client(client, account, django_capture_on_commit_callbacks):
    for n in range(recovery.RECOVERY_PER_CLIENT):
        assert ask_reset(client, f"probe{n}@example.com", django_capture_on_commit_callbacks).status_code == 302
    response = ask_reset(client, "shopowner@example.com", django_capture_on_commit_callbacks)  # a real account now
    assert response.status_code == 429 and THROTTLED in field_error(response, "email")
    assert not OutboxMessage.objects.filter(template="enamad_password_reset").exists() and mail.outbox == []
    (refusal,) = AuditEntry.objects.filter(event="enamad.account.reset_throttled")
    assert refusal.extra["counter"] == "client" and refusal.target_id == str(account.pk)


# --- resend activation -------------------------------------------------------------------------


def resend(client, identifier: str, capture):
    with capture(execute=True):
        return client.post("/enamad/activation/resend/", {"identifier": identifier})


def test_resend_activation_mails_a_fresh_link_that_activates(client, django_capture_on_commit_callbacks):
    account = make_account("newshop", verified=False)
    User.objects.filter(pk=account.user_id).update(is_active=False)
    response = resend(client, "newshop", django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "رایانامه خود را ببینید" in response.content.decode()
    message = OutboxMessage.objects.get(template="enamad_activation")
    assert message.to == "newshop@example.com" and "دوباره فرستاده شد" in message.body
    assert AuditEntry.objects.filter(event="enamad.account.activation_resent", target_id=str(account.pk)).exists()
    link = re.search(r"https?://\S+/enamad/activate/\S+/", message.body).group(0)
    assert link.startswith(BASE)
    assert client.post(link.removeprefix(BASE)).status_code == 302
    assert User.objects.get(pk=account.user_id).is_active

    # By e-mail address too (and case-insensitively) — but not once the account is active.
    page = resend(client, "NewShop@example.com", django_capture_on_commit_callbacks).content.decode()
    assert "رایانامه خود را ببینید" in page
    assert OutboxMessage.objects.filter(template="enamad_activation").count() == 1


def test_resend_activation_answers_the_same_for_unknown_and_active(client, account,
                                                                   django_capture_on_commit_callbacks):
    pages = [resend(client, name, django_capture_on_commit_callbacks) for name in ("nobody", "shopowner")]
    assert all(p.status_code == 200 for p in pages)
    assert pages[0].content.decode() == pages[1].content.decode()
    assert not OutboxMessage.objects.filter(template="enamad_activation").exists()


def test_resend_activation_is_throttled(client, django_capture_on_commit_callbacks):
    account = make_account("newshop", verified=False)
    User.objects.filter(pk=account.user_id).update(is_active=False)
    for _ in range(recovery.RECOVERY_PER_IDENTIFIER):
        assert resend(client, "newshop", django_capture_on_commit_callbacks).status_code == 200
    response = resend(client, "newshop", django_capture_on_commit_callbacks)
    assert response.status_code == 429 and THROTTLED in field_error(response, "identifier")
    assert OutboxMessage.objects.filter(template="enamad_activation").count() == recovery.RECOVERY_PER_IDENTIFIER
    (refusal,) = AuditEntry.objects.filter(event="enamad.account.activation_throttled")
    assert refusal.target_id == str(account.pk) and refusal.extra["counter"] == "identifier"


def test_an_expired_activation_page_offers_a_new_link(client):
    page = client.get("/enamad/activate/forged-token/").content.decode()
    assert 'href="/enamad/activation/resend/"' in page
