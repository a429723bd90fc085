"""Domain-check messages say what was found, once (issue 13 item 9): a site that answered over
HTTP without the tag is not "could not connect" (HTTPS closed is not the story); the file's
status and the DNS TXT lookup are named; a wrong TXT code is told apart from no TXT record; the
technical page shows the result once (the flash message does not repeat it)."""

from __future__ import annotations

import pytest

from enamad.businesses.services import business_verify_domain
from enamad.models import Business
from tests.enamad.conftest import DOMAIN, make_business

pytestmark = pytest.mark.django_db
NOT_CONNECTED = "اتصال به سایت برقرار نشد"


@pytest.fixture
def draft(account):
    return make_business(account, ready=False)


def test_site_answered_without_the_tag_says_so(local_net, draft):
    local_net["http"].routes["/"] = (200, b"<html><head><title>Shop</title></head><body>x</body></html>", {})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok
    error = result.error
    assert "سایت از راه HTTP پاسخ داد" in error and "برچسب meta" in error
    assert f"فایل {draft.verification_token}.txt روی سایت نیست (پاسخ سایت: کد ۴۰۴)" in error
    assert "DNS دامنه رکورد TXT اینماد" in error
    assert NOT_CONNECTED not in error  # HTTPS was closed, but the site answered over HTTP
    assert Business.objects.get(pk=draft.pk).domain_check_error == error


def test_home_page_error_status_is_named(local_net, draft):
    local_net["http"].routes["/"] = (503, b"down", {})
    error = business_verify_domain(business_id=draft.pk).error
    assert "صفحه اصلی کد ۵۰۳ برگرداند" in error


def test_nothing_listening_says_connection_failed_once(local_net, draft, settings):
    settings.ENAMAD_VERIFY_HTTP_PORT = settings.ENAMAD_VERIFY_HTTPS_PORT  # a closed port for both
    error = business_verify_domain(business_id=draft.pk).error
    assert error.count(NOT_CONNECTED) == 1 and "پاسخ داد" not in error


def test_a_txt_record_with_another_code_is_told_apart(local_net, draft):
    local_net["http"].routes["/"] = (200, b"<html><head><title>Shop</title></head></html>", {})
    local_net["dns"].txt[DOMAIN] = ["enamad-verification=someone-elses-token"]
    error = business_verify_domain(business_id=draft.pk).error
    assert "رکورد TXT اینماد در DNS دامنه هست اما کد آن کد این پرونده نیست" in error
    assert "رکورد TXT اینماد (enamad-verification=…) ندارد" not in error


def test_the_technical_page_says_it_once(local_net, draft, owner_client, django_capture_on_commit_callbacks):
    local_net["http"].routes["/"] = (200, b"<html><head><title>Shop</title></head></html>", {})
    with django_capture_on_commit_callbacks(execute=True):  # the queued check runs (eager Celery)
        owner_client.post(f"/enamad/panel/business/{draft.pk}/technical/", {"action": "check"})
    assert Business.objects.get(pk=draft.pk).domain_check_error
    html = owner_client.get(f"/enamad/panel/business/{draft.pk}/technical/").content.decode()
    assert html.count("سایت از راه HTTP پاسخ داد") == 1, html
    assert NOT_CONNECTED not in html
