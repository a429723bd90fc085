"""Which addresses the portal may connect to on someone else's behalf (a domain check fetching a
shop's site): only globally reachable ones, decided before any connection is opened.

``ipaddress``'s ``is_global`` is the start, not the answer: it calls site-local IPv6
(``fec0::/10``), multicast, 6to4 and NAT64 global, and its answers change between Python
versions (3.11 and 3.12 differ on 6to4 and 192.0.0.0/24). So the ranges of IANA's
special-purpose registries that are not globally reachable are listed here as well, and an IPv6
address that leads to an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, Teredo, NAT64) is
judged by that IPv4 address too.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NOT_GLOBAL = tuple(ipaddress.ip_network(net) for net in (
    # IPv4 (RFC 6890 and its updates)
    "0.0.0.0/8",          # "this network"
    "10.0.0.0/8",         # private
    "100.64.0.0/10",      # shared address space (carrier-grade NAT)
    "127.0.0.0/8",        # loopback
    "169.254.0.0/16",     # link-local (cloud metadata at 169.254.169.254)
    "172.16.0.0/12",      # private
    "192.0.0.0/24",       # IETF protocol assignments (as a whole)
    "192.0.2.0/24",       # documentation
    "192.88.99.0/24",     # the deprecated 6to4 relay anycast
    "192.168.0.0/16",     # private
    "198.18.0.0/15",      # benchmarking
    "198.51.100.0/24",    # documentation
    "203.0.113.0/24",     # documentation
    "224.0.0.0/4",        # multicast
    "240.0.0.0/4",        # reserved, and the limited broadcast 255.255.255.255
    # IPv6
    "::/8",               # unspecified, loopback, IPv4-mapped and -compatible
    "64:ff9b::/96",       # NAT64 (the IPv4 address inside is anyone's)
    "64:ff9b:1::/48",     # NAT64, local use
    "100::/64",           # discard-only
    "2001::/23",          # IETF protocol assignments, Teredo (2001::/32) among them
    "2001:db8::/32",      # documentation
    "2002::/16",          # 6to4 (deprecated, RFC 7526)
    "3fff::/20",          # documentation
    "5f00::/16",          # segment routing (SRv6) SIDs
    "fc00::/7",           # unique local
    "fe80::/10",          # link-local
    "fec0::/10",          # site-local (deprecated, RFC 3879; is_global says True)
    "ff00::/8",           # multicast
))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, compatible, 6to4, Teredo, NAT64."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    packed = int(ip)
    if ip in ipaddress.ip_network("::/96") and packed > 1:  # IPv4-compatible ::a.b.c.d
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 well-known prefix
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    return [address for address in found if address is not None]


def is_public_address(address: str | IPAddress) -> bool:
    """True only for an address that is globally reachable, and whose embedded IPv4 address (for
    IPv6) is too. Anything that is not an address is not public."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return False  # "fe80::1%eth0": an interface of this machine's
    candidates = [ip, *(_embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else ())]
    return all(_is_global(candidate) for candidate in candidates)


def _is_global(ip: IPAddress) -> bool:
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
        or any(ip in net for net in NOT_GLOBAL if net.version == ip.version)
    )
