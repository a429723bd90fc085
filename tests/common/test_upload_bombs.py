"""Decompression bombs (the applicant's upload: tests/requests/test_upload_bomb.py): a PNG of a few kilobytes that declares 30000×30000 pixels is refused
with the form's Persian error on every upload path (one pixel limit, UPLOAD_MAX_IMAGE_PIXELS in
ramis/common/uploads.py); nothing is saved and nothing answers 500."""

import functools
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ramis.common.uploads import validate_upload

PIXELS_ERROR = "ابعاد تصویر بیش از حد مجاز است"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A complete, valid 1-bit greyscale PNG of ``width``×``height`` white pixels: each row is a
    filter byte and width/8 zero bytes, compressed row by row (the file is ~110 KB, the image
    it decodes to is 900 million pixels)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = bytearray()
    block = row * 1000
    for _ in range(height // 1000):
        idat += compressor.compress(block)
    idat += compressor.compress(row * (height % 1000)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(idat)) + _chunk(b"IEND", b"")


def bomb(name="scan.png"):
    return SimpleUploadedFile(name, bomb_png(), content_type="image/png")


def test_the_bomb_is_small_and_well_formed():
    data = bomb_png()
    assert len(data) < 200_000
    assert data.startswith(b"\x89PNG") and struct.unpack(">II", data[16:24]) == (30000, 30000)


def test_validate_upload_refuses_the_bomb():
    with pytest.raises(ValidationError) as caught:
        validate_upload(bomb())
    assert caught.value.code == "too_many_pixels"
    assert PIXELS_ERROR in caught.value.messages[0]


def test_the_limit_is_a_setting(settings):
    """Below Pillow's own warning threshold too: the portal's limit decides."""
    settings.UPLOAD_MAX_IMAGE_PIXELS = 100 * 100
    small = SimpleUploadedFile("a.png", bomb_png(100, 100))
    assert validate_upload(small) == "png"
    with pytest.raises(ValidationError):
        validate_upload(SimpleUploadedFile("b.png", bomb_png(101, 100)))


def test_enamad_identity_document_upload(client, db):
    from enamad.models import IdentityDocument
    from tests.enamad.conftest import make_account

    account = make_account(verified=False)
    client.force_login(account.user)
    response = client.post("/enamad/panel/documents/", {"kind": "national_card", "file": bomb()})
    assert response.status_code == 200
    assert PIXELS_ERROR in response.content.decode()
    assert not IdentityDocument.objects.filter(account=account).exists()


def test_anonymous_complaint_attachment(client, db):
    from enamad.models import Complaint
    from tests.enamad.complaints.test_complaints import file_complaint
    from tests.enamad.conftest import make_account, make_business
    from tests.enamad.seals.test_seal import issue_seal

    seal = issue_seal(make_business(make_account()))
    response = file_complaint(client, seal, attachments=[bomb("receipt.png")])
    assert response.status_code == 200
    assert PIXELS_ERROR in response.content.decode()
    assert not Complaint.objects.exists()
