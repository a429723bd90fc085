"""The production path of N7: "check now" queues a task that a real Celery worker (real Redis
broker) runs against the local site, after the request's transaction has committed."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError

from enamad.businesses.services import business_request_domain_check
from enamad.models import Business
from tests.enamad.conftest import make_account, make_business
from tests.integration.test_celery_worker import redis_worker  # noqa: F401 - fixture


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_domain_check_runs_on_a_worker(redis_worker, local_net):  # noqa: F811
    account = make_account()
    business = make_business(account, ready=False)
    local_net["http"].routes["/"] = (200, f"<head>{business.verification_meta_tag()}</head>".encode(), {})
    business_request_domain_check(business_id=business.pk, actor=account.user)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            business.refresh_from_db()
        except OperationalError:  # SQLite's shared in-memory test DB: "table is locked" while the worker writes
            time.sleep(0.1)
            continue
        if business.domain_verified_at:
            break
        time.sleep(0.1)
    assert business.domain_verified_method == "meta"
    assert Business.objects.get(pk=business.pk).domain_check_requested_at is None
