"""Issuing desks (issue 5): workstations with their agents' sealed secrets, managed in the admin
and by ``manage.py workstation``; the clerk's choice of desk (own office, active only); the
agent's health on the issue page; and a bought token its vendor initialised, wiped and
re-initialised from the issue page with its SO PIN (in-process here; through the agent in
test_agent.py)."""

from __future__ import annotations

import io
import socket
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from ramis.common.models import AuditEntry
from ramis.desk import services
from ramis.desk.models import IssuanceAttempt, Workstation
from ramis.requests.models import Certificate, CertificateRequest
from tests.conftest import login_staff
from tests.requests.conftest import advance, make_draft
from tokens import TokenError, WrongPin
from tokens.conf import get_manager

from .conftest import identity_ok

VENDOR_SO_PIN = "87654321"
VENDOR_PIN = "111111"


def _dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def desk(office):
    ws, secret = services.workstation_add(actor=None, office_id=office.pk, name="desk 1", agent_url=_dead_url())
    ws.plain_secret = secret
    return ws


@pytest.fixture
def other_desk(other_office):
    ws, _ = services.workstation_add(actor=None, office_id=other_office.pk, name="desk 1", agent_url=_dead_url())
    return ws


# --- the secret: made by the server, shown once, stored sealed -------------------------------------------


def test_the_secret_is_sealed_bound_to_its_row_and_to_the_sealing_key(desk, other_desk, settings):
    secret = desk.plain_secret
    assert len(secret) == 64
    row = Workstation.objects.get(pk=desk.pk)
    assert secret not in row.secret_sealed and row.secret_sealed.startswith("v1:")
    assert row.secret() == secret.encode()
    # copied onto another workstation's row, it does not open
    Workstation.objects.filter(pk=other_desk.pk).update(secret_sealed=row.secret_sealed)
    with pytest.raises(TokenError) as exc:
        Workstation.objects.get(pk=other_desk.pk).secret()
    assert "rotate-secret" in exc.value.message_fa
    # with another sealing key (the database alone), it does not open either
    settings.OFFICE_AGENT_SEALING_KEY = "another-key-" + "k" * 40
    with pytest.raises(TokenError):
        row.secret()
    settings.OFFICE_AGENT_SEALING_KEY = ""
    # rotation: a new secret, the old one gone, audited
    new = services.workstation_rotate_secret(actor=None, workstation_id=desk.pk)
    assert new != secret and Workstation.objects.get(pk=desk.pk).secret() == new.encode()
    events = list(AuditEntry.objects.for_object(desk).values_list("event", flat=True))
    assert events == ["workstation.added", "workstation.secret_rotated"]
    assert not any(secret in str(e.extra) or new in str(e.extra) for e in AuditEntry.objects.for_object(desk))


def test_bad_agent_urls_and_duplicate_names_are_refused(office, desk):
    for url, word in (("http://10.0.0.5:8765", "https"), ("not a url", "https://")):
        with pytest.raises(services.DeskError) as exc:
            services.workstation_add(actor=None, office_id=office.pk, name="desk 9", agent_url=url)
        assert exc.value.code == "agent_url" and word in exc.value.message
    with pytest.raises(services.DeskError, match="نام"):
        services.workstation_add(actor=None, office_id=office.pk, name="desk 1", agent_url="https://a.lan:8765")
    assert Workstation.objects.count() == 1


def test_only_reviewers_manage_workstations(clerk, office):
    with pytest.raises(PermissionDenied):
        services.workstation_add(actor=clerk, office_id=office.pk, name="desk 2", agent_url="https://a.lan:8765")
    assert not Workstation.objects.exists()


def test_the_reviewer_adds_a_workstation_in_the_admin_and_sees_its_secret_once(reviewer, office):
    client = login_staff(Client(), reviewer)
    response = client.post("/admin/desk/workstation/add/", {
        "office": office.pk, "name": "desk 2", "agent_url": "https://desk-teh02.office.lan:8765", "is_active": "on"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    ws = Workstation.objects.get(name="desk 2")
    html = response.content.decode()
    secret = ws.secret().decode()
    assert f'<pre dir="ltr" id="workstation-secret">{secret}</pre>' in html
    assert AuditEntry.objects.for_object(ws).get(event="workstation.added").actor == reviewer
    # never again: not on its page, not in the list
    change = reverse("admin:desk_workstation_change", args=[ws.pk])
    assert secret not in client.get(change).content.decode()
    assert secret not in client.get("/admin/desk/workstation/").content.decode()
    # a new secret from its page (POST only), shown once; the old one no longer opens
    rotate = reverse("admin:desk_workstation_rotate", args=[ws.pk])
    assert client.get(rotate).status_code == 405
    html = client.post(rotate).content.decode()
    new = Workstation.objects.get(pk=ws.pk).secret().decode()
    assert new != secret and new in html
    # deactivating through the form is the service's change, audited
    client.post(change, {"name": "desk 2", "agent_url": "https://desk-teh02.office.lan:8765"})
    assert not Workstation.objects.get(pk=ws.pk).is_active
    assert AuditEntry.objects.for_object(ws).filter(event="workstation.disabled", new="inactive").exists()
    # a URL the agent would refuse is a Persian error next to the field
    response = client.post("/admin/desk/workstation/add/", {
        "office": office.pk, "name": "desk 3", "agent_url": "http://10.0.0.5:8765"})
    assert response.status_code == 200 and "باید https باشد" in response.content.decode()
    assert not Workstation.objects.filter(name="desk 3").exists()


def test_the_workstation_command(office, capsys):
    out = io.StringIO()
    call_command("workstation", "add", "--office", office.code, "--name", "desk 4", "--url",
                 "https://desk-teh04.office.lan:8765", stdout=out)
    ws = Workstation.objects.get(name="desk 4")
    lines = out.getvalue().splitlines()
    assert lines[-1] == ws.secret().decode()
    out = io.StringIO()
    call_command("workstation", "list", stdout=out)
    assert "desk 4" in out.getvalue() and ws.secret().decode() not in out.getvalue()
    call_command("workstation", "disable", str(ws.pk), stdout=io.StringIO())
    assert not Workstation.objects.get(pk=ws.pk).is_active
    out = io.StringIO()
    call_command("workstation", "rotate-secret", str(ws.pk), stdout=out)
    assert out.getvalue().splitlines()[-1] == Workstation.objects.get(pk=ws.pk).secret().decode()
    with pytest.raises(CommandError, match="no office with code 'XXX'"):
        call_command("workstation", "add", "--office", "XXX", "--name", "d", "--url", "https://a.lan:1")
    with pytest.raises(CommandError, match="https"):
        call_command("workstation", "add", "--office", office.code, "--name", "d", "--url", "http://10.1.1.1:1")
    # a dead agent: exit non-zero with one line, and the row records the error
    with pytest.raises(CommandError, match="does not answer"):
        call_command("workstation", "check", str(ws.pk))
    assert Workstation.objects.get(pk=ws.pk).last_error


def test_an_unknown_workstation_is_one_line(db):
    with pytest.raises(CommandError) as exc:
        call_command("workstation", "rotate-secret", "999999")
    assert str(exc.value) == "no workstation with id 999999 (see `manage.py workstation list`)"


# --- the clerk's desk: own office, active only -------------------------------------------------------------


@pytest.fixture
def via_agents(settings):
    settings.OFFICE_TOKEN_BACKEND = "ramis.desk.agent.AgentTokens"


def test_the_clerk_chooses_an_active_workstation_of_their_office(clerk, desk, other_desk, via_agents, office,
                                                                 awaiting_issuance):
    client = login_staff(Client(), clerk)
    identity_ok(awaiting_issuance, clerk)
    issue = reverse("desk:issue", args=[awaiting_issuance.pk])
    # none chosen: the issue page says so in Persian and links the choice
    html = client.get(issue).content.decode()
    assert 'id="choose-workstation-prompt"' in html and reverse("desk:workstation") in html
    # the choice page lists only the office's active desks
    inactive, _ = services.workstation_add(actor=None, office_id=office.pk, name="old desk", agent_url=_dead_url())
    services.workstation_update(actor=None, workstation_id=inactive.pk, is_active=False)
    html = client.get(reverse("desk:workstation")).content.decode()
    assert f'value="{desk.pk}"' in html and f'value="{other_desk.pk}"' not in html
    assert f'value="{inactive.pk}"' not in html
    # another office's desk, or an inactive one, is refused: nothing remembered
    for refused in (other_desk, inactive):
        response = client.post(reverse("desk:workstation"), {"workstation": refused.pk}, follow=True)
        assert "این باجه از باجه‌های فعال دفتر شما نیست" in response.content.decode()
        assert "desk_workstation" not in client.session
    assert not AuditEntry.objects.filter(event="workstation.chosen").exists()
    # its own: remembered in the session, audited, back to the issue page
    response = client.post(reverse("desk:workstation"), {"workstation": desk.pk, "next": issue})
    assert response["Location"] == issue and client.session["desk_workstation"] == desk.pk
    assert AuditEntry.objects.for_object(desk).get(event="workstation.chosen").actor == clerk
    # an off-site "next" is ignored
    response = client.post(reverse("desk:workstation"), {"workstation": desk.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("desk:queue")
    # a session naming another office's desk counts as none
    session = client.session
    session["desk_workstation"] = other_desk.pk
    session.save()
    assert 'id="choose-workstation-prompt"' in client.get(issue).content.decode()


def test_the_issue_page_says_when_the_agent_does_not_answer(clerk, desk, via_agents, awaiting_issuance):
    client = login_staff(Client(), clerk)
    identity_ok(awaiting_issuance, clerk)
    client.post(reverse("desk:workstation"), {"workstation": desk.pk})
    html = client.get(reverse("desk:issue", args=[awaiting_issuance.pk])).content.decode()
    assert 'id="agent-health" data-ok="0"' in html and "پاسخ نمی‌دهد" in html and "تاکنون پاسخی نداده" in html
    ws = Workstation.objects.get(pk=desk.pk)
    assert ws.last_checked_at and ws.last_seen_at is None and "token agent unavailable" in ws.last_error
    entry = AuditEntry.objects.for_object(ws).get(event="workstation.health")
    assert entry.new == "unreachable"


def test_issuing_at_another_offices_workstation_is_refused(ca, clerk, awaiting_issuance, other_desk, desk, via_agents,
                                                         applicant_token):
    identity_ok(awaiting_issuance, clerk)
    for ws_id, code in ((other_desk.pk, "workstation"), (None, "no_workstation")):
        with pytest.raises(services.DeskError) as exc:
            services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="246810",
                                            token_serial=applicant_token.serial, workstation_id=ws_id)
        assert exc.value.code == code
        entry = AuditEntry.objects.for_object(awaiting_issuance).filter(event="issuance.refused").latest("id")
        assert entry.extra["code"] == code
    assert not IssuanceAttempt.objects.exists()
    assert CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "awaiting_issuance"


# --- a bought token its vendor initialised: wipe and re-initialise (in-process) ------------------------------


@pytest.fixture
def vendor_token(db):
    """A bought token as it arrives: initialised by its vendor with the default SO PIN, one object on it."""
    manager = get_manager()
    info = manager.init_token(f"ePass-{uuid.uuid4().hex[:8]}", VENDOR_SO_PIN, VENDOR_PIN)
    token = manager.open(serial=info.serial, pin=VENDOR_PIN)
    token.generate_keypair("ec-p256", label="vendor-test-key")
    token.logout()
    return info


def _token_state(serial: str, pin: str):
    manager = get_manager()
    manager.rescan()
    info = manager.token_info(serial=serial)
    token = manager.open(serial=serial, pin=pin)
    objects = token.objects()
    token.logout()
    return info, objects


def test_a_vendor_initialised_token_is_wiped_and_reinitialised(ca, clerk, awaiting_issuance, vendor_token, settings):
    req = awaiting_issuance
    assert req.token_choice == "buy"
    identity_ok(req, clerk)
    # the wrong SO PIN: refused by the token before any wipe; nothing changed, audited
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=req.pk, actor=clerk, pin="975310", reinit_serial=vendor_token.serial,
                                        so_pin="00000000")
    assert exc.value.code == "wrong_so_pin" and "پاک نشد" in exc.value.message
    info, objects = _token_state(vendor_token.serial, VENDOR_PIN)
    assert info.label == vendor_token.label and [o.label for o in objects] == ["vendor-test-key"] * 2
    attempt = IssuanceAttempt.objects.get(request=req)
    assert attempt.status == "failed" and attempt.error_code == "wrong_so_pin"
    assert AuditEntry.objects.for_object(attempt).get(event="issuance.failed").extra["phase"] == "reinit"
    assert CertificateRequest.objects.get(pk=req.pk).status == "awaiting_issuance"

    # the vendor's SO PIN: wiped, the applicant's PIN, the certificate on it, the office's SO PIN
    certificate = services.request_issue_on_token(request_id=req.pk, actor=clerk, pin="975310",
                                                  reinit_serial=vendor_token.serial, so_pin=VENDOR_SO_PIN)
    assert certificate.token_serial == vendor_token.serial
    info, objects = _token_state(vendor_token.serial, "975310")
    assert info.label.startswith("RAMIS-0499370899-")
    assert "vendor-test-key" not in {o.label for o in objects}
    assert sorted(o.object_class for o in objects) == ["certificate", "private-key", "public-key"]
    attempt = IssuanceAttempt.objects.filter(request=req).latest("id")
    entry = AuditEntry.objects.for_object(attempt).get(event="issuance.token_reinitialised")
    assert entry.extra["old_label"] == vendor_token.label and entry.extra["new_label"] == info.label
    assert VENDOR_SO_PIN not in str(entry.extra) and "975310" not in str(entry.extra)
    # the SO PIN is now the office's: the vendor's is refused, the office's accepted
    manager = get_manager()
    with pytest.raises(WrongPin):
        manager.init_token("probe", VENDOR_SO_PIN, "222222", serial=vendor_token.serial)
    manager.init_token(f"probe-{uuid.uuid4().hex[:6]}", settings.OFFICE_TOKEN_SO_PIN, "222222",
                       serial=vendor_token.serial)


def test_only_a_bought_token_is_wiped_and_never_a_ca_token(ca, applicant_person, office, clerk, catalogue,
                                                           vendor_token, awaiting_issuance):
    reusing = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                      "awaiting_issuance", clerk=clerk)
    identity_ok(reusing, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=reusing.pk, actor=clerk, pin="975310",
                                        reinit_serial=vendor_token.serial, so_pin=VENDOR_SO_PIN)
    assert exc.value.code == "token_choice"
    from ramis.ca.selectors import system_token_serials

    identity_ok(awaiting_issuance, clerk)
    with pytest.raises(services.DeskError) as exc:
        services.request_issue_on_token(request_id=awaiting_issuance.pk, actor=clerk, pin="975310",
                                        reinit_serial=sorted(system_token_serials())[0], so_pin="12345678")
    assert exc.value.code == "system_token"
    assert _token_state(vendor_token.serial, VENDOR_PIN)[0].label == vendor_token.label
    assert not IssuanceAttempt.objects.exists() and not Certificate.objects.exists()


def test_the_issue_page_offers_the_wipe_for_a_bought_token_only(ca, clerk, clerk_client, awaiting_issuance,
                                                                vendor_token, applicant_person, office, catalogue):
    identity_ok(awaiting_issuance, clerk)
    url = reverse("desk:issue", args=[awaiting_issuance.pk])
    html = clerk_client.get(url).content.decode()
    assert f'value="wipe:{vendor_token.serial}"' in html and "پاک‌سازی و راه‌اندازی دوباره" in html
    assert 'name="so_pin"' in html
    # chosen without the SO PIN: a Persian error next to the field
    post = {"token": f"wipe:{vendor_token.serial}", "pin": "975310", "pin_again": "975310"}
    html = clerk_client.post(url, post).content.decode()
    assert 'id="so_pin-error"' in html and "رمز مدیر (SO PIN) فعلی آن را وارد کنید" in html
    # a wrong SO PIN: the token's refusal, next to the field; the token untouched
    html = clerk_client.post(url, {**post, "so_pin": "00000000"}).content.decode()
    assert 'id="so_pin-error"' in html and "رمز مدیر (SO PIN) توکن نادرست است" in html
    assert _token_state(vendor_token.serial, VENDOR_PIN)[0].label == vendor_token.label
    # the vendor's SO PIN: issued
    response = clerk_client.post(url, {**post, "so_pin": VENDOR_SO_PIN})
    assert response.status_code == 302 and CertificateRequest.objects.get(pk=awaiting_issuance.pk).status == "issued"
    # a reused-token request is never offered a wipe
    reusing = advance(make_draft(applicant_person, office, hardware="reuse", catalogue=catalogue),
                      "awaiting_issuance", clerk=clerk)
    identity_ok(reusing, clerk)
    html = clerk_client.get(reverse("desk:issue", args=[reusing.pk])).content.decode()
    assert "wipe:" not in html and 'name="so_pin"' not in html
