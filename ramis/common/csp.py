"""The Content-Security-Policy's ``form-action``: where a page's forms may send the browser.

``form-action 'self'`` (``ramis/settings.py``) keeps a form injected into a page from posting
anywhere else. Chromium applies it to the redirects that follow a form's submission too, so the
two places where a form leaves the portal on purpose add their destination's origin:

* logging out after a national-window login: the logout form's answer redirects the browser on to
  the provider's end-session endpoint (``certauth.views.logout_view``); every page carries that
  button, so :class:`PortalCSPMiddleware` adds ``OIDC_OP_LOGOUT_ENDPOINT``'s origin to every page's
  policy, read from the settings at each request;
* the page that posts the payer on to the bank adds the bank's origin (and ``BANK_FORM_ACTION``)
  to its own policy (``ramis.requests.payments.bank_redirect_page``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL; empty for anything else."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def form_action_update(response, origins) -> None:
    """Let this response's forms go to ``origins`` too (django-csp's per-response update, what its
    ``csp_update`` decorator sets)."""
    update = dict(getattr(response, "_csp_update", None) or {})
    current = update.get("form-action") or []
    current = [current] if isinstance(current, str) else list(current)
    update["form-action"] = current + [o for o in origins if o and o not in current]
    response._csp_update = update


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, whose policy also lets forms reach the national window's logout."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        logout = origin(settings.OIDC_OP_LOGOUT_ENDPOINT)
        if logout and not report_only:
            form_action_update(response, [logout])
        return super().get_policy_parts(request, response, report_only)
