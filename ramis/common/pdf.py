"""Every PDF is a template rendered by WeasyPrint with the portal's Persian font (X5)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template: str, context: dict | None = None) -> bytes:
    from weasyprint import HTML  # imported lazily: it loads Pango

    html = render_to_string(template, {**(context or {}), "font_dir": (settings.BASE_DIR / "static" / "fonts").as_uri()})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
