"""The few DER operations the CA does by hand, in one place: walking a TLV's elements and writing
a TLV. Used where a measurement said a parser or builder cost too much on the issuance path
(``builder`` splices the token's signature into the linted draft; ``lint`` cuts a certificate
into its fixed and varying parts; ``ocsp`` assembles pre-signed answers). Definite lengths only,
as DER has; anything else raises ValueError."""

from __future__ import annotations

Element = tuple[int, int, int]  # (tag, start of the TLV, its end)


def elements(data: bytes, start: int = 0, end: int | None = None) -> list[Element]:
    """The DER elements one after the other in ``data[start:end]``; ValueError if malformed."""
    end = len(data) if end is None else end
    out = []
    while start < end:
        if end - start < 2:
            raise ValueError("truncated")
        tag, first = data[start], data[start + 1]
        if first < 0x80:
            body, length = start + 2, first
        else:
            n = first & 0x7F
            if n == 0 or n > 4:
                raise ValueError("unsupported length")
            body, length = start + 2 + n, int.from_bytes(data[start + 2:start + 2 + n], "big")
        if body + length > end:
            raise ValueError("truncated")
        out.append((tag, start, body + length))
        start = body + length
    return out


def inside(data: bytes, element: Element) -> list[Element]:
    """The elements inside a constructed ``element``."""
    _tag, start, end = element
    first = data[start + 1]
    return elements(data, start + 2 + (first & 0x7F if first >= 0x80 else 0), end)


def header(tag: int, length: int) -> bytes:
    """A tag and a definite length, in DER's shortest form."""
    if length < 0x80:
        return bytes([tag, length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets


def tlv(tag: int, content: bytes) -> bytes:
    """A whole TLV: ``tag``, the length of ``content``, ``content``."""
    return header(tag, len(content)) + content
