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


def staff_login(client, user, ip, password=STAFF_PASSWORD):
    return client.post("/auth/staff/login/", {"username": user.username, "password": password,
                                              "otp_token": totp_now(user)}, REMOTE_ADDR=ip)


def test_wrong_passwords_from_one_ip_do_not_lock_the_superuser_elsewhere(client, superuser, settings):
    settings.AXES_FAILURE_LIMIT = 5
    statuses = [staff_login(client, superuser, ATTACKER, password="wrong-wrong-wrong").status_code
                for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    assert staff_login(client, superuser, ATTACKER).status_code == 429  # the attacker's address is locked
    client.cookies.clear()
    response = staff_login(client, superuser, OWNER)
    assert response.status_code == 302 and response["Location"] == "/auth/staff/"


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
