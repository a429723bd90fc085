"""N7: the periodic check looks at every business with the applicant (draft or deficient) whose
domain is not verified and was entered or changed in the last week — not only at new drafts."""

import datetime as dt

import pytest
from django.utils import timezone

from enamad.businesses.services import business_update
from enamad.models import Business, BusinessStatus
from enamad.tasks import verify_pending_domains
from tests.enamad.conftest import DOMAIN, make_business

pytestmark = pytest.mark.django_db


def home_with(business) -> bytes:
    return f"<html><head>{business.verification_meta_tag()}</head></html>".encode()


def age(business, *, created_days: int = 0, changed_days: int = 0, **fields):
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(created_at=now - dt.timedelta(days=created_days),
                                                   domain_changed_at=now - dt.timedelta(days=changed_days), **fields)


def test_an_old_draft_whose_domain_just_changed_is_checked(local_net, account):
    business = make_business(account, domain="old.test", ready=False)
    age(business, created_days=60, changed_days=60)
    assert verify_pending_domains() == 0
    # The applicant moves the file to another domain: it is picked up again.
    business_update(business_id=business.pk, actor=account.user, data={"domain": DOMAIN})
    business.refresh_from_db()
    assert business.domain_changed_at > timezone.now() - dt.timedelta(minutes=1)
    local_net["http"].routes["/"] = (200, home_with(business), {})
    assert verify_pending_domains() == 1
    assert Business.objects.get(pk=business.pk).domain_verified_at is not None


def test_deficient_business_with_a_changed_domain_is_checked(local_net, account):
    business = make_business(account, ready=False)
    age(business, created_days=90, changed_days=1, status=BusinessStatus.DEFICIENT)
    local_net["http"].routes["/"] = (200, home_with(business), {})
    assert verify_pending_domains() == 1
    assert Business.objects.get(pk=business.pk).domain_checked_at is not None


@pytest.mark.parametrize(("status", "verified", "changed_days"), [
    (BusinessStatus.DRAFT, False, 8),           # changed too long ago
    (BusinessStatus.DRAFT, True, 0),            # already verified
    (BusinessStatus.UNDER_REVIEW, False, 0),    # with the expert
    (BusinessStatus.APPROVED, False, 0),
])
def test_not_picked(local_net, account, status, verified, changed_days):
    business = make_business(account, ready=False)
    age(business, changed_days=changed_days, status=status,
        domain_verified_at=timezone.now() if verified else None)
    assert verify_pending_domains() == 0
    assert Business.objects.get(pk=business.pk).domain_checked_at is None
