"""The documents each certificate type asks for are data an SEO reviewer edits in the Django admin
(R6, ``DocumentRequirementAdmin``): a requirement added there is asked of a new draft at submit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ramis.common.models import AuditEntry
from ramis.requests import services
from ramis.requests.models import CertificateRequest, DocumentRequirement
from tests.conftest import login_staff, make_staff

from .conftest import make_draft, pdf_upload

ADD = reverse("admin:certrequests_documentrequirement_add")


@pytest.fixture
def reviewer_client(db):
    call_command("reviewer_group", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = make_staff("seo-reviewer")
    user.groups.add(Group.objects.get(name="SEO reviewers"))
    return login_staff(Client(), user), user


def _form(**changes) -> dict:
    data = {"code": "economic-card", "title": "کارت بازرگانی یا کد اقتصادی", "help_text": "", "applies_to": "signature",
            "required": "on", "on_renewal": "on", "order": "6", "is_active": "on"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_requirement_added_in_the_admin_is_asked_at_submit(reviewer_client, applicant_person, office, catalogue):
    client, reviewer = reviewer_client
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, _form())
    assert response.status_code == 302
    added = DocumentRequirement.objects.get(code="economic-card")
    entry = AuditEntry.objects.get(event="documentrequirement.added")
    assert (entry.actor_id, entry.target_id, entry.extra["changes"]["title"]) == (
        reviewer.pk, str(added.pk), [None, "کارت بازرگانی یا کد اقتصادی"])

    # a new signature draft with every document the catalogue asked before: the new one is missing
    req = make_draft(applicant_person, office, catalogue=catalogue, upload=False)
    for requirement in DocumentRequirement.objects.for_request(req).filter(required=True).exclude(pk=added.pk):
        services.document_upload(request_id=req.pk, requirement_id=requirement.pk, upload=pdf_upload(),
                                 actor=applicant_person.user)
    with pytest.raises(services.IncompleteRequest) as refused:
        services.request_submit(request_id=req.pk, actor=applicant_person.user)
    assert any("کارت بازرگانی یا کد اقتصادی" in item for item in refused.value.missing)
    assert CertificateRequest.objects.get(pk=req.pk).status == "draft"

    # the reviewer makes it optional: the same draft goes to the office
    change = reverse("admin:certrequests_documentrequirement_change", args=[added.pk])
    assert client.post(change, _form(required=None)).status_code == 302
    entry = AuditEntry.objects.get(event="documentrequirement.changed")
    assert entry.extra["changes"] == {"required": [True, False]}
    services.request_submit(request_id=req.pk, actor=applicant_person.user)
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"


def test_a_seal_only_requirement_is_not_asked_of_a_signature(reviewer_client, applicant_person, office, catalogue):
    client, _ = reviewer_client
    client.post(ADD, _form(code="seal-specimen", title="نمونه مهر شرکت", applies_to="seal"))
    req = make_draft(applicant_person, office, catalogue=catalogue)
    services.request_submit(request_id=req.pk, actor=applicant_person.user)
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"


def test_a_clerk_cannot_edit_the_requirements(clerk, catalogue):
    client = login_staff(Client(), clerk)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, _form()).status_code == 403
    assert not DocumentRequirement.objects.filter(code="economic-card").exists()
