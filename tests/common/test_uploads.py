"""X8: private uploads are stored with the extension of their content and served with the
content type of their content; the client's file name decides neither."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.fields.files import FieldFile, FileField
from PIL import Image

from ramis.common.uploads import private_upload_to, serve_private, validate_upload

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 80, 140)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def storage_dir(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path), "base_url": None}}}
    return tmp_path


def stored(name: str, content: bytes) -> FieldFile:
    """Save ``content`` the way a model's ``FileField`` does and return its field file."""
    field = FileField(upload_to=private_upload_to("test"))
    fieldfile = FieldFile(None, field, None)
    fieldfile.name = field.storage.save(field.generate_filename(None, name), ContentFile(content))
    return fieldfile


@pytest.mark.parametrize(("filename", "content", "kind", "renamed"), [
    ("card.html", "PNG", "png", "card.png"),
    ("card.svg", "JPEG", "jpg", "card.jpg"),
    ("scan.png", PDF, "pdf", "scan.pdf"),
    ("noextension", "PNG", "png", "noextension.png"),
    ("letter.pdf", PDF, "pdf", "letter.pdf"),
])
def test_validate_upload_names_the_upload_after_its_content(filename, content, kind, renamed):
    data = content if isinstance(content, bytes) else image_bytes(content)
    upload = SimpleUploadedFile(filename, data, content_type="text/html")
    assert validate_upload(upload) == kind
    assert upload.name == renamed


def test_a_refused_upload_keeps_its_name():
    upload = SimpleUploadedFile("page.html", HTML)
    with pytest.raises(ValidationError):
        validate_upload(upload)
    assert upload.name == "page.html"


@pytest.mark.parametrize(("filename", "ext"), [
    ("card.png", ".png"), ("CARD.PNG", ".png"), ("a.jpeg", ".jpg"), ("a.jpg", ".jpg"), ("a.pdf", ".pdf"),
    ("card.html", ".bin"), ("card.svg", ".bin"), ("card.png.html", ".bin"), ("card", ".bin"), (".htaccess", ".bin"),
])
def test_upload_to_stores_only_known_extensions(filename, ext):
    path = private_upload_to("enamad/identity")(None, filename)
    assert path.startswith("enamad/identity/") and path.endswith(ext)
    assert "card" not in path


def test_png_named_html_is_stored_as_png_and_served_as_an_image(storage_dir):
    upload = SimpleUploadedFile("card.html", image_bytes("PNG"), content_type="text/html")
    validate_upload(upload)
    fieldfile = stored(upload.name, upload.read())
    assert fieldfile.name.endswith(".png")
    response = serve_private(fieldfile)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline") and ".png" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("content", "content_type"), [
    ("PNG", "image/png"), ("JPEG", "image/jpeg"), (PDF, "application/pdf"),
])
def test_served_type_comes_from_the_content_not_the_stored_name(storage_dir, content, content_type):
    data = content if isinstance(content, bytes) else image_bytes(content)
    fieldfile = stored("legacy.png", data)
    fieldfile.storage.save("test/legacy.html", ContentFile(data))  # a file stored before the fix
    fieldfile.name = "test/legacy.html"
    response = serve_private(fieldfile)
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content) == data


def test_unknown_content_goes_out_as_a_download(storage_dir):
    fieldfile = stored("card.png", HTML)  # e.g. put there by hand, never validated
    response = serve_private(fieldfile)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_identity_document_named_html_is_stored_and_served_as_png(client, storage_dir):
    from enamad.models import IdentityDocument
    from tests.enamad.conftest import make_account

    account = make_account(verified=False)
    client.force_login(account.user)
    upload = SimpleUploadedFile("card.html", image_bytes("PNG"), content_type="text/html")
    client.post("/enamad/panel/documents/", {"kind": "national_card", "file": upload})
    document = IdentityDocument.objects.get(account=account)
    assert document.file.name.endswith(".png")
    response = client.get(f"/enamad/panel/documents/{document.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
