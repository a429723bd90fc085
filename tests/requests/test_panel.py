"""The panel (R5, R16, R17): roles with New request, requests with next step, certificates, offices."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ramis.requests.models import Certificate, CertificateRequest

from .conftest import advance, make_draft


def test_panel_needs_a_verified_applicant(client, applicant_person):
    response = client.get(reverse("requests:panel"))
    assert response.status_code == 302 and "/auth/login/" in response["Location"]


def test_panel_shows_roles_requests_certificates_and_offices(applicant_client, applicant_person, office, clerk,
                                                              catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    advance(req, "submitted")
    role = applicant_person.roles.get()
    Certificate.objects.create(serial="ab12", cert_type="signature", holder=applicant_person, role=role,
                               office=office, not_before=timezone.now(),
                               not_after=timezone.now() + dt.timedelta(days=400))
    html = applicant_client.get(reverse("requests:panel")).content.decode()
    assert reverse("requests:new", args=[role.pk]) in html  # New request per role
    assert req.reference in html and "ارسال‌شده به دفتر ثبت‌نام" in html
    assert "در صف بررسی دفتر ثبت‌نام" in html  # the next step in words
    assert "ab12" in html and "تمدید" in html and "ابطال" in html
    assert 'id="offices"' in html and office.address in html


def test_panel_lists_only_own_requests(applicant_client, other_applicant_person, office, catalogue):
    other = make_draft(other_applicant_person, office, catalogue=catalogue)
    html = applicant_client.get(reverse("requests:panel")).content.decode()
    assert other.reference not in html


@pytest.mark.django_db
def test_panel_query_count_is_fixed_with_50_requests(applicant_client, applicant_person, office, catalogue,
                                                      django_assert_num_queries):
    role = applicant_person.roles.get()
    CertificateRequest.objects.bulk_create([
        CertificateRequest(applicant=applicant_person, role=role, cert_type="signature", office=office)
        for _ in range(50)
    ])
    now = timezone.now()
    for i in range(5):
        Certificate.objects.create(serial=f"c{i}", cert_type="signature", holder=applicant_person, role=role,
                                   office=office, not_before=now, not_after=now + dt.timedelta(days=20 + 200 * i))
    # session, user, OTP device, person, requests, certificates, their open revocations, roles, offices:
    # 9, whatever the number of rows — and no session save within a minute of the last one (the first
    # request moved the idle clock: ramis/common/sessions.py)
    applicant_client.get(reverse("requests:panel"))
    with django_assert_num_queries(9):
        response = applicant_client.get(reverse("requests:panel"))
    table = response.content.decode().split('id="requests"', 1)[1]  # after the next-step box's own link
    assert table.count('href="/panel/requests/') == 50
