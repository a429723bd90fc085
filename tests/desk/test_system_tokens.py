"""The system's own tokens (the root and issuing CAs', the TSA's, the audit anchor's, by the labels
the settings give them or the serials a CA was recorded on) are never offered to a clerk as a
holder's token; one posted by hand is refused next to the field with nothing changed, and the
issuance service refuses one before it opens or wipes it."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from ramis.ca.models import CertificateAuthority
from ramis.common.models import AuditEntry
from ramis.desk import services
from ramis.desk.errors import NOT_FOR_HOLDERS
from ramis.desk.models import IssuanceAttempt
from ramis.requests.models import Certificate, CertificateRequest
from tests.requests.conftest import advance, make_draft
from tokens.conf import get_manager

from .conftest import SO_PIN, TOKEN_PIN, identity_ok

SETTING_KEYS = {"CA_ROOT": "token", "CA_ISSUING": "token", "CA_TSA": "token", "AUDIT_TOKEN": None}


def _name_as_system_token(settings, name: str, label: str) -> None:
    key = SETTING_KEYS[name]
    setattr(settings, name, {**getattr(django_settings, name), key: label} if key else label)


def _token(label: str):
    return next(t for t in get_manager().list_tokens() if t.label == label)


@pytest.fixture
def reusing(applicant_person, office, clerk, catalogue):
    """A request whose applicant brings their own token (picked from the list), with today's
    identity check passed."""
    req = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue), "awaiting_issuance",
                  clerk=clerk)
    identity_ok(req, clerk)
    return req


def _offered(client, req) -> list[str]:
    response = client.get(reverse("desk:issue", args=[req.pk]))
    assert response.status_code == 200
    return [value for value, _text in response.context["form"].fields["token"].choices]


def test_the_configured_ca_and_tsa_tokens_are_not_listed(ca, reusing, clerk_client):
    present = {t.label: t.serial for t in get_manager().list_tokens()}
    system = [django_settings.CA_ROOT["token"], django_settings.CA_ISSUING["token"], django_settings.CA_TSA["token"]]
    assert all(label in present for label in system), present  # `ca init` made them in this SoftHSM directory
    offered = _offered(clerk_client, reusing)
    html = clerk_client.get(reverse("desk:issue", args=[reusing.pk])).content.decode()
    for label in system:
        assert present[label] not in offered, label
        assert label not in html and present[label] not in html, label


@pytest.mark.parametrize("setting", sorted(SETTING_KEYS))
def test_a_token_is_hidden_once_the_settings_name_it_a_system_token(setting, ca, reusing, clerk_client,
                                                                   settings):
    """The rule reads the settings (not a list written in the code): the same token is offered
    while no setting names it, and hidden as soon as one does."""
    info = get_manager().init_token(f"sys-{uuid.uuid4().hex[:12]}", SO_PIN, TOKEN_PIN)
    assert info.serial in _offered(clerk_client, reusing)
    _name_as_system_token(settings, setting, info.label)
    assert info.serial not in _offered(clerk_client, reusing)
    html = clerk_client.get(reverse("desk:issue", args=[reusing.pk])).content.decode()
    assert info.label not in html


@pytest.mark.parametrize("by", ["serial", "label"])
def test_posting_a_system_token_by_hand_is_refused_next_to_the_field(by, ca, reusing, clerk_client):
    tsa = _token(django_settings.CA_TSA["token"])
    entries, attempts = AuditEntry.objects.count(), IssuanceAttempt.objects.count()
    url = reverse("desk:issue", args=[reusing.pk])
    response = clerk_client.post(url, {"token": getattr(tsa, by), "pin": django_settings.CA_TSA["pin"]})
    assert response.status_code == 200
    assert response.context["form"].errors["token"] == [NOT_FOR_HOLDERS]
    assert NOT_FOR_HOLDERS in response.content.decode()
    assert AuditEntry.objects.count() == entries and IssuanceAttempt.objects.count() == attempts
    assert CertificateRequest.objects.get(pk=reusing.pk).status == "awaiting_issuance"
    assert not Certificate.objects.filter(request=reusing).exists()


def test_wiping_a_system_token_is_refused_next_to_the_field(ca, awaiting_issuance, clerk, clerk_client):
    """A bought token: the present tokens are offered only to be wiped; a system token never is."""
    assert awaiting_issuance.token_choice == "buy"
    identity_ok(awaiting_issuance, clerk)
    tsa = _token(django_settings.CA_TSA["token"])
    url = reverse("desk:issue", args=[awaiting_issuance.pk])
    assert f"wipe:{tsa.serial}" not in _offered(clerk_client, awaiting_issuance)
    entries = AuditEntry.objects.count()
    response = clerk_client.post(url, {"token": f"wipe:{tsa.serial}", "pin": "975310", "pin_again": "975310",
                                       "so_pin": django_settings.CA_SO_PIN})
    assert response.context["form"].errors["token"] == [NOT_FOR_HOLDERS]
    assert AuditEntry.objects.count() == entries and not IssuanceAttempt.objects.exists()
    assert _token(django_settings.CA_TSA["token"]) == tsa  # same serial, label and flags: not wiped


def test_the_service_refuses_the_tsa_token_before_opening_it(ca, reusing, clerk):
    """Called directly (not through the page), the service checks the chosen token by the same
    rule: the TSA's token (whose serial no CA row records) is refused by its label, before any
    key is generated on it; the failed attempt is audited like every failure of issuance."""
    tsa = _token(django_settings.CA_TSA["token"])
    assert tsa.serial not in set(CertificateAuthority.objects.values_list("token_serial", flat=True))
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=reusing.pk, actor=clerk, pin=django_settings.CA_TSA["pin"],
                                        token_serial=tsa.serial)
    assert exc.value.code == "system_token" and exc.value.message == NOT_FOR_HOLDERS
    attempt = IssuanceAttempt.objects.get(request=reusing)
    assert attempt.status == "failed" and attempt.error_code == "system_token" and not attempt.key_id
    assert AuditEntry.objects.for_object(attempt).get(event="issuance.failed").extra["code"] == "system_token"
    assert CertificateRequest.objects.get(pk=reusing.pk).status == "awaiting_issuance"


def test_the_service_never_wipes_a_system_token_named_by_label(ca, awaiting_issuance, clerk):
    """The TSA's token, posted to be wiped and re-initialised: refused before the wipe."""
    identity_ok(awaiting_issuance, clerk)
    tsa = _token(django_settings.CA_TSA["token"])
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310",
                                        reinit_serial=tsa.serial, so_pin=django_settings.CA_SO_PIN)
    assert exc.value.code == "system_token"
    assert _token(django_settings.CA_TSA["token"]) == tsa
    assert not AuditEntry.objects.filter(event="issuance.token_reinitialised").exists()
    assert not Certificate.objects.filter(request=awaiting_issuance).exists()
