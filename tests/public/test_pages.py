"""R1: public pages, the offices list and the user guide PDF (Persian text extracts)."""

import subprocess

import pytest

from ramis.offices.models import RegistrationOffice
from tests.html_resources import foreign_urls, loaded_urls


@pytest.mark.parametrize("url", ["/", "/faq/", "/offices/", "/auth/login/", "/auth/staff/login/"])
def test_public_pages_are_persian_rtl(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "/static/css/portal.css" in loaded_urls(html)
    # no script, style, font or image from another origin (no CDN): everything is served locally
    assert foreign_urls(html) == []


def test_foreign_urls_finds_every_resource_of_another_host_and_nothing_else():
    page = """<html><head><link rel="stylesheet" href="/static/css/portal.css">
      <link rel="stylesheet" href="https://cdn.example/x.css"><script src="//cdn.example/x.js"></script>
      <style>@font-face { src: url('https://fonts.example/f.woff2'); } .a { background: url(/static/a.png) }</style>
      </head><body><img src="data:image/png;base64,iVBORw0cdnKGgo=" srcset="/a.png 1x, http://img.example/b.png 2x">
      <a href="https://elsewhere.example/">a link is not loaded</a><div style="background:url(http://testserver/ok.png)">
      <input type="hidden" name="csrfmiddlewaretoken" value="cdnCDN0123456789"></div></body></html>"""
    assert foreign_urls(page) == ["https://cdn.example/x.css", "//cdn.example/x.js", "https://fonts.example/f.woff2",
                                  "http://img.example/b.png"]
    assert "/static/css/portal.css" in loaded_urls(page) and "/static/a.png" in loaded_urls(page)


def test_font_is_served_locally(client, db, settings):
    css = (settings.BASE_DIR / "static" / "css" / "portal.css").read_text()
    assert 'url("../fonts/NotoSansArabic-Regular.ttf")' in css
    assert (settings.BASE_DIR / "static" / "fonts" / "NotoSansArabic-Regular.ttf").stat().st_size > 100_000


def test_offices_list(client, office, other_office):
    RegistrationOffice.objects.create(code="OLD", name="دفتر بسته‌شده", city="تبریز", address="-",
                                      phone="04133334444", is_active=False)
    html = client.get("/offices/").content.decode()
    assert "دفتر تهران" in html and "دفتر اصفهان" in html
    assert "دفتر بسته‌شده" not in html
    assert "در محل" in html  # the Tehran office offers on-site service


def test_guide_pdf_text_is_persian(client, office, tmp_path):
    response = client.get("/guide.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    # Readable glyphs: the words come back out of the PDF as Persian text, not boxes.
    for phrase in ("راهنمای استفاده", "گواهی", "دفتر تهران", "مهر سازمانی"):
        assert phrase in text, phrase
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    embedded = [line for line in fonts.splitlines() if "+PortalFont" in line]
    assert embedded and " yes " in embedded[0]  # the Noto Sans Arabic file behind @font-face, embedded


def test_healthz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_errors_are_persian_pages(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "صفحه پیدا نشد" in response.content.decode()
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/auth/login/", {"national_code": "0499370899"})
    assert response.status_code == 403
    assert "فرم منقضی شد" in response.content.decode()
