"""N21, N23: a seal the monitor suspended can be kept suspended by staff — an upheld complaint
with suspension, or the manager's desk. The suspension becomes theirs: the monitor no longer
lifts it when the domain check comes back. Real local servers (the monitoring fixtures)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from enamad.complaints.services import complaint_file
from enamad.models import Business, BusinessStatus, Complaint, ComplaintStatus, Seal
from enamad.seals.control import seals_claim_due
from enamad.seals.services import business_reinstate, business_suspend
from ramis.common.models import AuditEntry, OutboxMessage
from tests.conftest import make_staff
from tests.enamad.conftest import staff_client
from tests.enamad.seals import test_monitoring
from tests.enamad.seals.test_monitoring import check, home

# The local servers and a sealed shop on them, as in test_monitoring.
pki, net, sealed = test_monitoring.pki, test_monitoring.net, test_monitoring.sealed

pytestmark = pytest.mark.django_db


def suspend_by_monitor(seal, net):
    """The meta tag disappears and stays away past the grace period: the monitor suspends."""
    plain = (200, b"<html><head><title>shop</title></head></html>", {})
    for site in [net["http"], *net["tls"].values()]:
        site.routes["/"] = plain
    start = timezone.now()
    assert check(seal) == []  # one failed check is not acted on (ENAMAD_MONITOR_FAILURES = 2)
    assert check(seal) == ["enamad.seal.domain_lapsed"]
    with time_machine.travel(start + dt.timedelta(days=8), tick=True):
        assert check(seal) == ["enamad.seal.suspended"]
    assert seal.suspended_by_monitor
    assert Business.objects.get(pk=seal.business_id).status == BusinessStatus.SUSPENDED


def restore_tag(seal, net):
    token = Business.objects.get(pk=seal.business_id).verification_token
    for site in [net["http"], *net["tls"].values()]:
        site.routes["/"] = (200, home(token), {})


def test_an_upheld_complaint_keeps_a_monitor_suspended_seal_suspended(sealed, net, enamad_expert):
    suspend_by_monitor(sealed, net)
    complaint = complaint_file(seal_id=sealed.pk, data={
        "complaint_type": "delay", "payment_reference": "987", "description": "دیر رسید و پاسخی ندادند.",
        "contact_name": "مریم", "contact_mobile": "09131234567"})
    staff = staff_client(Client(), enamad_expert)
    response = staff.post(f"/enamad/staff/complaints/{complaint.pk}/",
                          {"outcome": "upheld", "note": "فروشنده کالا را نفرستاده است.", "suspend_seal": "on"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.UPHELD and complaint.seal_suspended
    sealed.refresh_from_db()
    assert not sealed.suspended_by_monitor
    entry = AuditEntry.objects.get(event="enamad.seal.suspension_taken_over")
    assert (entry.actor, entry.old, entry.new) == (enamad_expert, "monitor", "staff")
    assert entry.extra == {"complaint": complaint.tracking_code}
    assert OutboxMessage.objects.filter(channel="sms", to="09121112233", template="enamad_status",
                                        body__contains="به تصمیم کارشناس").exists()
    # the holder puts the tag back: the monitor no longer lifts the expert's suspension
    restore_tag(sealed, net)
    assert sealed.pk not in seals_claim_due(100)
    assert check(sealed) == []
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.SUSPENDED
    assert not AuditEntry.objects.filter(event="enamad.seal.reinstated").exists()


def test_the_manager_keeps_a_monitor_suspended_seal_suspended_from_the_desk(sealed, net, enamad_manager):
    suspend_by_monitor(sealed, net)
    staff = staff_client(Client(), enamad_manager)
    url = f"/enamad/staff/business/{sealed.business_id}/"
    page = staff.get(url).content.decode()
    assert 'id="take-over"' in page and "ادامه تعلیق" in page
    staff.post(f"{url}suspend/", {"reason": "فروش کالای قاچاق"})
    sealed.refresh_from_db()
    assert not sealed.suspended_by_monitor
    business = Business.objects.get(pk=sealed.business_id)
    assert business.status == BusinessStatus.SUSPENDED and business.last_reason == "فروش کالای قاچاق"
    entry = AuditEntry.objects.get(event="enamad.seal.suspension_taken_over")
    assert entry.actor == enamad_manager and entry.reason == "فروش کالای قاچاق"
    assert 'id="take-over"' not in staff.get(url).content.decode()
    restore_tag(sealed, net)
    assert check(sealed) == []
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.SUSPENDED
    # only the manager lifts it now
    business_reinstate(business_id=sealed.business_id, actor=enamad_manager)
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED


def test_taking_over_needs_the_suspension_permission(sealed, net):
    suspend_by_monitor(sealed, net)
    clerk = make_staff("ticketonly", perms=["enamad.answer_ticket"], totp=False)
    with pytest.raises(PermissionDenied):
        business_suspend(business_id=sealed.business_id, actor=clerk, reason="x")
    assert Seal.objects.get(pk=sealed.pk).suspended_by_monitor
    assert not Complaint.objects.exists()
