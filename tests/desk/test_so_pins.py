"""Each office its own SO PIN for the tokens it initialises (``OFFICE_TOKEN_SO_PINS``), so one
office's workstations and agents never hold another's; the single ``OFFICE_TOKEN_SO_PIN`` is a
development fallback that production neither uses nor accepts (deploy checks desk.E001/E002)."""

from __future__ import annotations

import uuid

import pytest
from django.core.checks import run_checks

from ramis.common.models import AuditEntry
from ramis.desk import services, workstation
from ramis.desk.agent import AgentTokens
from ramis.desk.checks import token_so_pins_in_production
from ramis.desk.models import IssuanceAttempt
from ramis.requests.models import CertificateRequest
from tokens import WrongPin
from tokens.conf import get_manager

from .conftest import identity_ok

TEH_SO_PIN = "teh-SO-pin-41"
ISF_SO_PIN = "isf-SO-pin-73"
FALLBACK = "12345678"


@pytest.fixture
def per_office(settings):
    settings.OFFICE_TOKEN_SO_PINS = {"TEH01": TEH_SO_PIN, "ISF01": ISF_SO_PIN}
    settings.OFFICE_TOKEN_SO_PIN = FALLBACK


def assert_so_pin_is(serial: str, right: str, *wrong: str) -> None:
    """The token's SO PIN is ``right``: re-initialising it with any of ``wrong`` is refused."""
    manager = get_manager()
    manager.rescan()
    for pin in wrong:
        with pytest.raises(WrongPin):
            manager.init_token("probe", pin, "222222", serial=serial)
    manager.init_token(f"probe-{uuid.uuid4().hex[:6]}", right, "222222", serial=serial)


def test_a_new_token_gets_its_offices_so_pin(per_office, ca, awaiting_issuance, clerk):
    identity_ok(awaiting_issuance, clerk)
    certificate = services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310",
                                                  new_token=True)
    assert_so_pin_is(certificate.token_serial, TEH_SO_PIN, ISF_SO_PIN, FALLBACK)


def test_each_offices_backends_hold_only_their_own(per_office, office, other_office, settings):
    from ramis.offices.models import RegistrationOffice

    unlisted = RegistrationOffice.objects.create(code="MHD01", name="دفتر مشهد", city="مشهد", address="مشهد",
                                                 phone="05138001122")
    for backend_class in (workstation.InProcessTokens, AgentTokens):
        assert backend_class.for_office(office).so_pin == TEH_SO_PIN
        assert backend_class.for_office(other_office).so_pin == ISF_SO_PIN
        assert backend_class.for_office(unlisted).so_pin == FALLBACK  # development only
    settings.PRODUCTION = True
    for backend_class in (workstation.InProcessTokens, AgentTokens):
        assert backend_class.for_office(office).so_pin == TEH_SO_PIN
        assert backend_class.for_office(unlisted).so_pin == ""  # never the global one in production


def test_in_production_an_office_without_its_own_so_pin_initialises_no_token(ca, awaiting_issuance, clerk,
                                                                            settings):
    settings.PRODUCTION = True
    settings.OFFICE_TOKEN_SO_PINS = {"ISF01": ISF_SO_PIN}
    settings.OFFICE_TOKEN_SO_PIN = FALLBACK  # set by mistake: still not used
    identity_ok(awaiting_issuance, clerk)
    before = {t.serial for t in get_manager().list_tokens()}
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310", new_token=True)
    assert "رمز مدیر توکن (SO PIN) این دفتر تنظیم نشده است" in exc.value.message
    assert CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "awaiting_issuance"
    attempt = IssuanceAttempt.objects.get(request=awaiting_issuance)
    assert attempt.status == "failed" and AuditEntry.objects.for_object(attempt).filter(event="issuance.failed")
    get_manager().rescan()
    assert {t.serial for t in get_manager().list_tokens()} == before  # nothing initialised


def _ids(problems):
    return sorted(p.id for p in problems)


def test_deploy_check_refuses_the_global_so_pin_and_names_offices_without_one(settings, office, other_office):
    settings.OFFICE_TOKEN_SO_PIN = FALLBACK
    settings.OFFICE_TOKEN_SO_PINS = {}
    assert token_so_pins_in_production(None, databases=["default"]) == []  # development: the fallback is fine
    settings.PRODUCTION = True
    problems = token_so_pins_in_production(None, databases=["default"])
    assert _ids(problems) == ["desk.E001", "desk.E002"]
    assert "ISF01, TEH01" in problems[1].msg
    settings.OFFICE_TOKEN_SO_PIN = ""
    settings.OFFICE_TOKEN_SO_PINS = {"TEH01": TEH_SO_PIN}
    problems = token_so_pins_in_production(None, databases=["default"])
    assert _ids(problems) == ["desk.E002"] and "ISF01" in problems[0].msg and "TEH01" not in problems[0].msg
    settings.OFFICE_TOKEN_SO_PINS = {"TEH01": TEH_SO_PIN, "ISF01": ISF_SO_PIN}
    assert token_so_pins_in_production(None, databases=["default"]) == []
    # registered with the deploy checks
    settings.OFFICE_TOKEN_SO_PIN = FALLBACK
    assert "desk.E001" in _ids(run_checks(include_deployment_checks=True, tags=["security"]))
