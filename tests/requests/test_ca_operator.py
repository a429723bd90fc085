"""A hold, release or revocation made at the CA by its operator (``manage.py ca``) reaches the
holder's certificate in the requests room (``ramis.ca.signals.certificate_status_changed``): the
panel and the desk show the status and why, the change is audited and the holder told by SMS."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ramis.ca.models import IssuedCertificate
from ramis.common.models import AuditEntry, OutboxMessage
from ramis.requests import services
from ramis.requests.models import Certificate, CertificateRequest
from tests.conftest import issue_test_certificate, last_sms, login_staff

from .conftest import advance, make_draft


@pytest.fixture
def certificate(applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)


def ca(*args: str) -> str:
    out = io.StringIO()
    call_command("ca", *args, stdout=out)
    return out.getvalue()


def panel_row(client, certificate) -> str:
    html = client.get(reverse("requests:panel")).content.decode()
    return html.split(f'>{certificate.serial}</a>')[1].split("</tr>")[0]  # the row after the serial's link


def desk_status(clerk, certificate) -> str:
    html = login_staff(Client(), clerk).get(reverse("desk:certificate", args=[certificate.pk])).content.decode()
    return html.split("<dt>وضعیت</dt>")[1].split("</dd>")[0]


def ours(event: str, certificate) -> AuditEntry:
    return AuditEntry.objects.get(event=event, target_type="certrequests.certificate", target_id=str(certificate.pk))


def test_hold_then_release_at_the_ca_show_in_the_panel_and_the_desk(applicant_client, applicant_person, clerk,
                                                                     certificate):
    assert "held" in ca("hold", "--serial", certificate.serial, "--reason", "بررسی سوءاستفاده از امضا")
    held = Certificate.objects.get(pk=certificate.pk)
    assert (held.status, held.ca_note) == ("on_hold", "بررسی سوءاستفاده از امضا") and held.held_at
    entry = ours("certificate.held", held)
    assert (entry.old, entry.new, entry.actor_id, entry.reason) == ("active", "on_hold", None,
                                                                    "بررسی سوءاستفاده از امضا")
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "certificate_hold" and "تعلیق" in sms.body and "بررسی سوءاستفاده" in sms.body
    row = panel_row(applicant_client, certificate)
    assert "معلق" in row and "تعلیق در مرجع صدور گواهی: بررسی سوءاستفاده از امضا" in row
    assert reverse("requests:renew", args=[certificate.pk]) not in row  # nothing to renew while held,
    assert reverse("requests:revoke", args=[certificate.pk]) in row  # but a lost token is still revoked
    desk = desk_status(clerk, certificate)
    assert "معلق" in desk and "بررسی سوءاستفاده از امضا" in desk

    assert "released" in ca("release", "--serial", certificate.serial, "--reason", "بررسی شد؛ مشکلی نبود")
    released = Certificate.objects.get(pk=certificate.pk)
    assert (released.status, released.held_at) == ("active", None)
    entry = ours("certificate.released", released)
    assert (entry.old, entry.new, entry.reason) == ("on_hold", "active", "بررسی شد؛ مشکلی نبود")
    assert last_sms(applicant_person.mobile).template == "certificate_release"
    row = panel_row(applicant_client, certificate)
    assert "معتبر" in row and "status-why" not in row and reverse("requests:renew", args=[certificate.pk]) in row
    assert "معتبر" in desk_status(clerk, certificate)


def test_revocation_at_the_ca_shows_with_its_reason(applicant_client, applicant_person, clerk, certificate):
    renewal = services.renewal_start(certificate_id=certificate.pk, actor=applicant_person.user)
    ca("revoke", "--serial", certificate.serial, "--reason", "privilege_withdrawn")
    revoked = Certificate.objects.get(pk=certificate.pk)
    assert (revoked.status, revoked.revocation_reason) == ("revoked", "privilege_withdrawn") and revoked.revoked_at
    entry = ours("certificate.revoked", revoked)
    assert (entry.old, entry.new, entry.actor_id, entry.extra["ca"]) == ("active", "revoked", None, "by_ca")
    sms = last_sms(applicant_person.mobile)
    assert sms.template == "certificate_revoked" and "سلب اختیار امضا" in sms.body
    assert CertificateRequest.objects.get(pk=renewal.pk).status == "cancelled"  # as a revocation made here
    assert "ابطال‌شده" in panel_row(applicant_client, certificate)
    assert "سلب اختیار امضا" in panel_row(applicant_client, certificate)
    assert "سلب اختیار امضا" in desk_status(clerk, certificate)


def test_the_office_revokes_a_held_certificate_once(applicant_person, clerk, certificate):
    ca("hold", "--serial", certificate.serial)
    services.certificate_revoke(certificate_id=certificate.pk, actor=clerk, reason="key_compromise")
    revoked = Certificate.objects.get(pk=certificate.pk)
    assert (revoked.status, revoked.held_at, revoked.ca_note) == ("revoked", None, "")
    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).status == "revoked"
    # the CA's signal found this record revoked already: one audit row and one SMS, not two
    assert AuditEntry.objects.filter(event="certificate.revoked", target_type="certrequests.certificate").count() == 1
    assert OutboxMessage.objects.filter(template="certificate_revoked").count() == 1


def test_the_holder_revokes_a_held_certificate_whose_token_is_lost(applicant_person, certificate):
    ca("hold", "--serial", certificate.serial)
    outcome = services.revocation_request(certificate_id=certificate.pk, actor=applicant_person.user,
                                          reason="key_compromise", note="توکن گم شد")
    assert outcome.immediate
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"
    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).revocation_reason == "key_compromise"


def test_a_held_certificate_still_expires(applicant_person, certificate):
    ca("hold", "--serial", certificate.serial)
    assert services.certificates_expire(now=certificate.not_after) == 1
    assert Certificate.objects.get(pk=certificate.pk).status == "expired"


def test_a_certificate_the_requests_room_does_not_know_is_left_to_the_ca(db):
    issued = issue_test_certificate("signature")
    before = (AuditEntry.objects.filter(target_type="certrequests.certificate").count(), OutboxMessage.objects.count())
    ca("hold", "--serial", issued.serial_hex)
    assert IssuedCertificate.objects.get(pk=issued.pk).status == "on_hold"
    after = (AuditEntry.objects.filter(target_type="certrequests.certificate").count(), OutboxMessage.objects.count())
    assert after == before


def test_the_ca_revokes_a_superseded_certificate(applicant_person, clerk, catalogue, certificate):
    from .test_certificates import _renew_onto_a_new_token

    new = _renew_onto_a_new_token(applicant_person, certificate, clerk, catalogue)
    sms_before = OutboxMessage.objects.filter(template="certificate_revoked").count()
    ca("revoke", "--serial", certificate.serial, "--reason", "key_compromise")
    revoked = Certificate.objects.get(pk=certificate.pk)
    assert (revoked.status, revoked.revocation_reason) == ("revoked", "key_compromise")
    assert IssuedCertificate.objects.get(serial_hex=certificate.serial).status == "revoked"
    entry = ours("certificate.revoked", revoked)  # exactly one row here
    assert (entry.old, entry.new, entry.extra["ca"]) == ("superseded", "revoked", "by_ca")
    assert OutboxMessage.objects.filter(template="certificate_revoked").count() == sms_before + 1
    assert last_sms(applicant_person.mobile).template == "certificate_revoked"
    assert Certificate.objects.get(pk=new.pk).status == "active"


def test_ending_a_role_revokes_its_held_certificate(applicant_person, seo_reviewer, certificate):
    ca("hold", "--serial", certificate.serial, "--reason", "بررسی")
    revoked = services.role_end_with_revocation(role_id=certificate.role_id, actor=seo_reviewer, reason="پایان سمت")
    assert [c.pk for c in revoked] == [certificate.pk]
    cert = Certificate.objects.get(pk=certificate.pk)
    assert (cert.status, cert.revocation_reason, cert.held_at) == ("revoked", "affiliation_changed", None)
    ca_row = IssuedCertificate.objects.get(serial_hex=certificate.serial)
    assert (ca_row.status, ca_row.revocation_reason) == ("revoked", "affiliation_changed")
    entry = ours("certificate.revoked", cert)
    assert (entry.old, entry.new, entry.actor_id) == ("on_hold", "revoked", seo_reviewer.pk)


def test_the_desk_offers_to_revoke_a_held_certificate(clerk, certificate):
    ca("hold", "--serial", certificate.serial)
    page = login_staff(Client(), clerk).get(reverse("desk:certificate", args=[certificate.pk])).content.decode()
    assert 'id="revoke"' in page and "معلق" in page
