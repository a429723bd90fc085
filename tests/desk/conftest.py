"""Shared fixtures for the office desk: clients for the personas, requests walked to the visit,
and applicant tokens on the test session's SoftHSM (labels are unique: the token store outlives
each test's database)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from tests.conftest import ca_ready, login_staff, make_staff
from tests.requests.conftest import advance, catalogue, make_draft  # noqa: F401 - fixtures re-exported

TOKEN_PIN = "246810"
SO_PIN = "13579135"


@pytest.fixture
def clerk_client(clerk):
    return login_staff(Client(), clerk)


@pytest.fixture
def other_clerk_client(other_office_clerk):
    return login_staff(Client(), other_office_clerk)


@pytest.fixture
def reviewer(db):
    """A staff user (TOTP) in the "SEO reviewers" group that ``manage.py reviewer_group`` makes."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("reviewer_group", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = make_staff("seo-reviewer")
    user.groups.add(Group.objects.get(name="SEO reviewers"))
    return user


@pytest.fixture
def reviewer_client(reviewer):
    return login_staff(Client(), reviewer)


@pytest.fixture
def plain_staff_client(db):
    """Staff with TOTP but no office: not a clerk."""
    return login_staff(Client(), make_staff("auditor"))


def new_token_label() -> str:
    return f"app-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def applicant_token(db):
    """A fresh SoftHSM token, as if the applicant brought it: (serial, label, PIN)."""
    from tokens.conf import get_manager

    info = get_manager().init_token(new_token_label(), SO_PIN, TOKEN_PIN)
    return info


@pytest.fixture
def ca(db):
    ca_ready()


@pytest.fixture
def pkilint_refuses(monkeypatch):
    """A signature profile that pkilint refuses (keyCertSign on an end-entity): the CA signs nothing."""
    import dataclasses

    from ramis.ca import profiles

    broken = dataclasses.replace(profiles.get_profile("signature"),
                                 key_usage=frozenset({"digital_signature", "key_cert_sign"}))
    monkeypatch.setitem(profiles.PROFILES, "signature", broken)


@pytest.fixture
def awaiting_issuance(applicant_person, office, clerk, catalogue):  # noqa: F811
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "awaiting_issuance", clerk=clerk)


def identity_ok(req, clerk, **overrides):
    from ramis.desk import services

    facts = services.IdentityFacts(national_card_seen=True, second_document="birth_certificate", photo_matches=True,
                                   presenter="owner")
    for name, value in overrides.items():
        setattr(facts, name, value)
    return services.identity_check_record(request_id=req.pk, actor=clerk, facts=facts)


def attorney_ok(req, clerk):
    """A passed identity check of an attorney with a notarised power of attorney and its scan."""
    import datetime as dt

    from ramis.desk import services
    from tests.requests.conftest import pdf_upload

    facts = services.IdentityFacts(national_card_seen=True, second_document="birth_certificate", photo_matches=True,
                                   presenter="attorney", attorney_name="مریم احمدی",
                                   attorney_national_code="0013542419", power_kind="notarised", power_number="12345",
                                   power_date=dt.date(2024, 4, 3), power_notary="دفترخانه ۱۲ تهران")
    return services.identity_check_record(request_id=req.pk, actor=clerk, facts=facts,
                                          power_file=pdf_upload("power.pdf"))
