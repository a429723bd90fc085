"""ramis/ca/der.py: the CA's hand-written DER walking and writing, against cryptography's encoder."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ramis.ca import der


@pytest.mark.parametrize("length", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000])
def test_a_written_tlv_walks_back_to_its_content(length):
    content = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    encoded = der.tlv(0x04, content)
    assert encoded[0] == 0x04 and encoded.endswith(content)
    ((tag, start, end),) = der.elements(encoded)
    assert (tag, start, end) == (0x04, 0, len(encoded))
    assert len(der.header(0x04, length)) == len(encoded) - length  # the shortest length form
    assert len(der.header(0x04, length)) == (2 if length < 0x80 else 3 + (length > 0xFF) + (length > 0xFFFF))


def test_the_elements_of_a_name_are_its_rdns():
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"), x509.NameAttribute(NameOID.COMMON_NAME, "نام")])
    data = name.public_bytes()
    rdns = der.inside(data, der.elements(data)[0])
    assert [data[s:e] for _t, s, e in rdns] == [x509.Name([rdn]).public_bytes()[2:] for rdn in name.rdns]
    assert {t for t, _s, _e in rdns} == {0x31}


@pytest.mark.parametrize("data", [b"\x30", b"\x30\x05\x01", b"\x30\x80\x00\x00", b"\x30\x85\x01\x01\x01\x01\x01"],
                         ids=["no-length", "short", "indefinite", "five-length-octets"])
def test_what_is_not_definite_der_is_refused(data):
    with pytest.raises(ValueError):
        der.elements(data)
