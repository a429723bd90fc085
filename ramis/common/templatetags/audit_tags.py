"""``{% audit_origin entry as origin %}``: where an audit entry came from (address, the request id
as a link to that request's other entries, the User-Agent on hover), as the admin's «از کجا»
column shows it — for staff who may read the audit trail (``admin_tools.may_read_audit``), an
empty string for anyone else and for an entry without an origin (the system, a command)."""

from __future__ import annotations

from django import template

from ramis.common.admin_tools import audit_origin as origin_html
from ramis.common.admin_tools import may_read_audit

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_origin(context, entry) -> str:
    request = context.get("request")
    if request is None or not (entry.ip or entry.request_id or entry.user_agent):
        return ""
    return origin_html(entry) if may_read_audit(request, entry) else ""  # the user's permissions are cached
