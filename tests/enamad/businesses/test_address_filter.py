"""N7: the verifier connects only to globally reachable addresses, including the IPv4 address
an IPv6 address embeds (IPv4-mapped, Teredo); 6to4 and NAT64 addresses are refused as a whole."""

import pytest

from enamad.businesses import verification


@pytest.mark.parametrize("address", [
    "100.64.0.1", "100.127.255.254",          # shared address space (carrier-grade NAT)
    "192.0.0.8", "192.0.0.170",               # IETF protocol assignments
    "192.88.99.1",                            # the deprecated 6to4 relay anycast
    "198.18.0.1", "240.0.0.1", "255.255.255.255", "0.1.2.3",
    "::ffff:100.64.0.1", "::ffff:10.0.0.1",   # IPv4-mapped
    "2002:7f00:1::1", "2002:a00:1::1", "2002:6440:1::1",  # 6to4 around 127.0.0.1, 10.0.0.1, 100.64.0.1
    "2002:808:808::1",                        # 6to4 is deprecated: refused whatever it embeds
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",   # Teredo
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",  # NAT64 to 127.0.0.1 and 169.254.169.254
    "2001:db8::1", "fc00::1", "ff02::1", "5f00::1",
    "not-an-address",
])
def test_internal_ranges_refused(settings, address):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    assert not verification.address_allowed(address)


@pytest.mark.parametrize("address", ["185.143.233.1", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_allowed(settings, address):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    assert verification.address_allowed(address)
