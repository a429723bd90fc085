"""STYLE 9: templates compare a business's status with ``BusinessStatus`` from the context,
never with a bare string; the pages still show what each status calls for."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from enamad.models import Business, BusinessStatus
from tests.enamad.conftest import make_business, staff_client

pytestmark = pytest.mark.django_db

BARE = re.compile(r"status\s*(==|!=)\s*[\"']")
CONVERTED = ["enamad/send.html", "enamad/_business_head.html", "enamad/staff/business.html", "enamad/business.html",
             "enamad/renew.html", "enamad/ticket.html", "enamad/complaint.html", "enamad/staff/complaint.html",
             "enamad/staff/ticket.html", "enamad/tickets.html", "enamad/complaints.html"]


@pytest.mark.parametrize("name", CONVERTED)
def test_no_bare_status_strings(name):
    text = (Path(settings.BASE_DIR) / "templates" / name).read_text()
    assert not BARE.search(text), BARE.search(text)


def test_pages_follow_the_status(owner_client, account, client):
    business = make_business(account, ready=False)
    base = f"/enamad/panel/business/{business.pk}"
    page = owner_client.get(f"{base}/").content.decode()
    assert f'href="{base}/send/"' in page and "ارسال پرونده جهت بررسی کارشناس" in page
    assert 'class="stepper"' in owner_client.get(f"{base}/technical/").content.decode()
    assert 'id="checklist"' in owner_client.get(f"{base}/send/").content.decode()

    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.DOCUMENTS_REJECTED, last_reason="امضا ندارد")
    page = owner_client.get(f"{base}/").content.decode()
    assert 'id="physical"' in page and f'action="{base}/documents-resent/"' in page
    assert "امضا ندارد" in page and 'class="stepper"' not in owner_client.get(f"{base}/technical/").content.decode()


def test_staff_desk_follows_the_status(client, account, enamad_manager):
    business = make_business(account)
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.MANAGER_REVIEW)
    staff_client(client, enamad_manager)
    page = client.get(f"/enamad/staff/business/{business.pk}/").content.decode()
    assert "تأیید نهایی و صدور نماد" in page
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.SUSPENDED)
    page = client.get(f"/enamad/staff/business/{business.pk}/").content.decode()
    assert "رفع تعلیق" in page and "ابطال نماد" in page
