"""The one transition helper (ramis/common/transitions.py) and the audit context services take
instead of the HttpRequest (ramis/common/context.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from ramis.common import transitions
from ramis.common.context import AuditContext, audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.registry.models import Role
from tests.conftest import make_person, make_role


@pytest.fixture
def pending_role(company):
    return make_role(make_person("0499370899", "09121234567"), company, status=Role.Status.PENDING)


def test_a_view_s_context_names_who_from_where(seo_reviewer):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox/128 " + "x" * 400)
    request.user = seo_reviewer
    request.request_id = "req-42"
    ctx = audit_context(request)
    assert ctx == AuditContext(actor=seo_reviewer, ip="198.51.100.7", user_agent=("Firefox/128 " + "x" * 400)[:300],
                               request_id="req-42")
    assert audit_context(None) is None


def test_the_helper_locks_steps_saves_and_audits(pending_role, seo_reviewer):
    ctx = AuditContext(actor=seo_reviewer, ip="203.0.113.9", user_agent="test", request_id="r1")
    role = transitions.lock(Role, pk=pending_role.pk)
    old = transitions.transition(role, "approve", actor=seo_reviewer, save=True, event="role.approved",
                                 reason="ok", fields={"decision_reason": "ok"}, ctx=ctx)
    assert old == Role.Status.PENDING
    role.refresh_from_db()
    assert (role.status, role.decision_reason) == (Role.Status.APPROVED, "ok")
    entry = AuditEntry.objects.for_object(role).get(event="role.approved")
    assert (entry.old, entry.new, entry.reason, entry.ip, entry.actor) == ("pending", "approved", "ok", "203.0.113.9",
                                                                           seo_reviewer)


def test_the_helper_refuses_a_wrong_state_or_a_missing_permission(pending_role, clerk):
    with pytest.raises(PermissionDenied):
        transitions.transition(pending_role, "approve", actor=clerk, save=True, event="role.approved")
    with pytest.raises(InvalidTransition):
        transitions.transition(pending_role, "end", actor=None, check_perm=False)
    pending_role.refresh_from_db()
    assert pending_role.status == Role.Status.PENDING
    assert not AuditEntry.objects.for_object(pending_role).exists()
