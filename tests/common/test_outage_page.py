"""Issue 11: a database or Redis outage reaching a view (or a middleware) answers the Persian 503
page with Retry-After, never a 500; a plain bug still gets the 500 page. The PostgreSQL drill, with
a server of the test's own stopped and started again, is in test_postgres_down.py."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.common.outage_urls")]

PERSIAN = "سامانه موقتا در دسترس نیست"


@pytest.fixture
def client(client):
    client.raise_request_exception = False  # see what the browser sees
    return client


def test_redis_outage_in_a_view_is_a_persian_503(client, settings):
    response = client.get("/outage/redis/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)
    assert PERSIAN in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_redis_outage_in_a_middleware_is_a_persian_503(client, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.common.outage_urls.RedisInMiddleware"]
    response = client.get("/outage/middleware/")
    assert response.status_code == 503
    assert PERSIAN in response.content.decode()


def test_a_bug_is_still_a_500(client):
    response = client.get("/outage/bug/")
    assert response.status_code == 500
    assert PERSIAN not in response.content.decode()


def test_the_503_page_renders_without_database_or_cache(django_assert_num_queries):
    from ramis.common.outage import unavailable_response

    with django_assert_num_queries(0):
        response = unavailable_response()
    assert response.status_code == 503 and PERSIAN in response.content.decode()
