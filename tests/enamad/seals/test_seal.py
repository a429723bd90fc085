"""N1, N16–N18, N22: seal code, the logo endpoint (origin check, cache, query count), the seal
page with its warning, the public registry, expiry (monitoring: test_monitoring.py)."""

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from enamad.businesses.services import business_accept_documents, business_review, business_send
from enamad.models import Business, BusinessStatus, Seal
from enamad.seals.selectors import seal_cache_key
from enamad.seals.services import (
    _new_seal_number,
    business_final_approve,
    business_reinstate,
    business_suspend,
)
from ramis.common.models import AuditEntry
from tests.enamad.conftest import DOMAIN, forget_cached_seals, make_account, make_business

pytestmark = pytest.mark.django_db


def issue_seal(business, *, stars=1) -> Seal:
    """Put a ready business through the review quickly (the services are tested elsewhere)."""
    from tests.conftest import make_staff
    from tests.enamad.conftest import all_items_ok

    expert = make_staff(f"exp{business.pk}", perms=["enamad.review_business", "enamad.review_documents"], totp=False)
    manager = make_staff(f"mgr{business.pk}", perms=["enamad.approve_business"], totp=False)
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(phone_verified_at=now, address_verified_at=now,
                                                   tls_valid=stars == 2)
    business_send(business_id=business.pk, actor=business.account.user)
    business_review(business_id=business.pk, actor=expert, results=all_items_ok())
    business_accept_documents(business_id=business.pk, actor=expert)
    return business_final_approve(business_id=business.pk, actor=manager)


def quick_seal(business) -> Seal:
    """Test data for list pages: an approved business with a seal, written directly."""
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.APPROVED)
    now = timezone.now()
    return Seal.objects.create(business=business, number=_new_seal_number(), granted_at=now,
                               expires_at=now + dt.timedelta(days=365))


@pytest.fixture
def seal(business):
    return issue_seal(business)


def logo(client, seal, **headers):
    return client.get(f"/trustseal/logo/?id={seal.number}&Code={seal.code}", **headers)


def test_seal_code_snippet(owner_client, business, seal):
    page = owner_client.get(f"/enamad/panel/business/{business.pk}/seal/").content.decode()
    assert f"/trustseal/?id={seal.number}&amp;Code={seal.code}" in page
    assert f"/trustseal/logo/?id={seal.number}&amp;Code={seal.code}" in page
    assert "referrerpolicy=&#x27;origin&#x27;" in page and "کپی کد" in page


@pytest.mark.parametrize(("headers", "variant"), [
    ({"HTTP_REFERER": f"https://{DOMAIN}/"}, "stars-1"),
    ({"HTTP_ORIGIN": f"https://www.{DOMAIN}"}, "stars-1"),
    ({"HTTP_REFERER": f"http://{DOMAIN}:8080/products/1"}, "stars-1"),
    ({"HTTP_REFERER": "https://evil.test/"}, "invalid"),
    ({"HTTP_REFERER": f"https://{DOMAIN}.evil.test/"}, "invalid"),
    ({"HTTP_REFERER": f"https://evil{DOMAIN}/"}, "invalid"),
    ({"HTTP_ORIGIN": "https://evil.test", "HTTP_REFERER": f"https://{DOMAIN}/"}, "invalid"),
    ({}, "invalid"),
])
def test_logo_only_for_the_registered_domain(client, seal, headers, variant):
    response = logo(client, seal, **headers)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["X-Seal-Variant"] == variant
    assert ("معتبر ★" in response.content.decode()) is (variant == "stars-1")
    assert "public" in response["Cache-Control"] and "Referer" in response["Vary"]


def test_logo_wrong_code_or_id(client, seal):
    headers = {"HTTP_REFERER": f"https://{DOMAIN}/"}
    wrong = seal.code[:-1] + ("A" if seal.code[-1] != "A" else "B")
    assert client.get(f"/trustseal/logo/?id={seal.number}&Code={wrong}", **headers)["X-Seal-Variant"] == "invalid"
    assert client.get(f"/trustseal/logo/?id=1&Code={seal.code}", **headers)["X-Seal-Variant"] == "invalid"
    assert client.get("/trustseal/logo/?id=abc&Code=x", **headers)["X-Seal-Variant"] == "invalid"
    assert client.get("/trustseal/logo/", **headers)["X-Seal-Variant"] == "invalid"


def test_logo_reads_its_query_as_request_get_does(client, seal, settings):
    headers = {"HTTP_REFERER": f"https://{DOMAIN}/"}
    encoded = "".join(f"%{ord(c):02X}" for c in seal.code)  # percent-encoded, as a client may send it
    assert client.get(f"/trustseal/logo/?id=1&id={seal.number}&Code={encoded}", **headers)["X-Seal-Variant"] \
        == "stars-1"  # the last of a repeated field, decoded, like request.GET.get
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    crowded = client.get(f"/trustseal/logo/?a=1&b=2&id={seal.number}&Code={seal.code}", **headers)
    assert crowded.status_code == 200 and crowded["X-Seal-Variant"] == "invalid"


def test_logo_costs_one_query_then_none(client, seal, django_assert_num_queries):
    forget_cached_seals()
    headers = {"HTTP_REFERER": f"https://{DOMAIN}/"}
    with django_assert_num_queries(1):
        assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"
    with django_assert_num_queries(0):
        assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"
    with django_assert_num_queries(1):  # unknown pairs are cached too
        client.get(f"/trustseal/logo/?id=123&Code={'x' * 32}", **headers)
        client.get(f"/trustseal/logo/?id=123&Code={'x' * 32}", **headers)


def test_two_star_logo(client, account):
    seal = issue_seal(make_business(account, domain="secure.test"), stars=2)
    assert logo(client, seal, HTTP_REFERER="https://secure.test/")["X-Seal-Variant"] == "stars-2"


def test_suspension_shows_at_once_despite_the_cache(client, seal, enamad_manager, django_capture_on_commit_callbacks):
    headers = {"HTTP_REFERER": f"https://{DOMAIN}/"}
    assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"
    with django_capture_on_commit_callbacks(execute=True):
        business_suspend(business_id=seal.business_id, actor=enamad_manager, reason="شکایت")
    assert logo(client, seal, **headers)["X-Seal-Variant"] == "suspended"
    with django_capture_on_commit_callbacks(execute=True):
        business_reinstate(business_id=seal.business_id, actor=enamad_manager)
    assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"


@pytest.mark.parametrize("memo_ms", [1500, 0])
def test_a_change_committed_elsewhere_shows_within_the_memo_bound(client, seal, settings, memo_ms,
                                                                  django_assert_num_queries):
    """Each web process keeps the facts its logo read for ENAMAD_SEAL_MEMO_MS. Another process's
    suspension clears the shared cache on commit, not this process's copy: the logo here says
    "valid" until that copy lapses (within the bound), then "suspended"; with 0 it keeps none."""
    settings.ENAMAD_SEAL_MEMO_MS = memo_ms
    headers = {"HTTP_REFERER": f"https://{DOMAIN}/"}
    assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"
    read_at = time.monotonic()
    # what business_suspend in another process leaves behind: the row changed, the shared copy gone
    Business.objects.filter(pk=seal.business_id).update(status=BusinessStatus.SUSPENDED)
    cache.delete(seal_cache_key(seal.number, seal.code))
    if memo_ms:
        with django_assert_num_queries(0):
            assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"
        time.sleep(max(0.0, read_at + memo_ms / 1000 - time.monotonic()) + 0.05)
    assert logo(client, seal, **headers)["X-Seal-Variant"] == "suspended"
    assert time.monotonic() - read_at < memo_ms / 1000 + 1.0


def test_expiry(client, seal, django_capture_on_commit_callbacks):
    from enamad.tasks import expire_seals

    Seal.objects.filter(pk=seal.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    forget_cached_seals()
    assert logo(client, seal, HTTP_REFERER=f"https://{DOMAIN}/")["X-Seal-Variant"] == "expired"
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_seals() == 1
    assert Business.objects.get(pk=seal.business_id).status == BusinessStatus.EXPIRED
    assert AuditEntry.objects.filter(event="enamad.seal.expired", actor=None).count() == 1
    assert expire_seals() == 0


def test_seal_page(client, seal):
    response = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}", HTTP_REFERER=f"https://{DOMAIN}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="seal-warning"' not in page
    assert DOMAIN in page and "فروشگاه نمونه" in page and "سارا کریمی" in page and "info@shop.test" in page
    from ramis.common.jalali import jalali_date

    assert jalali_date(seal.granted_at) in page and jalali_date(seal.expires_at) in page
    assert "معتبر" in page and "۹ تا ۱۷" in page


def test_seal_page_warns_when_referred_by_another_site(client, seal):
    page = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}",
                      HTTP_REFERER="https://fake-shop.test/").content.decode()
    assert 'id="seal-warning"' in page and "fake-shop.test" in page


def test_seal_page_direct_visit_has_no_warning(client, seal):
    page = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}").content.decode()
    assert 'id="seal-warning"' not in page


@pytest.mark.parametrize("query", ["id={number}&Code=" + "x" * 32, "id={number}&Code=bad", "id=1&Code=bad",
                                   "id=999999&Code={code}", "id=zz&Code=x", ""])
def test_a_wrong_or_forged_seal_link_says_the_seal_is_not_valid(client, seal, query):
    """A Persian page (404) that says plainly the seal is not valid, and reveals nothing of the
    business the number or code would belong to."""
    url = "/trustseal/?" + query.format(number=seal.number, code=seal.code)
    for response in (client.get(url), client.get(url.replace("/trustseal/?", "/trustseal/complaint/?"))):
        assert response.status_code == 404
        page = response.content.decode()
        assert 'id="seal-invalid"' in page and "این نماد معتبر نیست" in page
        business = seal.business
        for secret in (business.name, business.domain, seal.code, business.account.display_name):
            assert secret not in page


def test_registry_search_and_pagination(client, account, django_assert_max_num_queries):
    for i in range(23):
        quick_seal(make_business(account, domain=f"store{i:02d}.test", name=f"فروشگاه {i}", ready=False))
    make_business(account, domain="draft.test", name="پیش‌نویس")  # no seal: not listed
    response = client.get("/enamad/registry/")
    page = response.content.decode()
    assert page.count("صفحه نماد") == 20 and "draft.test" not in page
    assert "store22.test" in client.get("/enamad/registry/?page=2").content.decode()
    page = client.get("/enamad/registry/?q=https://www.store07.test/").content.decode()
    assert page.count("صفحه نماد") == 1 and "store07.test" in page
    page = client.get("/enamad/registry/?q=فروشگاه 1").content.decode()
    assert "store11.test" in page and "store03.test" not in page
    with django_assert_max_num_queries(3):
        client.get("/enamad/registry/?page=2")


def test_registry_hides_suspended(client, seal, enamad_manager):
    business_suspend(business_id=seal.business_id, actor=enamad_manager, reason="x")
    assert DOMAIN not in client.get("/enamad/registry/").content.decode()


def test_public_pages(client, db):
    assert "نماد اعتماد الکترونیکی" in client.get("/enamad/").content.decode()
    assert "پرسش‌های متداول" in client.get("/enamad/rules/").content.decode()
    page = client.get("/enamad/requirements/").content.decode()
    assert "چک‌لیست الزامات" in page and "آگهی روزنامه رسمی" in page


def test_another_persona_account(db):
    assert make_account("legal1", persona="legal", verified=False).required_documents()[2] == "gazette"


def test_admin_pages_render(client, business, seal):
    from tests.conftest import make_staff
    from tests.enamad.conftest import staff_client

    admin = make_staff("boss", superuser=True)
    staff_client(client, admin)
    for url in ("/admin/enamad/business/", f"/admin/enamad/business/{business.pk}/change/",
                "/admin/enamad/account/", f"/admin/enamad/account/{business.account_id}/change/",
                "/admin/enamad/seal/", "/admin/enamad/checklistitem/", "/admin/enamad/servicecategory/",
                "/admin/enamad/review/", "/admin/enamad/postalletter/", "/admin/enamad/phonechallenge/",
                "/admin/enamad/ticket/", "/admin/enamad/complaint/"):
        assert client.get(url).status_code == 200, url
    response = client.post("/admin/enamad/business/", {"action": "reinstate", "_selected_action": [business.pk]},
                           follow=True)
    assert "امکان‌پذیر نیست" in response.content.decode()


def test_seal_page_costs_a_fixed_number_of_queries(client, seal, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}")
    assert response.status_code == 200


def test_staff_queue_fixed_queries(client, account, enamad_expert, django_assert_max_num_queries):
    from tests.enamad.conftest import staff_client

    for i in range(6):
        business = make_business(account, domain=f"q{i}.test")
        business_send(business_id=business.pk, actor=account.user)
    staff_client(client, enamad_expert)
    client.get("/enamad/staff/")
    with django_assert_max_num_queries(13):  # session, user, device, perms, nav lookups, the pager's COUNT, one list query
        response = client.get("/enamad/staff/")
    assert response.content.decode().count(">بررسی</a>") == 6


def test_suspended_seal_page_says_not_valid(client, seal, enamad_manager):
    business_suspend(business_id=seal.business_id, actor=enamad_manager, reason="شکایت خریدار")
    page = client.get(f"/trustseal/?id={seal.number}&Code={seal.code}").content.decode()
    assert "این نماد اکنون معتبر نیست" in page and "تعلیق" in page
