"""What a lint found, and the refusal it makes: pkilint's findings as plain values.

Kept apart from :mod:`ramis.ca.lint` so that whatever only names a finding or catches a refusal
(the desk's issuance, ``manage.py ca``, the builder's signatures) does not import pkilint. pkilint
and its ETSI tables are about a third of a second of every process's start (``manage.py`` help
1.7 → 1.2 s, measured with ``python -X importtime``, 2026-12-07); :mod:`ramis.ca.lint` is imported
where a certificate, CRL or OCSP answer is linted, and the signing worker imports it on start
(:func:`ramis.ca.signing.prepare_process`).
"""

from __future__ import annotations

from typing import NamedTuple

BLOCKING = frozenset({"ERROR", "FATAL"})  # the severities that refuse an artefact


class Finding(NamedTuple):
    severity: str
    code: str
    message: str | None
    path: str

    def __str__(self) -> str:
        msg = f": {self.message}" if self.message else ""
        return f"{self.code} ({self.severity}) at {self.path}{msg}"


class LintError(Exception):
    """pkilint found ERROR or FATAL findings; nothing was signed."""

    def __init__(self, what: str, findings: list[Finding]):
        self.findings = findings
        refusing = [f for f in findings if f.severity in BLOCKING]
        super().__init__(f"pkilint refused the {what}: " + "; ".join(str(f) for f in refusing))


def blocking(findings: list[Finding], allow: frozenset[str] = frozenset()) -> list[Finding]:
    return [f for f in findings if f.severity in BLOCKING and f.code not in allow]


def require_clean(what: str, findings: list[Finding], allow: frozenset[str] = frozenset()) -> list[Finding]:
    """Raise :class:`LintError` on any ERROR/FATAL not in ``allow``; else return all findings."""
    if blocking(findings, allow):
        raise LintError(what, [f for f in findings if f.code not in allow])
    return findings
