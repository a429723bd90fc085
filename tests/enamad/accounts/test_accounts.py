"""N2–N4: sign-up by persona, activation link, login, profile, document upload."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from certauth.models import User
from enamad.accounts.services import account_update_profile
from enamad.models import Account, IdentityDocument
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import captcha_answer
from tests.enamad.conftest import PASSWORD, PDF_BYTES, make_account, png_bytes

pytestmark = pytest.mark.django_db

SIGNUP = {
    "persona": "natural", "first_name": "سارا", "last_name": "کریمی", "national_code": "۰۴۹۹۳۷۰۸۹۹",
    "mobile": "+989121112233", "email": "sara@example.com", "username": "sara.k",
    "password1": PASSWORD, "password2": PASSWORD,
}


def signup(client, **changes):
    page = client.get("/enamad/signup/")
    data = {**SIGNUP, **captcha_answer(page.content.decode()), **changes}
    return client.post("/enamad/signup/", data)


def activation_link() -> str:
    body = OutboxMessage.objects.filter(template="enamad_activation").latest("id").body
    return re.search(r"http://\S+/enamad/activate/\S+/", body).group(0).split("8000", 1)[1]


def test_natural_person_signs_up_activates_and_logs_in(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(client)
    assert response.status_code == 302 and response["Location"] == "/enamad/signup/done/"
    user = User.objects.get(username="sara.k")
    assert not user.is_active
    account = user.enamad_account
    assert (account.persona, account.national_code, account.mobile) == ("natural", "0499370899", "09121112233")
    assert len(mail.outbox) == 1 and "فعال‌سازی" in mail.outbox[0].subject
    assert AuditEntry.objects.filter(event="enamad.account.signed_up").count() == 1

    # Not active yet: the password alone does not let them in.
    response = client.post("/enamad/login/", {"username": "sara.k", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session

    # Opening the link (a mail scanner, a preview) only shows the page; its button activates.
    link = activation_link()
    response = client.get(link)
    assert response.status_code == 200 and "فعال‌سازی حساب" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    response = client.post(link)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    assert AuditEntry.objects.filter(event="enamad.account.activated").count() == 1
    response = client.post("/enamad/login/", {"username": "sara.k", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/enamad/panel/"
    assert "پنل کاربری" in client.get("/enamad/panel/").content.decode()


def test_legal_person_needs_company_fields(client):
    response = signup(client, persona="legal")
    assert response.status_code == 200
    assert "برای نوع شخصیت انتخاب‌شده الزامی است" in response.content.decode()
    response = signup(client, persona="legal", company_name="شرکت نمونه", legal_national_id="10380284792",
                      registration_number="1234")
    assert "شناسه ملی اشخاص حقوقی معتبر نیست" in response.content.decode()
    response = signup(client, persona="legal", company_name="شرکت نمونه", legal_national_id="10380284790",
                      registration_number="1234", organisation_name="ignored")
    assert response.status_code == 302
    account = Account.objects.get(user__username="sara.k")
    assert (account.company_name, account.legal_national_id, account.organisation_name) == (
        "شرکت نمونه", "10380284790", "")
    assert account.required_documents() == ("national_card", "birth_certificate", "gazette", "articles")


def test_government_body_needs_organisation(client):
    response = signup(client, persona="government")
    assert response.status_code == 200
    response = signup(client, persona="government", organisation_name="وزارت نمونه", letter_number="۱۲/۳۴")
    assert response.status_code == 302
    assert Account.objects.get().required_documents() == ("national_card", "government_letter")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"national_code": "0684159415"}, "national_code", "کد ملی معتبر نیست"),
    ({"mobile": "0912"}, "mobile", "شماره همراه"),
    ({"password2": "different-pass-123"}, "password2", "یکسان نیستند"),
    ({"password1": "1234567890", "password2": "1234567890"}, "password1", ""),
    ({"password1": "sara@example.com", "password2": "sara@example.com"}, "password1", ""),
    ({"captcha_1": "WRONG"}, "captcha", "کد امنیتی درست نیست"),
    ({"username": "nc-0499370899"}, "username", "nc-"),  # RAMIS applicants' usernames
    ({"username": "سارا"}, "username", ""),
])
def test_signup_refusals(client, changes, field, message):
    response = signup(client, **changes)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not User.objects.exists()


def test_duplicate_username_refused(client, db):
    make_account("sara.k")
    response = signup(client)
    assert "این نام کاربری پیش‌تر ثبت شده است" in response.content.decode()


def test_expired_or_forged_activation_link(client, settings):
    signup(client)
    link = activation_link()
    assert client.get(link.replace("/activate/", "/activate/x")).status_code == 400
    assert client.post(link.replace("/activate/", "/activate/x")).status_code == 400
    settings.ENAMAD_ACTIVATION_MAX_AGE_SECONDS = -1
    response = client.get(link)
    assert response.status_code == 400 and "منقضی" in response.content.decode()
    assert client.post(link).status_code == 400
    assert not User.objects.get(username="sara.k").is_active


def test_activation_link_works_once(client):
    signup(client)
    link = activation_link()
    assert client.post(link).status_code == 302
    user = User.objects.get(username="sara.k")
    assert user.is_active
    # Used: the page and the button both refuse it, in words.
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 400 and "پیش‌تر به کار رفته" in response.content.decode()
    # Staff deactivate the account later: the old link does not switch it back on.
    client.post("/enamad/login/", {"username": "sara.k", "password": PASSWORD})
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.post(link).status_code == 400
    assert not User.objects.get(pk=user.pk).is_active
    assert AuditEntry.objects.filter(event="enamad.account.activated").count() == 1


def test_login_failures_are_counted_by_axes(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_account("sara.k")
    for _ in range(3):
        client.post("/enamad/login/", {"username": "sara.k", "password": "wrong-password-1"})
    response = client.post("/enamad/login/", {"username": "sara.k", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_staff_cannot_use_the_applicant_login(client, enamad_expert):
    from tests.conftest import STAFF_PASSWORD

    response = client.post("/enamad/login/", {"username": "enamad_expert", "password": STAFF_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_panel_needs_login(client):
    response = client.get("/enamad/panel/")
    assert response.status_code == 302 and response["Location"].startswith("/enamad/login/")


def test_profile_completion(client, db):
    account = make_account(verified=False)
    client.force_login(account.user)
    response = client.post("/enamad/panel/profile/", {
        "first_name": "سارا", "last_name": "کریمی", "father_name": "رضا", "birth_date": "۱۳۶۹/۰۱/۰۱",
        "landline": "۰۲۱-۸۸۷۷۶۶۵۵", "address": "تهران", "postal_code": "1316943115",
    }, follow=True)
    assert "ثبت اطلاعات با موفقیت انجام شد" in response.content.decode()
    account.refresh_from_db()
    assert account.landline == "02188776655" and account.profile_completed_at is not None
    assert account.identity_missing() == ["بارگذاری مدارک الزامی", "احراز تلفن همراه", "احراز تلفن ثابت"]


def test_changed_landline_must_be_verified_again(account):
    assert account.landline_verified_at
    account_update_profile(account_id=account.pk, actor=account.user, data={"landline": "03132221100"})
    account.refresh_from_db()
    assert account.landline_verified_at is None


def test_document_upload_confirms_and_is_private(client, db, other_account):
    account = make_account(verified=False)
    client.force_login(account.user)
    upload = SimpleUploadedFile("card.png", png_bytes(), content_type="image/png")
    response = client.post("/enamad/panel/documents/", {"kind": "national_card", "file": upload}, follow=True)
    assert "با موفقیت بارگذاری شد" in response.content.decode()
    document = IdentityDocument.objects.get(account=account, kind="national_card")
    assert document.file.name.startswith("enamad/identity/") and "card" not in document.file.name
    assert client.get(f"/enamad/panel/documents/{document.pk}/").status_code == 200
    # A second upload replaces the first.
    upload = SimpleUploadedFile("card.pdf", PDF_BYTES, content_type="application/pdf")
    client.post("/enamad/panel/documents/", {"kind": "national_card", "file": upload})
    assert IdentityDocument.objects.filter(account=account, kind="national_card").count() == 1
    # Someone else's document is not found.
    client.force_login(other_account.user)
    assert client.get(f"/enamad/panel/documents/{document.pk}/").status_code == 404


def test_document_content_is_checked(client, db):
    account = make_account(verified=False)
    client.force_login(account.user)
    fake = SimpleUploadedFile("card.png", b"MZ\x90\x00 this is an executable", content_type="image/png")
    response = client.post("/enamad/panel/documents/", {"kind": "national_card", "file": fake}, follow=True)
    assert "نوع فایل پذیرفته نیست" in response.content.decode()
    assert not IdentityDocument.objects.exists()
    # A document of another persona is refused.
    upload = SimpleUploadedFile("g.pdf", PDF_BYTES)
    response = client.post("/enamad/panel/documents/", {"kind": "gazette", "file": upload}, follow=True)
    assert "نوع شخصیت شما نیست" in response.content.decode()


@pytest.mark.parametrize(("field", "value"), [
    ("postal_code", "0000000000"), ("landline", "09121112233"), ("birth_date", "1369/13/01"), ("father_name", ""),
])
def test_profile_refusals(client, db, field, value):
    account = make_account(verified=False)
    client.force_login(account.user)
    data = {"first_name": "سارا", "last_name": "کریمی", "father_name": "رضا", "birth_date": "1369/01/01",
            "landline": "02188776655", "address": "تهران", "postal_code": "1316943115", field: value}
    response = client.post("/enamad/panel/profile/", data)
    assert response.status_code == 200 and field in response.context["form"].errors
    account.refresh_from_db()
    assert account.profile_completed_at is None


def test_legal_profile_asks_for_company_fields(client, db):
    account = make_account("legal1", persona="legal", verified=False)
    client.force_login(account.user)
    form = client.get("/enamad/panel/profile/").context["form"]
    assert "company_name" in form.fields and "organisation_name" not in form.fields
