"""R2: SEO reviewers approve, reject and end introductions through audited services."""

import pytest
from django.core.exceptions import PermissionDenied

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.registry import services
from ramis.registry.models import Role
from tests.conftest import STAFF_PASSWORD, make_person, make_role, make_staff, totp_now


@pytest.fixture
def pending_role(company):
    return make_role(make_person("0013542419", "09351112233"), company, status="pending")


def test_approve_is_audited(pending_role, seo_reviewer):
    role = services.role_approve(role_id=pending_role.pk, actor=seo_reviewer)
    assert role.status == Role.Status.APPROVED
    assert role.decided_by == seo_reviewer
    entry = AuditEntry.objects.get(event="role.approved")
    assert (entry.old, entry.new, entry.actor_id) == ("pending", "approved", seo_reviewer.pk)


def test_reject_needs_a_reason(pending_role, seo_reviewer):
    with pytest.raises(InvalidTransition):
        services.role_reject(role_id=pending_role.pk, actor=seo_reviewer, reason="  ")
    role = services.role_reject(role_id=pending_role.pk, actor=seo_reviewer, reason="نامه ناقص است")
    assert role.status == Role.Status.REJECTED
    assert AuditEntry.objects.get(event="role.rejected").reason == "نامه ناقص است"


def test_end_only_from_approved(pending_role, seo_reviewer):
    with pytest.raises(InvalidTransition):
        services.role_end(role_id=pending_role.pk, actor=seo_reviewer, reason="x")
    services.role_approve(role_id=pending_role.pk, actor=seo_reviewer)
    role = services.role_end(role_id=pending_role.pk, actor=seo_reviewer, reason="پایان همکاری")
    assert role.status == Role.Status.ENDED
    with pytest.raises(InvalidTransition):
        services.role_approve(role_id=pending_role.pk, actor=seo_reviewer)


def test_staff_without_permission_cannot_decide(pending_role, db):
    clerk = make_staff("someclerk")
    with pytest.raises(PermissionDenied):
        services.role_approve(role_id=pending_role.pk, actor=clerk)
    pending_role.refresh_from_db()
    assert pending_role.status == Role.Status.PENDING
    assert not AuditEntry.objects.exists()


def test_status_cannot_be_set_directly(pending_role):
    with pytest.raises(AttributeError):
        pending_role.status = Role.Status.APPROVED


def test_admin_action_approves_through_the_service(client, pending_role, seo_reviewer):
    from django.contrib.auth.models import Permission

    seo_reviewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_role", "change_role"]))
    client.post("/auth/staff/login/", {"username": "seo", "password": STAFF_PASSWORD,
                                       "otp_token": totp_now(seo_reviewer)})
    response = client.post("/admin/registry/role/", {"action": "approve_roles",
                                                     "_selected_action": [pending_role.pk]})
    assert response.status_code == 302
    pending_role.refresh_from_db()
    assert pending_role.status == Role.Status.APPROVED
    assert AuditEntry.objects.filter(event="role.approved", actor=seo_reviewer).exists()


def test_admin_reject_asks_for_a_reason(client, pending_role, seo_reviewer):
    from django.contrib.auth.models import Permission

    seo_reviewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_role", "change_role"]))
    client.post("/auth/staff/login/", {"username": "seo", "password": STAFF_PASSWORD,
                                       "otp_token": totp_now(seo_reviewer)})
    form = client.post("/admin/registry/role/", {"action": "reject_roles", "_selected_action": [pending_role.pk]})
    assert form.status_code == 200 and "دلیل" in form.content.decode()
    client.post("/admin/registry/role/", {"action": "reject_roles", "_selected_action": [pending_role.pk],
                                          "apply": "1", "reason": "سمت در روزنامه رسمی ثبت نشده"})
    pending_role.refresh_from_db()
    assert pending_role.status == Role.Status.REJECTED


def _admin_login(client, user):
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_role", "change_role", "view_person",
                                                                       "change_person"]))
    client.post("/auth/staff/login/", {"username": user.username, "password": STAFF_PASSWORD,
                                       "otp_token": totp_now(user)})


def test_reviewed_role_cannot_be_reassigned_in_the_admin(client, seo_reviewer, applicant_person, company):
    role = applicant_person.roles.get()
    other = make_person("0013542419", "09351112233")
    _admin_login(client, seo_reviewer)
    client.post(f"/admin/registry/role/{role.pk}/change/", {
        "person": other.pk, "company": company.pk, "position": "chairman", "has_signing_authority": "on",
        "letter_number": "X"})
    role.refresh_from_db()
    assert (role.person_id, role.position) == (applicant_person.pk, "ceo")


def test_person_edits_are_audited(client, seo_reviewer, applicant_person):
    _admin_login(client, seo_reviewer)
    data = {"national_code": applicant_person.national_code, "first_name": "علی", "last_name": "رضایی",
            "father_name": "حسن", "birth_date": "1986-07-03", "birth_certificate_number": "12345",
            "mobile": "09127776655", "email": ""}
    response = client.post(f"/admin/registry/person/{applicant_person.pk}/change/", data)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(event="person.edited")
    assert entry.extra["changes"]["mobile"] == ["09121234567", "09127776655"]


def test_introduction_letter_is_checked_and_served_to_reviewers_only(client, seo_reviewer, company, tmp_path,
                                                                      settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    person = make_person("0013542419", "09351112233")
    _admin_login(client, seo_reviewer)
    from django.contrib.auth.models import Permission

    seo_reviewer.user_permissions.add(*Permission.objects.filter(codename="add_role"))
    base = {"person": person.pk, "company": company.pk, "position": "ceo", "letter_number": "L-1"}
    html = SimpleUploadedFile("letter.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    response = client.post("/admin/registry/role/add/", {**base, "introduction_letter": html})
    assert response.status_code == 200 and "نوع فایل" in response.content.decode()
    pdf = SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    client.post("/admin/registry/role/add/", {**base, "introduction_letter": pdf})
    role = Role.objects.get(person=person)
    assert b"".join(client.get(f"/registry/introductions/{role.pk}/letter/").streaming_content).startswith(b"%PDF")
    from django.test import Client

    assert Client().get(f"/registry/introductions/{role.pk}/letter/").status_code == 302  # not staff: log in
