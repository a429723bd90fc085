"""Every non-global address is refused before any connection (ramis/common/netguard.py), range by
range, with its edges; IPv6 addresses that lead to an IPv4 address are judged by it too."""

import ipaddress

import pytest

from ramis.common.netguard import NOT_GLOBAL, is_public_address

REFUSED = {
    "0.0.0.0/8 this network": ["0.0.0.0", "0.1.2.3", "0.255.255.255"],
    "10.0.0.0/8 private": ["10.0.0.0", "10.1.2.3", "10.255.255.255"],
    "100.64.0.0/10 shared": ["100.64.0.0", "100.64.0.1", "100.100.100.100", "100.127.255.255"],
    "127.0.0.0/8 loopback": ["127.0.0.1", "127.255.255.254"],
    "169.254.0.0/16 link-local": ["169.254.0.1", "169.254.169.254"],
    "172.16.0.0/12 private": ["172.16.0.1", "172.31.255.255"],
    "192.0.0.0/24 IETF": ["192.0.0.0", "192.0.0.8", "192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.0.255"],
    "192.0.2.0/24 documentation": ["192.0.2.1"],
    "192.88.99.0/24 6to4 relay": ["192.88.99.1"],
    "192.168.0.0/16 private": ["192.168.0.1", "192.168.255.255"],
    "198.18.0.0/15 benchmarking": ["198.18.0.0", "198.18.0.1", "198.19.255.255"],
    "198.51.100.0/24 and 203.0.113.0/24 documentation": ["198.51.100.1", "203.0.113.7"],
    "224.0.0.0/4 multicast": ["224.0.0.1", "239.255.255.250"],
    "240.0.0.0/4 reserved and broadcast": ["240.0.0.1", "255.255.255.255"],
    "::/128 ::1/128": ["::", "::1"],
    "IPv4-mapped": ["::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:100.64.0.1", "::ffff:8.8.8.8"],
    "IPv4-compatible": ["::10.0.0.1", "::8.8.8.8"],
    "64:ff9b::/96 NAT64": ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::808:808"],
    "64:ff9b:1::/48 NAT64 local": ["64:ff9b:1::a00:1"],
    "100::/64 discard": ["100::1"],
    "2001::/23 IETF, Teredo": ["2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:1::1", "2001:2::1"],
    "2001:db8::/32 documentation": ["2001:db8::1"],
    "2002::/16 6to4": ["2002:7f00:1::1", "2002:a00:1::1", "2002:808:808::1"],
    "3fff::/20 documentation": ["3fff::1"],
    "5f00::/16 SRv6": ["5f00::1"],
    "fc00::/7 unique local": ["fc00::1", "fd12:3456::1"],
    "fe80::/10 link-local": ["fe80::1", "febf:ffff::1", "fe80::1%eth0"],
    "fec0::/10 site-local": ["fec0::1", "fec0:1::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    "ff00::/8 multicast": ["ff02::1", "ff05::1:3", "ff0e::1"],
    "not an address": ["", "localhost", "999.1.1.1", "1.2.3", "::g"],
}

ALLOWED = ["1.0.0.1", "8.8.8.8", "100.63.255.255", "100.128.0.0", "185.143.233.1", "198.17.255.255",
           "198.20.0.0", "223.255.255.254", "2606:4700::1111", "2a00:1450:4001::1", "2001:4860:4860::8888"]


@pytest.mark.parametrize("address", [pytest.param(a, id=f"{name}: {a}") for name, addrs in REFUSED.items()
                                     for a in addrs])
def test_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_allowed(address):
    assert is_public_address(address)
    assert is_public_address(ipaddress.ip_address(address))


def test_site_local_is_what_is_global_misses():
    """The defect this module fixes: Python itself calls fec0::/10 global."""
    assert ipaddress.ip_address("fec0::1").is_global
    assert not is_public_address("fec0::1")


def test_every_listed_range_is_refused_at_both_ends():
    for net in NOT_GLOBAL:
        assert not is_public_address(net[0]), net
        assert not is_public_address(net[-1]), net
