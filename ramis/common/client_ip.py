"""The client's address, as every throttle, lock-out and audit entry sees it.

Behind the reverse proxy ``REMOTE_ADDR`` is the proxy's own address; the client's is in
``X-Forwarded-For``, which each proxy extends with the address it was reached from (nginx's
``$proxy_add_x_forwarded_for``). Only the entries our own proxies added can be trusted: a client
may send any ``X-Forwarded-For`` it likes, and the proxies keep it as the left part of the list.
So with ``TRUSTED_PROXY_COUNT = n`` the client is the n-th entry from the right, and anything
further left is ignored; with 0 (the embedded default, no proxy) the header is ignored and
``REMOTE_ADDR`` is the client.

Written by hand (Werkzeug's ``ProxyFix`` rule, a dozen lines) rather than with django-ipware:
ipware 8 counts the proxies that appear *inside* the header, so with the one nginx in front
(which appends the client but not itself) it finds no address in ``X-Forwarded-For: client``,
and with a count of 0 it returns the spoofed left-most entry.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _address(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443" (RFC 7239 style)
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client that sent ``request`` (None when unknown).

    Also django-axes' ``AXES_CLIENT_IP_CALLABLE``, so lock-outs count the same address."""
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    hops = _hops(request)
    if hops is None:
        return remote
    return _address(hops[-settings.TRUSTED_PROXY_COUNT]) or remote


def _hops(request) -> list[str] | None:
    """The ``X-Forwarded-For`` entries when the request passed every proxy of ours, else None."""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return None
    hops = [hop for hop in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
    if len(hops) < count:  # reached us without passing every proxy: only the peer is known
        return None
    return hops


def through_proxies(request) -> bool:
    """Whether ``request`` came through the proxies of ours (``TRUSTED_PROXY_COUNT`` > 0 and one
    ``X-Forwarded-For`` entry each): only then are the headers they set (``X-Request-ID``) theirs."""
    return _hops(request) is not None
