"""A Content-Security-Policy on every HTML page (django-csp): scripts and styles only from the
portal's own files. No template carries an inline script, style or event handler; every page
reachable without arguments in the URL map, as each persona (anonymous, applicant, clerk, e-Namad
holder and staff), and the pages of a request, a business and a seal, is served with the header
and nothing inline; their forms may only be sent to the portal (form-action), and, once the
national window's logout is configured, to that logout's origin."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import login_applicant, login_staff

TEMPLATE_DIRS = [settings.BASE_DIR / "templates"]
# Not browser pages: WeasyPrint's PDFs (their <style> never reaches a browser), e-mail and SMS text.
NOT_PAGES = ("pdf/", "notifications/")
# Pages that are not HTML, take too long for a walk, or leave the site.
SKIP = {"/guide.pdf", "/auth/logout/", "/auth/sso/", "/dev/outbox/"}


class InlineFinder(HTMLParser):
    """Whatever a strict policy blocks: <script> without src (data blocks aside), <style>,
    style="" and on…="" attributes, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        data = dict(attrs)
        if tag == "script" and "src" not in data and data.get("type") not in {"application/json",
                                                                               "application/ld+json"}:
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…> at line {self.getpos()[0]}")


def inline_in(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def template_files() -> list[Path]:
    files = []
    for directory in TEMPLATE_DIRS:
        for path in sorted(directory.rglob("*.html")):
            if not path.relative_to(directory).as_posix().startswith(NOT_PAGES):
                files.append(path)
    return files


def test_no_template_has_inline_script_or_style():
    found = {}
    for path in template_files():
        text = re.sub(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", path.read_text(), flags=re.S)
        problems = inline_in(text)
        if problems:
            found[str(path.relative_to(settings.BASE_DIR))] = problems
    assert found == {}
    assert len(template_files()) > 80  # the walk saw the templates


def test_the_finder_finds_what_the_policy_blocks():
    assert inline_in('<form onsubmit="return confirm(1)"></form>')
    assert inline_in('<ul style="padding:0"></ul>') and inline_in("<style>p{}</style>")
    assert inline_in("<script>alert(1)</script>") and inline_in('<a href="javascript:x()">')
    assert not inline_in('<script src="/static/js/x.js" defer></script><script type="application/json">{}</script>')


def test_charts_carry_no_style_attribute():
    from enamad.portal import charts

    for svg in (charts.bar_chart([("الف", 3)], title="t"), charts.column_chart([("ب", 2)], title="t"),
                charts.donut(0.5, title="t")):
        assert inline_in(str(svg)) == []


def assert_strict_policy(response, url):
    policy = response.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip())
    assert directives.get("script-src") == "'self'", (url, policy)
    assert directives.get("style-src") == "'self'", (url, policy)
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", url
    assert directives.get("form-action") == "'self'", (url, policy)  # an injected form posts nowhere else
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    assert inline_in(response.content.decode()) == [], url


def simple_paths() -> list[str]:
    """Every URL of the map that takes no argument."""
    paths = []

    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if "<" not in route and "(" not in route and "^" not in route and "\\" not in route:
                    paths.append("/" + route.lstrip("^").rstrip("$"))
    walk(get_resolver().url_patterns, "")
    return sorted(set(paths) - SKIP)


def html_pages(client, paths):
    seen = 0
    for path in paths:
        response = client.get(path)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            assert_strict_policy(response, path)
            seen += 1
        else:
            assert response.status_code != 500, path
    return seen


def test_anonymous_pages(client, db, office):
    assert html_pages(client, simple_paths()) >= 8


def test_applicant_pages(client, applicant_person, office):
    from tests.requests.conftest import make_draft

    login_applicant(client, applicant_person)
    req = make_draft(applicant_person, office, hardware="own", upload=False)
    paths = [*simple_paths(), f"/panel/requests/{req.pk}/"]
    paths += [f"/panel/requests/{req.pk}/step/{step}/" for step in ("details", "office", "token", "documents")]
    assert html_pages(client, paths) >= 5


def test_clerk_and_seo_pages(client, clerk, seo_reviewer):
    login_staff(client, clerk)
    assert html_pages(client, simple_paths()) >= 3
    client.logout()
    login_staff(client, seo_reviewer)
    assert html_pages(client, simple_paths()) >= 2


def test_enamad_pages(client, db, enamad_expert):
    from tests.enamad.conftest import make_account, make_business
    from tests.enamad.seals.test_seal import issue_seal

    account = make_account()
    business = make_business(account)
    seal = issue_seal(business)
    client.force_login(account.user)
    paths = [*simple_paths(), *(f"/enamad/panel/business/{business.pk}/{page}" for page in (
        "", "edit/", "technical/", "services/", "survey/", "contacts/", "activity/", "seal/", "signed-letter/"))]
    assert html_pages(client, paths) >= 5
    client.logout()
    public = [f"/trustseal/?id={seal.number}&Code={seal.code}",
              f"/trustseal/complaint/?id={seal.number}&Code={seal.code}", "/trustseal/complaint/status/"]
    assert html_pages(client, public) == 3
    login_staff(client, enamad_expert)
    assert html_pages(client, simple_paths()) >= 3


def test_the_seal_logo_keeps_its_own_policy_and_can_be_embedded(client, db):
    """The logo is an image other sites embed: its own policy (an SVG needs no script), no
    frame-ancestors from the page policy, readable cross-origin."""
    from tests.enamad.conftest import make_account, make_business
    from tests.enamad.seals.test_seal import issue_seal

    seal = issue_seal(make_business(make_account()))
    response = client.get(f"/trustseal/logo/?id={seal.number}&Code={seal.code}",
                          HTTP_REFERER="https://shop.test/")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Seal-Variant"].startswith("stars-")


@pytest.mark.parametrize("url", ["/", "/auth/login/"])
def test_report_uri_from_the_environment(client, db, settings, url):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
                                                       "report-uri": ["/csp-report/"]}}
    assert "report-uri /csp-report/" in client.get(url)["Content-Security-Policy"]


def test_form_action_lets_forms_reach_the_national_windows_logout(client, applicant_person, settings):
    """Logging out after a national-window login redirects the logout form's answer to the
    provider (certauth.views.logout_view): every page's form-action names that origin, and only it."""
    assert "form-action 'self';" in client.get("/auth/login/")["Content-Security-Policy"] + ";"
    settings.OIDC_OP_LOGOUT_ENDPOINT = "https://sso.example.ir:8443/session/end?x=1"
    login_applicant(client, applicant_person)
    for path in ("/", "/panel/"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "form-action 'self' https://sso.example.ir:8443;" in policy + ";", (path, policy)
    settings.OIDC_OP_LOGOUT_ENDPOINT = "javascript:alert(1)"  # not an http(s) origin: nothing added
    assert "form-action 'self';" in client.get("/panel/")["Content-Security-Policy"] + ";"
