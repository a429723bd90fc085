"""N7: an abandoned verified claim must not block a domain forever. Managers release the claim
of a business still with its applicant (staff desk or admin action, audited, owner told); a
failed re-check of such a business releases it too, and a rival who proves control of the
domain triggers that re-check."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from enamad.businesses.services import (
    business_create,
    business_release_domain,
    business_verify_domain,
    domain_is_held,
)
from enamad.models import Business, BusinessStatus
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import make_staff
from tests.enamad.conftest import DOMAIN, make_business, staff_client

pytestmark = pytest.mark.django_db

REASON = "مالک دامنه با مدارک ثبت دامنه تیکت زده است؛ این پرونده یک سال رها شده."


def home_with(business) -> bytes:
    return f"<html><head>{business.verification_meta_tag()}</head></html>".encode()


@pytest.fixture
def held(other_account):
    """A draft of someone else that holds a verified claim on shop.test and was abandoned."""
    return make_business(other_account)


def test_manager_releases_an_abandoned_claim_from_the_staff_desk(client, account, held, enamad_manager):
    assert domain_is_held(DOMAIN)
    staff_client(client, enamad_manager)
    page = client.get(f"/enamad/staff/business/{held.pk}/").content.decode()
    assert 'id="release-domain"' in page
    response = client.post(f"/enamad/staff/business/{held.pk}/release_domain/", {"reason": REASON}, follow=True)
    assert "آزاد شد" in response.content.decode()
    held.refresh_from_db()
    assert held.domain_verified_at is None and held.domain_verified_method == "" and held.status == BusinessStatus.DRAFT
    entry = AuditEntry.objects.get(event="enamad.business.domain_released")
    assert (entry.actor, entry.reason, entry.old) == (enamad_manager, REASON, "meta")
    sms = OutboxMessage.objects.get(template="enamad_domain_released", channel="sms")
    assert sms.to == held.account.mobile and REASON in sms.body and DOMAIN in sms.body
    assert OutboxMessage.objects.filter(template="enamad_domain_released", channel="email").exists()
    # The real owner can now add and verify the domain.
    assert not domain_is_held(DOMAIN)
    business_create(account_id=account.pk, actor=account.user,
                    data={"domain": DOMAIN, "name": "فروشگاه اصلی", "address": "تهران",
                          "postal_code": "1316943115", "phone": "02188776655", "email": "a@shop.test"})


def test_release_is_refused_in_words(held, enamad_manager, enamad_expert):
    with pytest.raises(ValidationError):
        business_release_domain(business_id=held.pk, actor=enamad_manager, reason=" ")
    with pytest.raises(PermissionDenied):
        business_release_domain(business_id=held.pk, actor=enamad_expert, reason=REASON)
    Business.objects.filter(pk=held.pk).update(status=BusinessStatus.UNDER_REVIEW)
    with pytest.raises(InvalidTransition) as info:
        business_release_domain(business_id=held.pk, actor=enamad_manager, reason=REASON)
    assert "نزد متقاضی" in info.value.message
    Business.objects.filter(pk=held.pk).update(status=BusinessStatus.DRAFT, domain_verified_at=None)
    with pytest.raises(InvalidTransition):
        business_release_domain(business_id=held.pk, actor=enamad_manager, reason=REASON)
    assert not AuditEntry.objects.filter(event="enamad.business.domain_released").exists()


def test_staff_desk_refuses_an_expert(client, held, enamad_expert):
    staff_client(client, enamad_expert)
    response = client.post(f"/enamad/staff/business/{held.pk}/release_domain/", {"reason": REASON}, follow=True)
    assert "اجازه این کار را ندارید" in response.content.decode()
    assert Business.objects.get(pk=held.pk).domain_verified_at is not None


def test_admin_action_releases(client, held):
    manager = make_staff("boss", superuser=True)
    staff_client(client, manager)
    response = client.post("/admin/enamad/business/", {"action": "release_domain", "_selected_action": [held.pk]},
                           follow=True)
    assert "آزاد شد" in response.content.decode()
    assert Business.objects.get(pk=held.pk).domain_verified_at is None
    assert AuditEntry.objects.get(event="enamad.business.domain_released").actor == manager


def test_failed_recheck_of_an_unsent_business_releases_its_claim(local_net, held):
    local_net["http"].routes["/"] = (200, b"<html>no tag here</html>", {})
    result = business_verify_domain(business_id=held.pk)
    assert not result.ok
    held.refresh_from_db()
    assert held.domain_verified_at is None and held.domain_check_error
    entry = AuditEntry.objects.get(event="enamad.business.domain_verification_lost")
    assert entry.actor is None and entry.old == "meta"
    assert OutboxMessage.objects.filter(template="enamad_domain_released", to=held.account.mobile).exists()


def test_failed_recheck_of_a_sent_business_keeps_its_claim(local_net, held):
    Business.objects.filter(pk=held.pk).update(status=BusinessStatus.UNDER_REVIEW)
    local_net["http"].routes["/"] = (200, b"<html>no tag here</html>", {})
    assert not business_verify_domain(business_id=held.pk).ok
    assert Business.objects.get(pk=held.pk).domain_verified_at is not None
    assert not AuditEntry.objects.filter(event="enamad.business.domain_verification_lost").exists()


def test_a_rival_who_proves_control_triggers_the_recheck_of_the_idle_holder(local_net, account, held,
                                                                           django_capture_on_commit_callbacks):
    rival = make_business(account, ready=False)
    local_net["http"].routes["/"] = (200, home_with(rival), {})  # the real owner put their tag up
    with django_capture_on_commit_callbacks(execute=True):
        result = business_verify_domain(business_id=rival.pk)
    assert not result.ok and "دوباره بررسی می‌شود" in result.error
    assert Business.objects.get(pk=held.pk).domain_verified_at is None  # the holder no longer proves control
    assert AuditEntry.objects.filter(event="enamad.business.domain_verification_lost", target_id=str(held.pk)).exists()
    # The real owner tries again and gets the domain.
    assert business_verify_domain(business_id=rival.pk).ok
    assert Business.objects.get(pk=rival.pk).domain_verified_at is not None
