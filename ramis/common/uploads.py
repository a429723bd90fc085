"""Private uploads (X8): type checked by content, size limited, stored outside the web root,
served only through views that have checked who is asking."""

from __future__ import annotations

import uuid
import warnings
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError, DecompressionBombWarning

from .digits import persian_number

ALLOWED_KINDS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def sniff(head: bytes) -> str | None:
    """Return ``pdf``, ``jpg`` or ``png`` from the file's first bytes, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    kind = filetype.guess(head)
    if kind and kind.extension in {"jpg", "png"}:
        return kind.extension
    return None


def validate_upload(upload, *, kinds: tuple[str, ...] = ("pdf", "jpg", "png"), max_bytes: int | None = None) -> str:
    """Raise a Persian ``ValidationError`` unless the file is one of ``kinds`` by content.

    On success the upload is renamed ``<stem>.<kind>``: the extension it is stored with (see
    ``private_upload_to``) is that of its content, never the one the client typed."""
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            "حجم فایل بیش از حد مجاز است (حداکثر %(mb)s مگابایت).", code="too_large",
            params={"mb": persian_number(limit / 1024 / 1024)},
        )
    if upload.size == 0:
        raise ValidationError("فایل خالی است.", code="empty")
    upload.seek(0)
    head = upload.read(262)
    upload.seek(0)
    kind = sniff(head)
    if kind not in kinds:
        raise ValidationError("نوع فایل پذیرفته نیست؛ فقط PDF، JPEG یا PNG.", code="bad_type")
    if kind in {"jpg", "png"}:
        check_image(upload)
    else:
        upload.seek(0)
        data = upload.read()
        upload.seek(0)
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError("فایل PDF ناقص یا خراب است.", code="bad_pdf")
    upload.name = f"{PurePath(upload.name or 'upload').stem or 'upload'}.{kind}"
    return kind


def check_image(upload) -> None:
    """Refuse an image that is broken or has more pixels than ``UPLOAD_MAX_IMAGE_PIXELS``.

    A few kilobytes of PNG can declare 30000×30000 pixels (a decompression bomb): whoever decodes
    it later needs gigabytes. Only the header is read here (``verify`` decodes no pixels), and
    Pillow's own bomb checks (a warning past its limit, an error past twice that) count as the
    same refusal, so no size reaches the rest of the portal as an exception."""
    limit = settings.UPLOAD_MAX_IMAGE_PIXELS
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DecompressionBombWarning)
            with Image.open(upload) as image:
                width, height = image.size
                if width * height > limit:
                    raise DecompressionBombError(f"{width}x{height} pixels")
                image.verify()
    except (DecompressionBombError, DecompressionBombWarning):
        raise ValidationError(
            "ابعاد تصویر بیش از حد مجاز است (حداکثر %(mp)s میلیون پیکسل)؛ تصویر را کوچک‌تر کنید.",
            code="too_many_pixels", params={"mp": round(limit / 1_000_000, 1)},
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("تصویر خراب است یا خوانده نمی‌شود.", code="bad_image") from None
    finally:
        upload.seek(0)


@deconstructible
class private_upload_to:  # noqa: N801 - used like a function in model fields
    """``upload_to`` that stores under ``<prefix>/<yyyy>/<uuid>.<ext>``: no user-chosen names.

    ``<ext>`` is ``.pdf``, ``.jpg`` or ``.png`` (``validate_upload`` has renamed the upload after
    its content), anything else ``.bin``."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, instance, filename: str) -> str:  # noqa: ARG002
        ext = PurePath(filename).suffix.lower().lstrip(".")
        ext = {"jpeg": "jpg"}.get(ext, ext)
        ext = ext if ext in ALLOWED_KINDS else "bin"
        return f"{self.prefix}/{timezone.now():%Y}/{uuid.uuid4().hex}.{ext}"

    def __eq__(self, other):
        return isinstance(other, private_upload_to) and other.prefix == self.prefix


def serve_private(fieldfile, *, download_name: str | None = None, inline: bool = True) -> FileResponse:
    """Stream a private file. The caller has already authorised the request.

    The content type comes from the file's first bytes (``sniff``), never from its name: a
    file that is not PDF, JPEG or PNG goes out as ``application/octet-stream``, as a download."""
    handle = fieldfile.open("rb")
    head = handle.read(262)
    handle.seek(0)
    kind = sniff(head)
    content_type = ALLOWED_KINDS.get(kind, "application/octet-stream")
    name = download_name or f"{PurePath(fieldfile.name).stem}.{kind or 'bin'}"
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline or kind is None,
                            filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response
