"""The e-Namad file's lifecycle strip on the owner's and the staff's file pages (issue 13)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from enamad.models import Business, BusinessStatus
from tests.enamad.conftest import staff_client


def _strip(html: str) -> tuple[list[str], str]:
    section = html[html.index('id="file-lifecycle"'):]
    section = section[:section.index("</div>")]
    done = re.findall(r'class="step done".*?<span class="label">(.*?)</span>', section, re.S)
    current = re.findall(r'class="step current".*?<span class="label">(.*?)</span>', section, re.S)
    return done, current[0] if current else ""


def _set(business, status):
    Business.objects.filter(pk=business.pk).update(status=status)  # test data: the walk is tested elsewhere


@pytest.mark.parametrize("status, done, current, note", [
    (BusinessStatus.UNDER_REVIEW, ["ارسال پرونده"], "بررسی کارشناس", False),
    (BusinessStatus.DEFICIENT, ["ارسال پرونده"], "بررسی کارشناس", True),
    (BusinessStatus.PHYSICAL_DOCUMENTS, ["ارسال پرونده", "بررسی کارشناس"], "مدارک فیزیکی", False),
    (BusinessStatus.MANAGER_REVIEW, ["ارسال پرونده", "بررسی کارشناس", "مدارک فیزیکی"], "بررسی مدیر", False),
    (BusinessStatus.APPROVED, ["ارسال پرونده", "بررسی کارشناس", "مدارک فیزیکی", "بررسی مدیر", "اعطای نماد"], "",
     False),
])
def test_the_owner_sees_where_the_file_is(owner_client, business, status, done, current, note):
    _set(business, status)
    html = owner_client.get(reverse("enamad:business", args=[business.pk])).content.decode()
    assert _strip(html) == (done, current)
    assert ('id="file-lifecycle-note"' in html) is note


def test_a_draft_keeps_its_form_steps_not_the_strip(owner_client, business):
    html = owner_client.get(reverse("enamad:business", args=[business.pk])).content.decode()
    assert 'id="file-lifecycle"' not in html


def test_the_manager_sees_the_strip_on_the_file(business, enamad_manager):
    _set(business, BusinessStatus.MANAGER_REVIEW)
    html = staff_client(Client(), enamad_manager).get(
        reverse("enamad:staff_business", args=[business.pk])).content.decode()
    assert _strip(html) == (["ارسال پرونده", "بررسی کارشناس", "مدارک فیزیکی"], "بررسی مدیر")


def test_the_owners_panel_says_the_next_step(owner_client, business):
    html = owner_client.get(reverse("enamad:panel")).content.decode()
    box = html[html.index('id="next-step"'):html.index("</section>", html.index('id="next-step"'))]
    assert reverse("enamad:business", args=[business.pk]) in box and "ارسال کنید" in box
    _set(business, BusinessStatus.UNDER_REVIEW)
    html = owner_client.get(reverse("enamad:panel")).content.decode()
    assert "کاری منتظر شما نیست" in html
    _set(business, BusinessStatus.DEFICIENT)
    html = owner_client.get(reverse("enamad:panel")).content.decode()
    assert "نقص اعلام‌شده را برطرف" in html
