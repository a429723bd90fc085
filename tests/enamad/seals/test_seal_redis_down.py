"""Issue 11: with Redis stopped the seal logo is still served, from the database, and a complaint
from the seal page is refused with a Persian message (its throttle fails closed), never a 500."""

import pytest

from enamad.seals.selectors import forget_memo
from tests.enamad.conftest import DOMAIN
from tests.enamad.seals.test_seal import issue_seal, logo

pytestmark = pytest.mark.django_db


def test_seal_logo_served_from_the_database_while_redis_is_down(client, business, redis_cache):
    seal = issue_seal(business)
    headers = {"HTTP_REFERER": f"https://{DOMAIN}/"}
    assert logo(client, seal, **headers)["X-Seal-Variant"] == "stars-1"  # cached in Redis now
    redis_cache.stop()
    forget_memo()  # this process's own copy lapsed too: the facts come from the database
    response = logo(client, seal, **headers)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["X-Seal-Variant"] == "stars-1"
    assert logo(client, seal, HTTP_REFERER="https://evil.test/")["X-Seal-Variant"] == "invalid"


def test_complaint_lookup_refused_in_persian_while_redis_is_down(client, redis_cache):
    redis_cache.stop()
    response = client.post("/trustseal/complaint/status/", {"code": "ABCD1234", "mobile": "09121234567"})
    assert response.status_code == 200
    assert "سامانه موقتا در دسترس نیست" in response.content.decode()
