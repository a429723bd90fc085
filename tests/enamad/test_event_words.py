"""Staff timelines in Persian words (issue 13 item 5): the expert's business page shows
«ارسال پرونده برای بررسی (پیش‌نویس ← …)», never ``enamad.business.sent (draft → under_review)``;
every audit event the code records has a Persian phrase (one map, ramis/common/event_words.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from enamad.businesses.services import business_send
from enamad.models import Business, BusinessStatus
from ramis.common import event_words
from tests.enamad.conftest import staff_client
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
# f-string events (their literal forms do not appear in the source as a whole)
COMPUTED = ["enamad.business.renewal_changes_applied", "enamad.business.renewal_changes_dropped",
            "enamad.business.approved", "enamad.business.deficient", "enamad.complaint.upheld",
            "enamad.complaint.dismissed", "enamad.phone.mobile_verified", "enamad.phone.landline_verified",
            "enamad.phone.business_phone_verified"]


def recorded_events() -> set[str]:
    """Every ``event="room.what"`` literal in the portal's code (a dotted name: an audit event)."""
    found: set[str] = set()
    for folder in ("ramis", "enamad", "certauth", "tokens"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            found |= set(re.findall(r'event\s*=\s*"([a-z_]+\.[a-z_.]+)"', text))
            for line in re.findall(r"_record\(.*", text):  # the rooms' own helpers: _record(actor, obj, "x.y", …)
                found |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', line))
    return found | set(COMPUTED)


def test_every_recorded_event_has_a_persian_phrase():
    events = recorded_events()
    assert len(events) > 100 and "enamad.business.sent" in events and "request.submitted" in events
    unnamed = sorted(e for e in events if event_words.phrase(e) == event_words.UNNAMED)
    assert unnamed == []
    assert all(not re.search(r"[a-z]{3}", event_words.phrase(e).replace("OCSP", "")) for e in events)


def test_admin_edits_and_unknown_events_still_read_in_persian():
    assert event_words.phrase("holiday.added", "offices.holiday") == "افزودن تعطیلی (مدیریت)"
    assert event_words.phrase("something.new") == event_words.UNNAMED
    assert event_words.status_word("enamad.business", "under_review") != "under_review"


def test_expert_reads_the_business_timeline_in_persian(account, business, enamad_expert):
    business_send(business_id=business.pk, actor=account.user)
    assert Business.objects.get(pk=business.pk).status == BusinessStatus.UNDER_REVIEW
    page = staff_client(Client(), enamad_expert).get(f"/enamad/staff/business/{business.pk}/").content.decode()
    timeline = page[page.index("رد ممیزی"):]
    assert "ارسال پرونده برای بررسی" in timeline
    draft, review = BusinessStatus.DRAFT.label, BusinessStatus.UNDER_REVIEW.label
    assert f"({draft} ← {review})" in timeline
    for raw in ("enamad.business", "under_review", "draft →", "→"):
        assert raw not in timeline, raw


def test_seal_code_page_separates_numbers_with_a_dash_not_a_middle_dot(owner_client, business):
    """«·» beside Persian digits reads as a Persian zero (۰): the facts line uses «–»."""
    seal = issue_seal(business)
    page = owner_client.get(f"/enamad/panel/business/{business.pk}/seal/").content.decode()
    facts = page[page.index('id="seal-facts"'):page.index("</p>", page.index('id="seal-facts"'))]
    assert "·" not in facts and facts.count(" – ") == 2
    number = str(seal.number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert f"<bdi>{number}</bdi>" in facts
