"""Redis down never gives a 500 (issue 11): the cache degrades to the database, the throttles fail
closed with a Persian message. Each test starts its own redis-server and stops it mid-test."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache

from ramis.common import throttle
from ramis.common.cache import strict
from ramis.common.models import OutboxMessage
from tests.certauth.test_applicant_login import IDENTITY
from tests.conftest import captcha_answer


def test_cache_reads_miss_and_writes_drop_while_redis_is_down(redis_cache):
    cache.set("k", "v", 60)
    assert cache.get("k") == "v"
    redis_cache.stop()
    assert cache.get("k") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_many(["k"]) == {}
    cache.set("k", "w", 60)  # dropped, no error
    cache.delete("k")
    assert cache.add("new", 1) is False
    with pytest.raises(ValueError):
        cache.incr("k")
    # the strict view a throttle uses still raises
    with pytest.raises(Exception) as caught:
        strict(cache).add("t", 1)
    assert "Connection" in caught.value.__class__.__name__
    redis_cache.start()
    with mock.patch("time.monotonic", return_value=10**9):  # past the short circuit
        cache.set("k", "back", 60)
        assert cache.get("k") == "back"


def test_throttle_fails_closed_when_redis_is_down(redis_cache):
    assert throttle.hit("x", limit=1, window=60) is True
    assert throttle.hit("x", limit=1, window=60) is False
    redis_cache.stop()
    with pytest.raises(throttle.Unavailable) as caught:
        throttle.hit("y", limit=100, window=60)
    assert caught.value.message == "سامانه موقتا در دسترس نیست؛ چند لحظه دیگر دوباره تلاش کنید."


def start_login(client):
    page = client.get("/auth/login/")
    return client.post("/auth/login/", {**IDENTITY, **captcha_answer(page.content.decode())})


@pytest.mark.django_db
def test_login_with_redis_down_says_try_again_and_sends_nothing(client, settings, redis_cache, applicant_person):
    redis_cache.stop()
    response = start_login(client)
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert "سامانه موقتا در دسترس نیست" in page
    assert 'name="national_code"' in page  # the form is shown again, with the message
    assert not OutboxMessage.objects.exists()  # the throttle was not skipped: no code was sent
    redis_cache.start()
    with mock.patch("time.monotonic", return_value=10**9):
        response = start_login(client)
    assert response.status_code == 302
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_cached_page_answers_with_redis_down(client, redis_cache):
    """cache_page (the user guide PDF) reads and writes the cache around the view."""
    redis_cache.stop()
    response = client.get("/guide.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
