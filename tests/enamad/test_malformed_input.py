"""Malformed input is refused in words (or ignored), never an HTTP 500: digits that only
``str.isdigit`` accepts ("²"), and URLs that ``urlsplit`` cannot parse ("http://[x")."""

import pytest
from django.core.exceptions import ValidationError

from enamad.businesses.domains import normalize_domain
from enamad.businesses.services import business_review, business_send, business_verify_domain
from enamad.models import Business, BusinessStatus, ChecklistItem
from tests.enamad.conftest import DOMAIN, all_items_ok, make_business
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db

FORM = {"domain": "shop.test", "name": "فروشگاه نمونه", "address": "تهران، خیابان آزادی",
        "postal_code": "1316943115", "phone": "02188776655", "email": "info@shop.test", "answering_hours": ""}


@pytest.mark.parametrize("number", ["²", "¹²³", "١٢", "1²"])
def test_logo_with_a_non_ascii_digit_id_is_the_invalid_image(client, business, number):
    seal = issue_seal(business)
    response = client.get(f"/trustseal/logo/?id={number}&Code={seal.code}", HTTP_REFERER=f"https://{DOMAIN}/")
    assert response.status_code == 200 and response["X-Seal-Variant"] == "invalid"


@pytest.mark.parametrize("number", ["²", "¹²³", "١٢"])
def test_seal_page_with_a_non_ascii_digit_id_is_not_found(client, business, number):
    seal = issue_seal(business)
    assert client.get(f"/trustseal/?id={number}&Code={seal.code}").status_code == 404


@pytest.mark.parametrize("header", ["HTTP_REFERER", "HTTP_ORIGIN"])
@pytest.mark.parametrize("value", ["http://[x", "https://[::1/", "http://]["])
def test_seal_endpoints_with_a_malformed_referer_or_origin(client, business, header, value):
    seal = issue_seal(business)
    response = client.get(f"/trustseal/logo/?id={seal.number}&Code={seal.code}", **{header: value})
    assert response.status_code == 200 and response["X-Seal-Variant"] == "invalid"
    response = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}", **{header: value})
    assert response.status_code == 200 and business.name in response.content.decode()


@pytest.mark.parametrize("typed", ["http://[::1", "https://[x", "http://shop.ir]["])
def test_domain_with_an_unbalanced_bracket_is_invalid(typed):
    with pytest.raises(ValidationError) as info:
        normalize_domain(typed)
    assert info.value.code == "invalid" and "معتبر نیست" in info.value.messages[0]


def test_add_and_edit_business_with_an_unbalanced_bracket(owner_client, account, business):
    response = owner_client.post("/enamad/panel/business/new/", {**FORM, "domain": "http://[::1"})
    assert response.status_code == 200
    assert "معتبر نیست" in " ".join(response.context["form"].errors["domain"])
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/edit/", {**FORM, "domain": "http://[::1"})
    assert response.status_code == 200
    assert "معتبر نیست" in " ".join(response.context["form"].errors["domain"])
    assert list(Business.objects.values_list("domain", flat=True)) == [DOMAIN]


def test_resend_ignores_a_reply_field_with_a_non_ascii_digit(owner_client, account, business, enamad_expert):
    business_send(business_id=business.pk, actor=account.user)
    failed_item = ChecklistItem.objects.filter(active=True).first()
    results = {**all_items_ok(), failed_item.pk: (False, "نشانی در صفحه تماس نیست.")}
    review = business_review(business_id=business.pk, actor=enamad_expert, results=results)
    failed = review.items.get(approved=False)
    response = owner_client.post(f"/enamad/panel/business/{business.pk}/send/",
                                 {"reply_²": "x", f"reply_{failed.pk}": "اضافه شد."})
    assert response.status_code == 302
    business.refresh_from_db()
    failed.refresh_from_db()
    assert business.status == BusinessStatus.UNDER_REVIEW and failed.reply == "اضافه شد."


def test_redirect_to_a_malformed_location_fails_the_check_in_words(local_net, account):
    draft = make_business(account, ready=False)
    local_net["http"].routes["/"] = (302, b"", {"Location": "http://[x/"})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok and "نشانی نامعتبری" in result.error
    assert "نشانی نامعتبری" in Business.objects.get(pk=draft.pk).domain_check_error
