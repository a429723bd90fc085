"""The client's address behind the reverse proxy (TRUSTED_PROXY_COUNT): one function, used by the
throttles, django-axes and the audit trail."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from ramis.common.client_ip import client_ip
from ramis.common.models import AuditEntry
from tests.certauth.test_applicant_login import IDENTITY
from tests.conftest import STAFF_PASSWORD, captcha_answer, make_staff, totp_now

PROXY = "127.0.0.1"


def request(remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_one_proxy_the_forwarded_client_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(forwarded="203.0.113.7")) == "203.0.113.7"


def test_one_proxy_a_spoofed_left_most_entry_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # the client sent "X-Forwarded-For: 198.51.100.66"; nginx appended the address it saw
    assert client_ip(request(forwarded="198.51.100.66, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(request(forwarded="1.1.1.1, junk, 203.0.113.7")) == "203.0.113.7"


def test_two_proxies_count_two_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    # client → CDN (appends the client) → nginx (appends the CDN) → gunicorn
    assert client_ip(request(forwarded="6.6.6.6, 203.0.113.7, 192.0.2.10")) == "203.0.113.7"


def test_no_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(remote="203.0.113.9", forwarded="198.51.100.66")) == "203.0.113.9"


def test_fewer_hops_than_proxies_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request(remote="203.0.113.9", forwarded="198.51.100.66")) == "203.0.113.9"
    assert client_ip(request(remote="203.0.113.9")) == "203.0.113.9"


def test_ports_and_ipv6_are_normalised(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(forwarded="203.0.113.7:51234")) == "203.0.113.7"
    assert client_ip(request(forwarded="[2001:DB8::1]:443")) == "2001:db8::1"
    assert client_ip(request(forwarded="2001:db8:0::2")) == "2001:db8::2"


# --- every consumer sees the same address ---------------------------------------------------------


def staff_login(client, user, *, forwarded, password=STAFF_PASSWORD):
    return client.post("/auth/staff/login/", {"username": user.username, "password": password,
                                              "otp_token": totp_now(user)},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_audit_trail_and_axes_record_the_forwarded_client(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = make_staff("boss", superuser=True)
    staff_login(client, user, forwarded="10.9.9.9, 203.0.113.7", password="wrong-wrong-wrong")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]
    response = staff_login(client, user, forwarded="10.9.9.9, 203.0.113.7")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(event="staff.logged_in")
    assert entry.ip == "203.0.113.7"


def test_audit_trail_without_proxy_records_the_peer(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    user = make_staff("boss", superuser=True)
    assert staff_login(client, user, forwarded="203.0.113.7").status_code == 302
    assert AuditEntry.objects.get(event="staff.logged_in").ip == PROXY


@pytest.mark.parametrize("count, expected", [(1, [302, 302, 429, 302]), (0, [302, 302, 429, 429])])
def test_identity_throttle_counts_each_client_behind_the_proxy(client, applicant_person, settings, count,
                                                               expected):
    """Two clients behind the one proxy: with the count set each has its own allowance; without
    it (a misconfigured deployment) they share the proxy's."""
    settings.TRUSTED_PROXY_COUNT = count
    settings.LOGIN_THROTTLE_LIMIT = 2
    statuses = [identity_step(client, "203.0.113.7") for _ in range(3)] + [identity_step(client, "203.0.113.8")]
    assert statuses == expected


def identity_step(client, forwarded):
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}
    page = client.get("/auth/login/", **meta)
    data = {**IDENTITY, "national_code": "0013542419", **captcha_answer(page.content.decode())}
    return client.post("/auth/login/", data, **meta).status_code
