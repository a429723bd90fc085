"""Lock-outs an outsider cannot aim at someone else: django-axes counts failures per (user name,
IP) pair and the identity step's national-code throttle per (national code, IP), so wrong tries
from one address never lock the owner out at another — the superuser included."""

import pytest

from tests.certauth.test_applicant_login import IDENTITY
from tests.conftest import STAFF_PASSWORD, captcha_answer, make_staff, totp_now

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def superuser(db):
    return make_staff("boss", superuser=True)


def staff_login(client, user, ip, password=STAFF_PASSWORD, **extra):
    return client.post("/auth/staff/login/", {"username": user.username, "password": password,
                                              "otp_token": totp_now(user), **extra}, REMOTE_ADDR=ip)


def test_wrong_passwords_from_one_ip_do_not_lock_the_superuser_elsewhere(client, superuser, settings):
    settings.AXES_FAILURE_LIMIT = 5
    statuses = [staff_login(client, superuser, ATTACKER, password="wrong-wrong-wrong").status_code
                for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    assert staff_login(client, superuser, ATTACKER).status_code == 429  # the attacker's address is locked
    client.cookies.clear()
    # Elsewhere the owner is not locked out; the name is under attack, so the form asks for the captcha.
    response = staff_login(client, superuser, OWNER)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "کد امنیتی را وارد کنید" in response.content.decode()
    response = staff_login(client, superuser, OWNER, **captcha_answer(response.content.decode()))
    assert response.status_code == 302 and response["Location"] == "/auth/staff/"


def test_no_captcha_below_the_limit_and_none_for_other_names(client, superuser, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        staff_login(client, superuser, ATTACKER, password="wrong-wrong-wrong")
    assert 'name="captcha_1"' not in client.get("/auth/staff/login/").content.decode()
    other = make_staff("clerk-b")
    assert staff_login(client, other, OWNER).status_code == 302
    client.logout()
    assert staff_login(client, superuser, OWNER).status_code == 302  # four failures: no captcha yet


def test_guesses_from_many_addresses_meet_the_captcha(client, superuser, settings):
    """Each address stays under its own limit; together they reach it, and from then on a
    guess without the captcha is not even tried."""
    settings.AXES_FAILURE_LIMIT = 3
    for number in range(3):
        staff_login(client, superuser, f"203.0.113.{10 + number}", password="wrong-wrong-wrong")
    from axes.models import AccessAttempt

    before = sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))
    response = staff_login(client, superuser, "203.0.113.99", password="wrong-wrong-wrong")
    assert response.status_code == 200 and 'name="captcha_1"' in response.content.decode()
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == before


def test_the_attacking_ip_can_still_be_locked_for_every_name(client, superuser, settings):
    """Locked per pair, not per IP alone: another account from the attacker's address still
    counts its own failures (and is locked after its own five)."""
    settings.AXES_FAILURE_LIMIT = 3
    other = make_staff("clerk-a")
    for _ in range(3):
        staff_login(client, superuser, ATTACKER, password="wrong-wrong-wrong")
    assert staff_login(client, other, ATTACKER).status_code == 302
    client.logout()
    for _ in range(3):
        staff_login(client, other, ATTACKER, password="wrong-wrong-wrong")
    assert staff_login(client, other, ATTACKER).status_code == 429


def identity_step(client, ip, **overrides):
    page = client.get("/auth/login/", REMOTE_ADDR=ip)
    data = {**IDENTITY, **overrides, **captcha_answer(page.content.decode())}
    return client.post("/auth/login/", data, REMOTE_ADDR=ip).status_code


def test_identity_tries_from_one_ip_do_not_lock_the_national_code_elsewhere(client, applicant_person, settings):
    settings.LOGIN_THROTTLE_LIMIT = 3
    wrong = {"birth_certificate_number": "99999"}
    assert [identity_step(client, ATTACKER, **wrong) for _ in range(4)] == [302, 302, 302, 429]
    assert identity_step(client, ATTACKER) == 429  # that address waits, even with the right identity
    assert identity_step(client, OWNER) == 302  # the owner, elsewhere, is sent a code
    from tests.conftest import last_sms

    assert last_sms().to == IDENTITY["mobile"]


def test_one_national_code_from_one_ip_is_still_throttled(client, applicant_person, settings):
    """The per-(national code, IP) count holds even when the IP's own limit is higher."""
    settings.LOGIN_THROTTLE_LIMIT = 2
    assert [identity_step(client, ATTACKER) for _ in range(3)] == [302, 302, 429]
