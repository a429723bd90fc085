"""``AgentTokens``: the applicant's token reached through the token agent on the clerk's
workstation (``python -m tokens.agent``, docs/reference/token-agent.md).

Each issuing desk is a :class:`~ramis.desk.models.Workstation` row (its agent's URL and its
sealed HMAC secret); the clerk chooses the one they sit at and the desk builds this backend for
it. ``OFFICE_AGENT_CA_FILE`` is the PEM bundle the agents' TLS certificates are checked against;
``OFFICE_AGENT_TIMEOUT_SECONDS`` bounds each call, ``OFFICE_AGENT_PING_TIMEOUT_SECONDS`` the
health check. Select it with ``OFFICE_TOKEN_BACKEND=ramis.desk.agent.AgentTokens``.
"""

from __future__ import annotations

from django.conf import settings

from tokens import TokenError
from tokens.remote import AgentClient, RemoteTokens

from .workstation import ManagerTokens, so_pin_for

NO_WORKSTATION_FA = "باجه‌ای که پشت آن نشسته‌اید انتخاب نشده است؛ نخست باجهٔ خود را انتخاب کنید."


class AgentTokens(ManagerTokens):
    """The tokens plugged into one workstation, through its agent."""

    needs_workstation = True

    def __init__(self, *, url: str, secret: bytes | str | TokenError, so_pin: str = "", ca_file: str | None = None,
                 timeout: float = 60, ping_timeout: float = 3, name: str = ""):
        # Nothing here may raise: the desk builds the backend before its error handling; a bad
        # configuration is reported by the first call, as a TokenError with a Persian message.
        self.so_pin = so_pin
        self._name = name
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._options = {"url": url, "ca_file": ca_file or None, "timeout": timeout}
        self._ping_timeout = ping_timeout
        self._remote: RemoteTokens | None = None

    @classmethod
    def for_office(cls, office, workstation=None) -> AgentTokens:
        so_pin = so_pin_for(getattr(office, "code", None))  # this office's only
        if workstation is None:
            return cls(url="", secret=b"", so_pin=so_pin)
        try:
            secret: bytes | TokenError = workstation.secret()
        except TokenError as exc:
            secret = exc
        return cls(url=workstation.agent_url, secret=secret, so_pin=so_pin,
                   ca_file=settings.OFFICE_AGENT_CA_FILE, timeout=settings.OFFICE_AGENT_TIMEOUT_SECONDS,
                   ping_timeout=settings.OFFICE_AGENT_PING_TIMEOUT_SECONDS, name=str(workstation))

    def _client(self, timeout: float) -> AgentClient:
        if isinstance(self._secret, TokenError):
            raise self._secret
        if not self._options["url"]:
            raise TokenError("no workstation chosen (or it has no agent URL)", message_fa=NO_WORKSTATION_FA)
        return AgentClient(self._options["url"], self._secret, ca_file=self._options["ca_file"], timeout=timeout)

    @property
    def manager(self) -> RemoteTokens:
        if self._remote is None:
            self._remote = RemoteTokens(self._client(self._options["timeout"]))
        return self._remote

    def ping(self) -> dict:
        return RemoteTokens(self._client(self._ping_timeout)).ping()
