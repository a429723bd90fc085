"""Where an audit entry came from: the client's User-Agent and the request id of the log lines are
stored with the address, covered by the hash chain from now on (entries sealed before keep their
hashes), and shown to the staff who read the trail (issue 15)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from ramis.common import audit
from ramis.common.context import AuditContext
from ramis.common.models import AuditEntry
from ramis.registry.models import Role
from tests.common.test_audit_migration import old_entry_hash
from tests.conftest import login_staff, make_person, make_role, make_staff

TABLE = AuditEntry._meta.db_table
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sql(statement: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@pytest.fixture
def from_a_browser(company, seo_reviewer):
    """Three sealed entries: the first of the system (no context), the others from a request."""
    ctx = AuditContext(actor=seo_reviewer, ip="203.0.113.9", user_agent=FIREFOX, request_id="nginx-7f3a")
    audit.record(actor=None, target=company, event="test.system")
    audit.record(actor=seo_reviewer, target=company, event="test.one", ctx=ctx)
    audit.record(actor=seo_reviewer, target=company, event="test.two", ctx=ctx)
    audit.seal()
    return list(AuditEntry.objects.order_by("seq"))


def test_record_stores_the_user_agent_and_the_request_id(from_a_browser):
    system, one, _ = from_a_browser
    assert (one.ip, one.user_agent, one.request_id) == ("203.0.113.9", FIREFOX, "nginx-7f3a")
    assert (system.ip, system.user_agent, system.request_id) == (None, "", "")
    assert audit.verify_chain() == (3, [])


def test_record_cuts_what_does_not_fit_its_column(company):
    ctx = AuditContext(user_agent="U" * 500, request_id="r" * 200)
    entry = audit.record(actor=None, target=company, event="test.long", ctx=ctx)
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (len(entry.user_agent), len(entry.request_id)) == (300, 128)
    audit.seal()
    assert audit.verify_chain() == (1, [])


def test_an_entry_without_them_hashes_as_before_and_one_with_them_covers_them(from_a_browser):
    system, one, _ = from_a_browser
    assert system.entry_hash == old_entry_hash(system.__dict__)  # the old format, byte for byte
    assert one.entry_hash != old_entry_hash(one.__dict__)
    assert b'"ua":"Mozilla/5.0' in one.canonical() and b'"rid":"nginx-7f3a"' in one.canonical()


@pytest.mark.parametrize(("column", "value"), [
    ("user_agent", "curl/8.5.0"),  # another browser
    ("request_id", "nginx-0000"),  # another request
    ("user_agent", ""),  # blanked: the entry then looks like the old format, but its hash says otherwise
    ("request_id", ""),
])
def test_a_changed_user_agent_or_request_id_is_found_by_audit_verify(from_a_browser, column, value, capsys):
    one = from_a_browser[1]
    assert sql(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, one.pk]) == 1  # noqa: S608
    with pytest.raises(CommandError, match="audit trail broken: 1 problem"):
        call_command("audit", "verify")
    assert f"entry {one.seq} (id {one.pk}): content does not match its hash" in capsys.readouterr().out


def test_one_added_to_an_entry_sealed_without_them_is_found(from_a_browser):
    system = from_a_browser[0]
    sql(f"UPDATE {TABLE} SET user_agent = %s, request_id = %s WHERE id = %s",  # noqa: S608
        [FIREFOX, "nginx-7f3a", system.pk])
    count, problems = audit.verify_chain()
    assert count == 3 and problems == [f"entry 1 (id {system.pk}): content does not match its hash (the row was changed)"]


def test_an_entry_sealed_by_the_old_code_still_verifies_and_the_chain_goes_on(company, seo_reviewer):
    """Written as the code before migration 0004 wrote it: the hash of the payload without the two keys."""
    fields = {"created_at": dt_utc(), "actor": seo_reviewer, "actor_repr": str(seo_reviewer),
              "target_type": "registry.company", "target_id": str(company.pk), "target_repr": str(company),
              "event": "old.event", "old": "a", "new": "b", "reason": "", "extra": {"k": 1}, "ip": "198.51.100.7",
              "seq": 1, "prev_hash": audit.GENESIS}
    old = AuditEntry(**fields, entry_hash=old_entry_hash({**fields, "actor_id": seo_reviewer.pk}))
    old.save()
    assert audit.verify_chain() == (1, [])
    audit.record(actor=seo_reviewer, target=company, event="new.event",
                 ctx=AuditContext(actor=seo_reviewer, ip="198.51.100.7", user_agent=FIREFOX, request_id="rid-2"))
    audit.seal()
    new = AuditEntry.objects.get(event="new.event")
    assert (new.seq, new.prev_hash, new.request_id) == (2, old.entry_hash, "rid-2")
    assert audit.verify_chain() == (2, [])


def dt_utc():
    import datetime as dt

    return dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)


# --- a real request, through the proxy, to the entry and to the staff who read it ---------------------


@pytest.fixture
def auditor_client(db):
    return login_staff(Client(), make_staff("auditor", superuser=True))


def approve_through_the_proxy(client, role, **headers):
    url = reverse("admin:registry_role_transition", args=[role.pk, "approve"])
    return client.post(url, REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT=FIREFOX, **headers)


def test_a_request_through_the_proxy_ends_in_the_entry_with_its_log_id(auditor_client, company, settings):
    settings.TRUSTED_PROXY_COUNT = 1  # nginx in front (deploy/nginx/ramis.conf sets both headers)
    role = make_role(make_person("0013542419", "09351112233"), company, status=Role.Status.PENDING)
    response = approve_through_the_proxy(auditor_client, role, HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7",
                                         HTTP_X_REQUEST_ID="0f4c2a9e8b7d6c5b4a39281706f5e4d3")
    assert response.status_code == 302
    entry = AuditEntry.objects.for_object(role).get(event="role.approved")
    assert (entry.ip, entry.user_agent, entry.request_id) == ("203.0.113.7", FIREFOX, "0f4c2a9e8b7d6c5b4a39281706f5e4d3")
    assert response["X-Request-ID"] == entry.request_id  # the id of the request's log lines
    assert audit.verify_chain() == (1, [])  # sealed, its user agent and request id in its hash


def test_without_the_proxy_a_client_cannot_choose_the_id_of_its_entries(auditor_client, company, settings):
    settings.TRUSTED_PROXY_COUNT = 0  # the embedded default: no proxy, X-Request-ID is the client's own
    role = make_role(make_person("0013542419", "09351112233"), company, status=Role.Status.PENDING)
    response = approve_through_the_proxy(auditor_client, role, HTTP_X_REQUEST_ID="someone-elses-request")
    entry = AuditEntry.objects.for_object(role).get(event="role.approved")
    assert entry.request_id != "someone-elses-request" and re.fullmatch(r"[0-9a-f]{32}", entry.request_id)
    assert response["X-Request-ID"] == entry.request_id
    settings.TRUSTED_PROXY_COUNT = 1  # a proxy is configured, but this request did not come through it
    other = make_role(make_person("0499370899", "09121234567"), company, status=Role.Status.PENDING)
    approve_through_the_proxy(auditor_client, other, HTTP_X_REQUEST_ID="someone-elses-request")
    assert AuditEntry.objects.for_object(other).get(event="role.approved").request_id != "someone-elses-request"


def test_staff_read_where_each_entry_came_from(auditor_client, company, settings):
    """The admin's audit list and entry page, the list of one request's entries, and the trail on
    the changed object's own admin page."""
    settings.TRUSTED_PROXY_COUNT = 1
    role = make_role(make_person("0013542419", "09351112233"), company, status=Role.Status.PENDING)
    approve_through_the_proxy(auditor_client, role, HTTP_X_FORWARDED_FOR="203.0.113.7", HTTP_X_REQUEST_ID="nginx-e2e-1")
    audit.record(actor=None, target=company, event="test.other", ctx=AuditContext(request_id="nginx-other"))
    entry = AuditEntry.objects.get(event="role.approved")
    changelist = reverse("admin:common_auditentry_changelist")

    listing = auditor_client.get(changelist).content.decode()
    assert "203.0.113.7" in listing and "nginx-e2e-1" in listing and "nginx-other" in listing
    assert f'title="{FIREFOX}"' in listing

    one_request = auditor_client.get(changelist, {"request_id": "nginx-e2e-1"})
    assert one_request.status_code == 200
    assert list(one_request.context["cl"].result_list) == [entry]
    searched = auditor_client.get(changelist, {"q": "nginx-other"}).context["cl"].result_list
    assert [e.event for e in searched] == ["test.other"]

    page = auditor_client.get(reverse("admin:common_auditentry_change", args=[entry.pk])).content.decode()
    assert FIREFOX in page and "nginx-e2e-1" in page and "همهٔ رویدادهای این درخواست" in page
    assert f"{changelist}?request_id=nginx-e2e-1" in page

    trail = auditor_client.get(reverse("admin:registry_role_change", args=[role.pk])).content.decode()
    assert "<th>از کجا</th>" in trail and "nginx-e2e-1" in trail and "203.0.113.7" in trail


def test_people_without_the_audit_permission_do_not_read_it(company):
    staff = login_staff(Client(), make_staff("clerk-without-audit"))
    audit.record(actor=None, target=company, event="test.other", ctx=AuditContext(request_id="nginx-other"))
    response = staff.get(reverse("admin:common_auditentry_changelist"), {"request_id": "nginx-other"})
    assert response.status_code == 403


def test_an_objects_trail_shows_origins_only_to_those_who_may_read_the_audit(auditor_client, company, settings):
    """Staff who may open a role's admin page but not the audit see its trail (who, what, when)
    without where each entry came from; the auditor sees both."""
    settings.TRUSTED_PROXY_COUNT = 1
    role = make_role(make_person("0013542419", "09351112233"), company, status=Role.Status.PENDING)
    approve_through_the_proxy(auditor_client, role, HTTP_X_FORWARDED_FOR="203.0.113.7", HTTP_X_REQUEST_ID="nginx-e2e-2")
    page = reverse("admin:registry_role_change", args=[role.pk])
    viewer = login_staff(Client(), make_staff("role-viewer", perms=("registry.view_role",)))
    trail = viewer.get(page)
    assert trail.status_code == 200
    html = trail.content.decode()
    assert "رد ممیزی" in html and "role.approved" in html
    assert "<th>از کجا</th>" not in html and "203.0.113.7" not in html and "nginx-e2e-2" not in html
    assert FIREFOX not in html
    full = auditor_client.get(page).content.decode()
    assert "<th>از کجا</th>" in full and "203.0.113.7" in full and "nginx-e2e-2" in full
