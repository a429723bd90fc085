"""Issue 13's accessibility item: Deque's axe-core (installed by `make axe-core` into var/axe-core/,
served from this machine, never from a CDN) runs in Chromium on the main pages, opened as their
persona would open them, at desktop width and on a 390 px phone; no violation of impact "serious"
or "critical" may be found. A failure lists each page, width, rule id and the elements it hit.

Pages: the portal's home, the RAMIS login, the applicant's panel and a request page, the clerk's
desk queue, e-Namad's home, login and sign-up, the shop owner's panel, a seal page, its complaint
form and an invalid seal's page, and the e-Namad staff desk."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.conftest import login_applicant, login_staff
from tests.enamad.conftest import make_account, make_business
from tests.requests.conftest import advance, catalogue, make_draft  # noqa: F401

AXE = Path(__file__).resolve().parents[2] / "var" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")


def _violations(page, within: str | None = None) -> list[dict]:
    """axe-core's violations on the page as it stands, or in the part ``within`` selects (all of
    axe's default rules: WCAG 2.x A and AA and its best practices)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make axe-core` (`make test` does)")
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (within) => {
        const result = await axe.run(within ? {include: [within]} : document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.map(n => n.target.join(' ')).slice(0, 6)}));
    }""", within)


def _audit(page, shot, name: str, url: str, status: int = 200) -> list[str]:
    """Open ``url`` at each width, run axe; the blocking violations as lines of text. A screenshot
    of each width goes to var/screenshots/a11y-<name>-<width>.png."""
    found = []
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        response = page.goto(url)
        assert response is not None and response.status == status, f"{url}: {response and response.status}"
        page.wait_for_load_state("load")
        shot(page, f"a11y-{name}-{width}")
        for v in _violations(page):
            if v["impact"] in BLOCKING:
                found.append(f"{name} ({url}) at {width}: [{v['impact']}] {v['id']}: {v['help']} -> "
                             + "; ".join(v["targets"]))
    return found


def _report(found: list[str]) -> str:
    return "axe-core found these violations:\n" + "\n".join(found)


@pytest.fixture
def page(browser, live_server):
    """The e2e page, in a context that lets Playwright add axe's script to pages whose CSP
    (script-src 'self') would refuse an inline one; the pages' own CSP is tested elsewhere."""
    context = browser.new_context(locale="fa-IR", timezone_id="Asia/Tehran", viewport=WIDTHS["desktop"],
                                  base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _as(page, live_server, client):
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_public_pages_have_no_serious_violation(page, shot, live_server):
    found = []
    for name, url in [("home", "/"), ("ramis-login", "/auth/login/"), ("enamad-home", "/enamad/"),
                      ("enamad-login", "/enamad/login/"), ("enamad-signup", "/enamad/signup/"),
                      ("staff-login", "/auth/staff/login/"), ("faq", "/faq/"), ("offices", "/offices/"),
                      ("enamad-registry", "/enamad/registry/"), ("enamad-password-reset", "/enamad/password-reset/"),
                      ("enamad-resend-activation", "/enamad/activation/resend/")]:
        found += _audit(page, shot, name, url)
    found += _audit(page, shot, "invalid-seal", "/trustseal/?id=1&Code=bad", status=404)
    # a form with its errors shown: e-Namad's login after a wrong password
    page.goto("/enamad/login/")
    page.get_by_label("نام کاربری").fill("nobody")
    page.get_by_label("گذرواژه").fill("wrong-password")
    page.get_by_role("button", name="ورود").click()
    page.wait_for_load_state("load")
    expect(page.locator(".form-errors, .error, .msg-error").first).to_be_visible()
    shot(page, "a11y-enamad-login-error-390")
    found += [f"e-Namad login with errors: [{v['impact']}] {v['id']}: {v['help']} -> " + "; ".join(v["targets"])
              for v in _violations(page) if v["impact"] in BLOCKING]
    assert not found, _report(found)


@pytest.mark.django_db(transaction=True)
def test_keyboard_focus_is_visible(page, shot, live_server):
    """Tabbing through the login form on a phone: every control that takes the focus shows a ring
    of at least 2 px (the menu button in yellow on the header's colour, the form's in dark blue)."""
    page.set_viewport_size(WIDTHS["390"])
    page.goto("/auth/login/")
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        ring = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return {tag: e.tagName, name: e.name || e.textContent.trim().slice(0, 20),
                    style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
        if ring["tag"] == "BODY":  # past the last control: the focus left the page
            break
        seen.append(ring)
        assert ring["style"] != "none" and ring["width"] >= 2, f"no visible focus ring on {ring}"
    assert {"INPUT", "A"} <= {r["tag"] for r in seen}, seen
    page.reload()
    while page.evaluate("document.activeElement.name") != "national_code":
        page.keyboard.press("Tab")
    shot(page, "a11y-focus-ring-390")


@pytest.mark.django_db(transaction=True)
def test_the_open_date_picker_has_no_violation_and_closes_from_the_keyboard(page, shot, live_server):
    """The Jalali calendar of the login page's birth date box (static/js/jalali-picker.js), opened
    from its button by the keyboard with the focus on a day: axe finds nothing at all in the dialog
    (of any impact: its grid, named lists and buttons, colours) and nothing serious on the page;
    Escape closes it with the focus back on the button, and Tab goes on to the next field."""
    found = []
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.goto("/auth/login/")
        picker = page.get_by_role("dialog", name="انتخاب تاریخ")
        button = page.get_by_role("button", name="تقویم", exact=True)
        button.focus()
        page.keyboard.press("Enter")
        expect(picker).to_be_visible()
        expect(picker.locator("td[tabindex='0']")).to_be_focused()
        shot(page, f"a11y-date-picker-{width}")
        found += [f"date picker at {width}: [{v['impact']}] {v['id']}: {v['help']} -> " + "; ".join(v["targets"])
                  for v in _violations(page, ".jdp-dialog")]
        found += [f"login page with the date picker at {width}: [{v['impact']}] {v['id']}: {v['help']} -> "
                  + "; ".join(v["targets"]) for v in _violations(page) if v["impact"] in BLOCKING]
        page.keyboard.press("Escape")
        expect(picker).to_be_hidden()
        expect(button).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("شماره شناسنامه")).to_be_focused()
    assert not found, _report(found)


@pytest.mark.django_db(transaction=True)
def test_applicant_pages_have_no_serious_violation(page, shot, live_server, applicant_person, office, clerk,
                                                    catalogue):  # noqa: F811
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    draft = make_draft(applicant_person, office, catalogue=catalogue)
    _as(page, live_server, login_applicant(Client(), applicant_person))
    found = _audit(page, shot, "panel", "/panel/")
    found += _audit(page, shot, "request", f"/panel/requests/{req.pk}/")
    found += _audit(page, shot, "messages", "/panel/messages/")
    found += _audit(page, shot, "support", "/panel/support/")
    found += _audit(page, shot, "support-new", "/panel/support/new/")
    for step in ("details", "documents", "office", "token", "review"):
        found += _audit(page, shot, f"request-step-{step}", f"/panel/requests/{draft.pk}/step/{step}/")
    assert not found, _report(found)


@pytest.mark.django_db(transaction=True)
def test_clerk_desk_has_no_serious_violation(page, shot, live_server, applicant_person, office, clerk,
                                             catalogue):  # noqa: F811
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    _as(page, live_server, login_staff(Client(), clerk))
    found = _audit(page, shot, "office-queue", "/office/")
    found += _audit(page, shot, "office-review", f"/office/requests/{req.pk}/")
    found += _audit(page, shot, "office-day", "/office/day/")
    assert not found, _report(found)


@pytest.mark.django_db(transaction=True)
def test_shop_owner_seal_and_staff_pages_have_no_serious_violation(page, shot, live_server, enamad_expert):
    from tests.enamad.seals.test_seal import issue_seal

    account = make_account("a11y.owner")
    seal = issue_seal(make_business(account, domain="a11y-shop.example.ir"))
    client = Client()
    client.force_login(account.user)
    _as(page, live_server, client)
    found = _audit(page, shot, "enamad-panel", "/enamad/panel/")
    found += _audit(page, shot, "enamad-business", f"/enamad/panel/business/{seal.business.pk}/")
    found += _audit(page, shot, "enamad-ticket-new", "/enamad/panel/tickets/new/")
    found += _audit(page, shot, "enamad-messages", "/enamad/panel/messages/")
    page.context.clear_cookies()
    seal_query = f"?id={seal.number}&Code={seal.code}"
    found += _audit(page, shot, "seal", f"/trustseal/{seal_query}")
    found += _audit(page, shot, "complaint", f"/trustseal/complaint/{seal_query}")
    _as(page, live_server, login_staff(Client(), enamad_expert))
    found += _audit(page, shot, "enamad-staff", "/enamad/staff/")
    found += _audit(page, shot, "enamad-staff-business", f"/enamad/staff/business/{seal.business.pk}/")
    assert not found, _report(found)
