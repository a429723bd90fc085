"""Role homes: where each staff member lands after login, with counts of their waiting work.

``certauth`` knows nothing of the desk or e-Namad (DESIGN's import order), so each room registers
a provider here from its ``AppConfig.ready()``; the provider says whether the user has a desk in
that room and, if so, its address (opened on the user's own tab) and the waiting counts. The
staff home sends someone with one desk straight to it and shows a card per desk otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Count:
    label: str
    value: int
    url: str


@dataclass(frozen=True)
class Home:
    title: str
    url: str
    counts: tuple[Count, ...] = field(default_factory=tuple)


Provider = Callable[[object], "Home | None"]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def homes_for(user) -> list[Home]:
    """The desks ``user`` has, in registration order (the apps' order in INSTALLED_APPS)."""
    return [home for provider in _PROVIDERS if (home := provider(user)) is not None]
