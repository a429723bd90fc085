"""``AgentTokens``: the applicant's token reached through the token agent on the clerk's
workstation (``python -m tokens.agent``, README "Token agent on the clerk's workstation").

One agent per office: ``OFFICE_AGENT_URLS`` and ``OFFICE_AGENT_SECRETS`` map the office's code to
its workstation's agent URL and shared secret; ``OFFICE_AGENT_CA_FILE`` is the PEM bundle the
agents' TLS certificates are checked against; ``OFFICE_AGENT_TIMEOUT_SECONDS`` bounds each call.
Select it with ``OFFICE_TOKEN_BACKEND=ramis.desk.agent.AgentTokens``.
"""

from __future__ import annotations

from django.conf import settings

from tokens import TokenError
from tokens.remote import AgentClient, RemoteTokens

from .workstation import ManagerTokens


class AgentTokens(ManagerTokens):
    """The tokens plugged into the office's workstation, through its agent."""

    def __init__(self, *, url: str, secret: str, so_pin: str = "", ca_file: str | None = None,
                 timeout: float = 60, office_code: str = ""):
        # Nothing here may raise: the desk builds the backend before its error handling; a bad
        # configuration is reported by the first call, as a TokenError with a Persian message.
        self.so_pin = so_pin
        self._office_code = office_code
        self._options = {"url": url, "secret": secret.encode(), "ca_file": ca_file or None, "timeout": timeout}
        self._remote: RemoteTokens | None = None

    @classmethod
    def for_office(cls, office) -> AgentTokens:
        code = getattr(office, "code", "") or ""
        return cls(url=settings.OFFICE_AGENT_URLS.get(code, ""), secret=settings.OFFICE_AGENT_SECRETS.get(code, ""),
                   so_pin=settings.OFFICE_TOKEN_SO_PIN, ca_file=settings.OFFICE_AGENT_CA_FILE,
                   timeout=settings.OFFICE_AGENT_TIMEOUT_SECONDS, office_code=code)

    @property
    def manager(self) -> RemoteTokens:
        if self._remote is None:
            options = dict(self._options)
            if not options["url"]:
                raise TokenError(f"no token agent configured for office {self._office_code!r} (OFFICE_AGENT_URLS)",
                                 message_fa="برای رایانهٔ باجهٔ این دفتر نرم‌افزار توکن (agent) تنظیم نشده است؛ "
                                            "با مدیر سامانه تماس بگیرید.")
            self._remote = RemoteTokens(AgentClient(options.pop("url"), options.pop("secret"), **options))
        return self._remote
