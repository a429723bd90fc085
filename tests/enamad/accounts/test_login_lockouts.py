"""The e-Namad holder's password login cannot be locked for the owner by an outsider: failures
lock only the (name, address) pair; beyond the limit from all addresses together the form asks
for the captcha (certauth/lockouts.py, shared with the staff login)."""

from tests.conftest import captcha_answer
from tests.enamad.conftest import PASSWORD, make_account

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def login(client, ip, password=PASSWORD, **extra):
    return client.post("/enamad/login/", {"username": "sara.k", "password": password, **extra}, REMOTE_ADDR=ip)


def test_an_outsider_locks_only_their_own_address(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_account("sara.k")
    for _ in range(3):
        login(client, ATTACKER, password="wrong-password-1")
    assert login(client, ATTACKER).status_code == 429
    client.cookies.clear()
    response = login(client, OWNER)  # elsewhere: the captcha, not a lock-out
    assert response.status_code == 200 and "کد امنیتی را وارد کنید" in response.content.decode()
    response = login(client, OWNER, **captcha_answer(response.content.decode()))
    assert response.status_code == 302 and response["Location"] == "/enamad/panel/"


def test_no_captcha_below_the_limit(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_account("sara.k")
    for _ in range(2):
        login(client, ATTACKER, password="wrong-password-1")
    assert login(client, OWNER).status_code == 302
