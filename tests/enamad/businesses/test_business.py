"""N6, N8–N11, N13: add a business, services and licences, survey, contact checks, send."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from enamad.accounts.services import account_upload_document, phone_inbound
from enamad.businesses.services import (
    ADDRESS_CODE_MAX_FAILURES,
    business_change_activity,
    business_confirm_address,
    business_save_services,
    business_save_survey,
    business_send,
    business_send_address_letter,
    business_update,
)
from enamad.models import Business, BusinessStatus, PostalLetter, ServiceCategory
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.conftest import make_account, make_business, png_bytes

pytestmark = pytest.mark.django_db

FORM = {"domain": "https://www.Shop.test/", "name": "فروشگاه نمونه", "address": "تهران، خیابان آزادی",
        "postal_code": "۱۳۱۶۹۴۳۱۱۵", "phone": "021 8877 6655", "email": "info@shop.test", "answering_hours": ""}


def test_add_business(owner_client, account):
    response = owner_client.post("/enamad/panel/business/new/", FORM, follow=True)
    assert "ثبت دامنه با موفقیت انجام شد" in response.content.decode()
    business = Business.objects.get()
    assert (business.domain, business.postal_code, business.phone) == ("shop.test", "1316943115", "02188776655")
    assert business.status == BusinessStatus.DRAFT and business.activity_type == "non_guild"
    assert AuditEntry.objects.filter(event="enamad.business.created").count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("domain", "185.1.2.3", "IP"),
    ("domain", "shop.test/products", "مسیر"),
    ("domain", "shop", "معتبر نیست"),
    ("postal_code", "0000000000", "کد پستی"),
    ("phone", "02100000000", "تلفن"),
    ("phone", "09121112233", "پیش‌شماره"),
])
def test_add_business_refusals(owner_client, field, value, message):
    response = owner_client.post("/enamad/panel/business/new/", {**FORM, field: value})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Business.objects.exists()


def test_verified_domain_cannot_be_claimed_twice(owner_client, other_account):
    make_business(other_account)  # verified claim on shop.test
    response = owner_client.post("/enamad/panel/business/new/", FORM)
    assert "پیش‌تر به نام کسب‌وکار دیگری" in " ".join(response.context["form"].errors["domain"])
    # An unverified draft elsewhere does not block anyone (a squatter cannot lock a domain).
    Business.objects.update(domain_verified_at=None)
    assert owner_client.post("/enamad/panel/business/new/", FORM).status_code == 302


def test_editing_resets_what_depended_on_the_old_value(account, business):
    business_update(business_id=business.pk, actor=account.user,
                    data={"email": "sales@shop.test", "name": "نام تازه"})
    business.refresh_from_db()
    assert business.email_verified_at is None and business.domain_verified_at is not None
    business_update(business_id=business.pk, actor=account.user, data={"domain": "other.test"})
    business.refresh_from_db()
    assert business.domain_verified_at is None


def test_other_account_cannot_see_or_edit(client, other_account, business):
    client.force_login(other_account.user)
    for suffix in ("", "edit/", "technical/", "services/", "survey/", "contacts/", "send/", "activity/"):
        assert client.get(f"/enamad/panel/business/{business.pk}/{suffix}").status_code == 404
    with pytest.raises(PermissionDenied):
        business_update(business_id=business.pk, actor=other_account.user, data={"name": "x"})


def test_services_licence_required_when_the_service_needs_one(owner_client, account):
    business = make_business(account, ready=False)
    airline = ServiceCategory.objects.get(name="فروش بلیت هواپیما")
    data = {"category": airline.pk, "offerings": "بلیت", "delivery_methods": "الکترونیکی", "payment_methods": "درگاه"}
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/services/", data)
    errors = response.context["form"].errors
    assert "سازمان هواپیمایی کشوری" in " ".join(errors["licence_file"])
    data.update(licence_reference="مجوز ۱۲۳ سازمان هواپیمایی",
                licence_file=SimpleUploadedFile("l.png", png_bytes(), content_type="image/png"))
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/services/", data, follow=True)
    assert "خدمت موردنظر با موفقیت ثبت شد" in response.content.decode()
    business.refresh_from_db()
    assert business.services_complete()


def test_all_four_sections_required(owner_client, account):
    business = make_business(account, ready=False)
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/services/", {"category": ""})
    assert set(response.context["form"].errors) >= {"category", "offerings", "delivery_methods", "payment_methods"}


def test_survey(owner_client, account):
    business = make_business(account, ready=False)
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/survey/", {
        "heard_from": "search", "platform": "cms", "monthly_orders": "۱۲۰", "comments": ""}, follow=True)
    assert "نظرسنجی با موفقیت ثبت شد" in response.content.decode()
    business.refresh_from_db()
    assert business.survey_done_at is not None and business.survey.monthly_orders == 120


def test_survey_cannot_be_changed_after_sending(owner_client, account, business):
    business_send(business_id=business.pk, actor=account.user)
    url = f"/enamad/panel/business/{business.pk}/survey/"
    response = owner_client.post(url, {"heard_from": "friend", "platform": "custom", "monthly_orders": "999"},
                                 follow=True)
    assert "امکان ویرایش وجود ندارد" in response.content.decode()
    assert owner_client.get(url)["Location"] == f"/enamad/panel/business/{business.pk}/"
    business.refresh_from_db()
    assert (business.survey.heard_from, business.survey.monthly_orders) == ("search", 10)
    with pytest.raises(InvalidTransition):
        business_save_survey(business_id=business.pk, actor=account.user,
                             data={"heard_from": "friend", "platform": "custom", "monthly_orders": 999})
    assert not AuditEntry.objects.filter(event="enamad.business.survey_saved").exists()


def test_email_verified_by_link(owner_client, account, django_capture_on_commit_callbacks):
    business = make_business(account, ready=False)
    owner_client.post(f"/enamad/panel/business/{business.pk}/contacts/", {"action": "email"})
    body = OutboxMessage.objects.filter(template="enamad_business_email").latest("id").body
    path = re.search(r"/enamad/confirm-email/\S+/", body).group(0)
    # The link is for the e-mail it was sent to: after a change it no longer works.
    business_update(business_id=business.pk, actor=account.user, data={"email": "new@shop.test"})
    assert owner_client.get(path).status_code == 400
    assert owner_client.post(path).status_code == 400
    owner_client.post(f"/enamad/panel/business/{business.pk}/contacts/", {"action": "email"})
    body = OutboxMessage.objects.filter(template="enamad_business_email").latest("id").body
    path = re.search(r"/enamad/confirm-email/\S+/", body).group(0)
    # Opening the link (a mail scanner pre-fetching it, a preview) only shows the page.
    for _ in range(2):
        page = owner_client.get(path)
        assert page.status_code == 200 and "تأیید رایانامه</button>" in page.content.decode()
    business.refresh_from_db()
    assert business.email_verified_at is None
    assert not AuditEntry.objects.filter(event="enamad.business.email_verified").exists()
    # Its button (a POST, from any browser: the link is the credential) confirms, once.
    anyone = Client(enforce_csrf_checks=True)
    page = anyone.get(path)
    token = page.cookies["csrftoken"].value
    response = anyone.post(path, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "رایانامه کسب‌وکار تأیید شد" in response.content.decode()
    business.refresh_from_db()
    assert business.email_verified_at is not None
    first = business.email_verified_at
    assert anyone.post(path, {"csrfmiddlewaretoken": token}).status_code == 200
    assert "تأیید رایانامه</button>" not in anyone.get(path).content.decode()  # already confirmed
    business.refresh_from_db()
    assert business.email_verified_at == first
    entry = AuditEntry.objects.get(event="enamad.business.email_verified")  # once
    assert (entry.target_type, entry.target_id) == ("enamad.business", str(business.pk))


def test_business_phone_verified_by_ivr(owner_client, account):
    business = make_business(account, ready=False, phone="03132221100")
    owner_client.post(f"/enamad/panel/business/{business.pk}/contacts/", {"action": "phone"})
    page = owner_client.get(f"/enamad/panel/business/{business.pk}/contacts/").content.decode()
    code = re.search(r'id="business-phone-code">(\d{6})<', page).group(1)
    assert phone_inbound(channel="ivr", sender="03132221100", text=code)
    business.refresh_from_db()
    assert business.phone_verified_at is not None


def test_address_verified_by_posted_code(owner_client, account):
    business = make_business(account, ready=False)
    owner_client.post(f"/enamad/panel/business/{business.pk}/contacts/", {"action": "letter"})
    letter = PostalLetter.objects.get(business=business)
    code = re.search(r"(\d{8})", letter.body).group(1)
    assert letter.postal_code == "1316943115"
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/contacts/",
                                 {"action": "address_code", "code": "00000000"})
    assert "کد درست نیست" in response.content.decode()
    owner_client.post(f"/enamad/panel/business/{business.pk}/contacts/", {"action": "address_code", "code": code})
    business.refresh_from_db()
    assert business.address_verified_at is not None


def test_address_code_dies_after_too_many_failures(account):
    business = make_business(account, ready=False)
    letter = business_send_address_letter(business_id=business.pk, actor=account.user)
    code = re.search(r"(\d{8})", letter.body).group(1)
    for _ in range(ADDRESS_CODE_MAX_FAILURES):
        assert not business_confirm_address(business_id=business.pk, actor=account.user, code="12345678")
    assert not business_confirm_address(business_id=business.pk, actor=account.user, code=code)


def test_send_refused_until_everything_is_done(owner_client, account):
    business = make_business(account, ready=False)
    page = owner_client.get(f"/enamad/panel/business/{business.pk}/send/").content.decode()
    assert "چک‌لیست الزامات" in page and "تأییدیه فنی دامنه" in page
    with pytest.raises(InvalidTransition) as info:
        business_send(business_id=business.pk, actor=account.user)
    assert "تأییدیه فنی دامنه" in info.value.message and "نظرسنجی" in info.value.message
    business.refresh_from_db()
    assert business.status == BusinessStatus.DRAFT


def test_send_needs_verified_identity(db):
    account = make_account(verified=False)
    business = make_business(account)
    with pytest.raises(InvalidTransition) as info:
        business_send(business_id=business.pk, actor=account.user)
    assert "احراز تلفن همراه" in info.value.message


def test_send_with_one_contact_and_then_no_more_edits(owner_client, account, business):
    page = owner_client.get(f"/enamad/panel/business/{business.pk}/send/").content.decode()
    assert 'id="checklist"' in page
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/send/", follow=True)
    assert "در حال بررسی" in response.content.decode()
    business.refresh_from_db()
    assert business.status == BusinessStatus.UNDER_REVIEW and business.sent_at
    assert AuditEntry.objects.filter(event="enamad.business.sent", old="draft", new="under_review").count() == 1
    assert OutboxMessage.objects.filter(template="enamad_status", channel="sms", to=account.mobile).exists()
    # The checklist is no longer shown, and nothing can be edited.
    assert 'id="checklist"' not in owner_client.get(f"/enamad/panel/business/{business.pk}/send/").content.decode()
    with pytest.raises(InvalidTransition):
        business_update(business_id=business.pk, actor=account.user, data={"name": "x"})
    with pytest.raises(InvalidTransition):
        business_save_services(business_id=business.pk, actor=account.user, data={})
    assert owner_client.get(f"/enamad/panel/business/{business.pk}/edit/").status_code == 302
    with pytest.raises(InvalidTransition):  # not twice
        business_send(business_id=business.pk, actor=account.user)


def test_activity_change_only_when_editable_or_asked(account, business):
    business_change_activity(business_id=business.pk, actor=account.user, activity_type="guild")
    business_change_activity(business_id=business.pk, actor=account.user, activity_type="non_guild")
    business_send(business_id=business.pk, actor=account.user)
    with pytest.raises(InvalidTransition):
        business_change_activity(business_id=business.pk, actor=account.user, activity_type="guild")
    Business.objects.filter(pk=business.pk).update(activity_change_requested=True)
    business_change_activity(business_id=business.pk, actor=account.user, activity_type="guild")
    business.refresh_from_db()
    assert business.activity_type == "guild" and not business.activity_change_requested
    assert AuditEntry.objects.filter(event="enamad.business.activity_changed").count() == 3


def test_validation_error_on_unknown_persona_document(account):
    upload = SimpleUploadedFile("x.png", png_bytes())
    with pytest.raises(ValidationError) as refused:
        account_upload_document(account_id=account.pk, actor=account.user, kind="gazette", upload=upload)
    assert refused.value.messages


def test_panel_lists_businesses_with_fixed_queries(owner_client, account, django_assert_max_num_queries):
    for i in range(5):
        make_business(account, domain=f"shop{i}.test")
    owner_client.get("/enamad/panel/")
    with django_assert_max_num_queries(12):
        response = owner_client.get("/enamad/panel/")
    assert response.content.decode().count("مدیریت کسب‌وکار") == 5


def test_survey_refusals(owner_client, account):
    business = make_business(account, ready=False)
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/survey/", {"monthly_orders": "بسیار"})
    assert {"heard_from", "platform", "monthly_orders"} <= set(response.context["form"].errors)
    business.refresh_from_db()
    assert business.survey_done_at is None
