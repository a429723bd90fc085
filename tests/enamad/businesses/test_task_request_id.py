"""The holder's «check now» queues the domain check as a task; the entry the task writes when the
domain verifies (``enamad.business.domain_verified``, no context: the system) carries the id of
the request that asked for it, so staff go from that entry to the request's log lines (issue 15).
In-process (the embedded default) and on a real worker through a real Redis broker."""

from __future__ import annotations

import threading

import pytest
from celery.signals import task_postrun
from django.test import Client

from ramis.common.models import AuditEntry
from tests.enamad.conftest import make_account, make_business
from tests.integration.test_celery_worker import redis_worker  # noqa: F401 - fixture

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
THROUGH_NGINX = {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "HTTP_USER_AGENT": FIREFOX}


def check_now(local_net, settings, request_id: str):
    """The holder presses «check now» through the proxy; the business and the response."""
    settings.TRUSTED_PROXY_COUNT = 1
    account = make_account()
    draft = make_business(account, ready=False)
    local_net["http"].routes["/"] = (200, f"<head>{draft.verification_meta_tag()}</head>".encode(), {})
    client = Client()
    client.force_login(account.user)
    response = client.post(f"/enamad/panel/business/{draft.pk}/technical/", HTTP_X_REQUEST_ID=request_id,
                           **THROUGH_NGINX)
    return draft, response


def verified_entry(business) -> AuditEntry:
    return AuditEntry.objects.for_object(business).get(event="enamad.business.domain_verified")


@pytest.mark.django_db(transaction=True)  # the task is queued on commit, while the request is still served
def test_in_process_the_check_writes_the_requests_id(local_net, settings):
    business, response = check_now(local_net, settings, "nginx-check-1")
    assert response.status_code == 302 and response["X-Request-ID"] == "nginx-check-1"
    entry = verified_entry(business)
    # The request's id, not its client: the task is not the holder's browser.
    assert (entry.request_id, entry.ip, entry.user_agent, entry.actor_id) == ("nginx-check-1", None, "", None)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_on_a_worker_the_check_writes_the_id_of_the_request_that_queued_it(redis_worker, local_net,  # noqa: F811
                                                                          settings):
    ran = threading.Event()

    def _ran(sender=None, **kwargs):
        if sender.name == "enamad.tasks.verify_business_domain":
            ran.set()

    task_postrun.connect(_ran, weak=False)
    try:
        business, response = check_now(local_net, settings, "nginx-check-2")
        assert ran.wait(20), "the worker did not run the check"
    finally:
        task_postrun.disconnect(_ran)
    assert response.status_code == 302
    entry = verified_entry(business)
    assert (entry.request_id, entry.ip, entry.user_agent) == ("nginx-check-2", None, "")
    business.refresh_from_db()
    assert business.domain_verified_method == "meta"
