"""Staff log in with password + TOTP; the Django admin requires a verified OTP device."""

import pytest

from ramis.common.models import AuditEntry
from tests.conftest import STAFF_PASSWORD, make_staff, totp_now


@pytest.fixture
def admin_user(db):
    return make_staff("boss", superuser=True)


def login(client, user, token=None, password=STAFF_PASSWORD):
    return client.post("/auth/staff/login/", {"username": user.username, "password": password,
                                              "otp_token": token or totp_now(user)})


def test_staff_login_with_totp(client, admin_user):
    response = login(client, admin_user)
    assert response.status_code == 302 and response["Location"] == "/auth/staff/"
    assert client.get("/auth/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(event="staff.logged_in").count() == 1


def test_wrong_totp_refused(client, admin_user):
    right = totp_now(admin_user)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    response = login(client, admin_user, token=wrong)
    assert response.status_code == 200
    assert "کد TOTP" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_password_refused(client, admin_user):
    response = login(client, admin_user, password="nope-nope-nope")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_staff_without_device_cannot_log_in(client, db):
    user = make_staff("nodevice", totp=False)
    response = client.post("/auth/staff/login/", {"username": "nodevice", "password": STAFF_PASSWORD,
                                                  "otp_token": "123456"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert user.is_staff


def test_admin_refuses_password_only_session(client, admin_user):
    client.force_login(admin_user)  # authenticated, but no OTP verified in this session
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert client.get("/auth/staff/").status_code == 302


def test_repeated_failures_lock_out(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, admin_user, password="bad-bad-bad-bad")
    response = login(client, admin_user)  # right password and code, but locked
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_open_redirect_refused(client, admin_user):
    response = client.post("/auth/staff/login/?next=https://evil.example/", {
        "username": admin_user.username, "password": STAFF_PASSWORD, "otp_token": totp_now(admin_user),
        "next": "https://evil.example/"})
    assert response["Location"] == "/auth/staff/"
