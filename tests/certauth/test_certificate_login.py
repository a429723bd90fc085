"""Certificate login at the Django level (issue 14): the certificate as the reverse proxy passes it
(``X-SSL-Client-Cert``, nginx's URL-escaped PEM), really issued by the test CA on SoftHSM; the
TLS half through nginx is tests/prod/test_certificate_login.py."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import timezone

from certauth import certificates
from certauth.models import User
from ramis.ca import builder, responder
from ramis.ca import services as ca_services
from ramis.common.models import AuditEntry
from tests.conftest import STAFF_PASSWORD, TEST_SUBJECTS, issue_test_certificate, make_staff, totp_now

PROXY_CLIENT = "198.51.100.7"


@pytest.fixture(autouse=True)
def _behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.CERTAUTH_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    settings.CERTAUTH_REQUIRED_FOR_STAFF = False
    responder.clear_cache()


def header(cert: x509.Certificate) -> dict:
    """The request headers nginx sends: the escaped PEM ($ssl_client_escaped_cert), the client."""
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return {"HTTP_X_SSL_CLIENT_CERT": quote(pem, safe=""), "HTTP_X_FORWARDED_FOR": PROXY_CLIENT}


def cert_of(row) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(row.der))


def cert_login(client, cert=None, target="ramis", follow=False, **extra):
    headers = header(cert) if cert is not None else {"HTTP_X_FORWARDED_FOR": PROXY_CLIENT}
    return client.get(f"/auth/certificate/?for={target}", follow=follow, **headers, **extra)


def refusal(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def signature_row(applicant_person):
    return issue_test_certificate("signature")


def test_good_certificate_logs_the_applicant_in(client, signature_row, applicant_person):
    response = cert_login(client, cert_of(signature_row))
    assert response.status_code == 302 and response["Location"] == "/panel/"
    applicant_person.refresh_from_db()
    assert client.session["_auth_user_id"] == str(applicant_person.user.pk)
    assert client.get("/panel/").status_code == 200  # a verified session, as after the SMS code
    entry = AuditEntry.objects.get(event="certauth.certificate_login")
    assert entry.extra["serial"] == signature_row.serial_hex and entry.ip == PROXY_CLIENT


def test_login_pages_carry_the_button(client, db, settings):
    settings.CERTAUTH_LOGIN_URL = "https://ra.example.ir:18545/auth/certificate/"
    for path, target in (("/auth/login/", "ramis"), ("/auth/staff/login/", "staff"), ("/enamad/login/", "enamad")):
        page = client.get(path).content.decode()
        assert "ورود با گواهی الکترونیکی" in page
        assert f'href="https://ra.example.ir:18545/auth/certificate/?for={target}' in page


@pytest.mark.parametrize(("change", "message"), [("revoke", "باطل شده"), ("hold", "تعلیق شده")])
def test_revoked_or_held_certificate_is_refused(client, signature_row, change, message):
    cert = cert_of(signature_row)
    assert cert_login(client, cert).status_code == 302  # good first: the responder has answered it
    client.logout()
    if change == "revoke":
        ca_services.certificate_revoke(serial=signature_row.serial_hex, reason="key_compromise", actor=None)
    else:
        ca_services.certificate_hold(serial=signature_row.serial_hex, actor=None)
    response = cert_login(client, cert, follow=True)
    assert message in refusal(response)
    assert response.redirect_chain[-1][0] == "/auth/login/"
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(event="certauth.certificate_refused").get()
    assert entry.reason == ("revoked" if change == "revoke" else "on_hold")
    assert entry.target_id == str(signature_row.pk)


def test_released_certificate_logs_in_again(client, signature_row):
    ca_services.certificate_hold(serial=signature_row.serial_hex, actor=None)
    assert "تعلیق" in refusal(cert_login(client, cert_of(signature_row), follow=True))
    ca_services.certificate_release(serial=signature_row.serial_hex, actor=None)
    assert cert_login(client, cert_of(signature_row)).status_code == 302
    assert "_auth_user_id" in client.session


def test_expired_certificate_is_refused(client, signature_row, monkeypatch):
    cert = cert_of(signature_row)
    later = cert.not_valid_after_utc + dt.timedelta(days=1)
    monkeypatch.setattr(certificates.timezone, "now", lambda: later)
    response = cert_login(client, cert, follow=True)
    assert "منقضی" in refusal(response)
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.get(event="certauth.certificate_refused").reason == "expired"


def _foreign_certificate(national_code: str) -> x509.Certificate:
    """A leaf of another CA (its key in memory), with our profile's subject and extensions."""
    now = timezone.now()
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another CA")])
    key = ec.generate_private_key(ec.SECP256R1())
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOIR-{national_code}"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "علی رضایی")]))
            .issuer_name(root_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=10))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))


def test_certificate_of_another_ca_is_refused(client, applicant_person):
    from tests.conftest import ca_ready

    ca_ready()
    response = cert_login(client, _foreign_certificate(applicant_person.national_code), follow=True)
    assert "مرکز صدور گواهی این سامانه صادر نکرده" in refusal(response)
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.get(event="certauth.certificate_refused").reason == "untrusted"


def test_unknown_person_is_refused(client, db):
    row = issue_test_certificate("signature", {**TEST_SUBJECTS["signature"], "national_code": "0013542419"})
    response = cert_login(client, cert_of(row), follow=True)
    assert "حساب فعالی" in refusal(response)
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(event="certauth.certificate_refused")
    assert entry.reason == "unknown_person" and entry.ip == PROXY_CLIENT


def test_a_person_without_an_approved_role_is_refused(client, company):
    """The wrong person: our certificate, a known person, but no approved role for RAMIS."""
    from tests.conftest import make_person, make_role

    make_role(make_person("0013542419", "09351112233"), company, status="pending")
    row = issue_test_certificate("signature", {**TEST_SUBJECTS["signature"], "national_code": "0013542419"})
    response = cert_login(client, cert_of(row), follow=True)
    assert "حساب فعالی" in refusal(response)
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.get(event="certauth.certificate_refused").reason == "unknown_person"


def test_an_applicants_certificate_opens_no_enamad_account_of_someone_else(client, signature_row, db):
    """Another person's account: the applicant's certificate at e-Namad, where only another
    national code has an account, logs nobody in."""
    from enamad.models import Account

    user = User.objects.create_user(username="someoneelse", password=STAFF_PASSWORD)
    Account.objects.create(user=user, persona="natural", first_name="مریم", last_name="احمدی",
                           national_code="0013542419", mobile="09351112233")
    response = cert_login(client, cert_of(signature_row), target="enamad", follow=True)
    assert "حساب فعالی" in refusal(response)
    assert response.redirect_chain[-1][0] == "/enamad/login/"
    assert "_auth_user_id" not in client.session


def test_a_tampered_certificate_is_refused(client, signature_row, other_applicant_person):
    """Our certificate with its national code rewritten (same length, so it still parses): the
    issuing CA's signature no longer covers it."""
    der = bytes(signature_row.der)
    assert der.count(b"PNOIR-0499370899") == 1
    tampered = x509.load_der_x509_certificate(der.replace(b"PNOIR-0499370899", b"PNOIR-0013542419"))
    assert certificates.national_code_of(tampered) == "0013542419"
    response = cert_login(client, tampered, follow=True)
    assert "مرکز صدور گواهی این سامانه صادر نکرده" in refusal(response)
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.get(event="certauth.certificate_refused").reason == "untrusted"


def test_no_fresh_status_from_our_responder_is_a_refusal(client, signature_row):
    """No status evidence (the analogue of a signature without a timestamp): with our OCSP
    answers gone stale (the refresh task not run for days), nobody logs in on them."""
    import time_machine

    cert = cert_of(signature_row)
    with time_machine.travel(timezone.now() + dt.timedelta(days=20)):
        assert cert.not_valid_after_utc > timezone.now()
        responder.clear_cache()
        response = cert_login(client, cert, follow=True)
    assert "پاسخ‌گوی OCSP" in refusal(response)
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.get(event="certauth.certificate_refused").reason == "status"


def test_seal_certificate_is_not_for_login(client, applicant_person):
    response = cert_login(client, cert_of(issue_test_certificate("seal")), follow=True)
    assert "برای ورود" in refusal(response)
    assert "_auth_user_id" not in client.session


def test_header_from_an_untrusted_address_is_ignored(client, signature_row, settings):
    response = cert_login(client, cert_of(signature_row), follow=True, REMOTE_ADDR="203.0.113.9")
    assert "گواهی الکترونیکی از مرورگر دریافت نشد" in refusal(response)
    assert "_auth_user_id" not in client.session
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy in front: the header is never read, even from loopback
    response = cert_login(client, cert_of(signature_row), follow=True)
    assert "دریافت نشد" in refusal(response)
    assert "_auth_user_id" not in client.session


def test_garbage_in_the_header_is_a_persian_refusal(client, db):
    response = client.get("/auth/certificate/?for=staff", HTTP_X_SSL_CLIENT_CERT="-----BEGIN%20CERTIFICATE-----x",
                          follow=True)
    assert response.status_code == 200 and "خوانا نیست" in refusal(response)
    assert response.redirect_chain[-1][0] == "/auth/staff/login/"


def test_attempts_are_throttled(client, signature_row, settings):
    settings.CERTAUTH_THROTTLE_LIMIT = 2
    cert = cert_of(signature_row)
    for _ in range(2):
        assert cert_login(client, cert).status_code == 302 and "_auth_user_id" in client.session
        client.logout()
    response = cert_login(client, cert, follow=True)
    assert "بیش از حد مجاز" in refusal(response)
    assert "_auth_user_id" not in client.session
    # another address is not throttled by this one's attempts
    response = client.get("/auth/certificate/?for=ramis", **{**header(cert), "HTTP_X_FORWARDED_FOR": "198.51.100.8"})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_enamad_account_logs_in_with_the_certificate(client, signature_row):
    from enamad.models import Account

    user = User.objects.create_user(username="shopowner", password=STAFF_PASSWORD)
    Account.objects.create(user=user, persona="natural", first_name="علی", last_name="رضایی",
                           national_code="0499370899", mobile="09121112233")
    response = cert_login(client, cert_of(signature_row), target="enamad")
    assert response.status_code == 302 and response["Location"] == "/enamad/panel/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/enamad/panel/").status_code == 200


@pytest.fixture
def clerk_with_certificate(clerk):
    clerk.national_code = "0499370899"
    clerk.save(update_fields=["national_code"])
    return clerk


def test_staff_log_in_with_the_certificate(client, clerk_with_certificate):
    row = issue_test_certificate("signature")
    response = cert_login(client, cert_of(row), target="staff")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(clerk_with_certificate.pk)
    assert client.get(response["Location"]).status_code == 200  # the desk: a verified staff session


def _password_login(client, user):
    return client.post("/auth/staff/login/", {"username": user.username, "password": STAFF_PASSWORD,
                                              "otp_token": totp_now(user)})


def test_staff_setting_requires_the_certificate_of_clerks_and_reviewers(client, clerk_with_certificate,
                                                                        seo_reviewer, settings):
    settings.CERTAUTH_REQUIRED_FOR_STAFF = True
    for user in (clerk_with_certificate, seo_reviewer):
        response = _password_login(client, user)
        assert response.status_code == 200 and "باید با گواهی الکترونیکی" in response.content.decode()
        assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(event="certauth.password_refused").count() == 2
    other = make_staff("support")  # a role that neither issues nor reviews: the password still does
    assert _password_login(client, other).status_code == 302
    client.logout()
    row = issue_test_certificate("signature")
    assert cert_login(client, cert_of(row), target="staff").status_code == 302
    assert client.session["_auth_user_id"] == str(clerk_with_certificate.pk)


def test_staff_setting_off_keeps_the_password_login(client, clerk_with_certificate):
    assert _password_login(client, clerk_with_certificate).status_code == 302


def test_checks_run_against_the_database_ca(db, signature_row):
    checked = certificates.check(builder.pem(cert_of(signature_row)).decode())
    assert checked.national_code == "0499370899" and checked.serial_hex == signature_row.serial_hex


def test_ca_chain_writes_the_proxys_list_of_our_cas(db, tmp_path):
    """`make prod` gives nginx this file (ssl_client_certificate): the issuing CA, then the root."""
    from django.core.management import call_command

    from ramis.ca.models import CertificateAuthority
    from tests.conftest import ca_ready

    ca_ready()
    call_command("ca", "chain", "--out", str(tmp_path / "client-ca.pem"))
    certs = x509.load_pem_x509_certificates((tmp_path / "client-ca.pem").read_bytes())
    expected = [bytes(CertificateAuthority.objects.get(slug=slug).certificate_der) for slug in ("issuing", "root")]
    assert [c.public_bytes(serialization.Encoding.DER) for c in certs] == expected


def test_staff_setting_closes_the_admins_own_password_form(client, seo_reviewer, settings):
    settings.CERTAUTH_REQUIRED_FOR_STAFF = True
    response = client.post("/admin/login/?next=/admin/", {"username": seo_reviewer.username,
                                                          "password": STAFF_PASSWORD,
                                                          "otp_token": totp_now(seo_reviewer)})
    assert response.status_code == 302 and response["Location"] == "/auth/staff/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
    settings.CERTAUTH_REQUIRED_FOR_STAFF = False
    assert client.get("/admin/login/").status_code == 200  # the admin's form, as before
