"""What a page makes the browser fetch: every script, stylesheet, font, image and frame URL in its
HTML (attributes and CSS ``url()``/``@import``). A test then asserts a precise property of those
URLs (e.g. none is on another host) instead of the absence of a short substring, which a page
carrying random tokens (CSRF, nonces, base64) contains now and then."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

# (tag, attribute) pairs whose URL the browser loads by itself (an <a href> is only followed).
_LOADING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("frame", "src"), ("embed", "src"),
            ("source", "src"), ("audio", "src"), ("video", "src"), ("video", "poster"), ("track", "src"),
            ("object", "data"), ("input", "src"), ("link", "href"), ("use", "href"), ("image", "href")}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in _LOADING or (tag == "link" and name == "imagesrcset"):
                self.urls.append(value.strip())
            elif name == "srcset":
                self.urls += [part.strip().split()[0] for part in value.split(",") if part.strip()]
            elif name == "style":
                self.urls += css_urls(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += css_urls(data)


def css_urls(css: str) -> list[str]:
    return [a or b for a, b in _CSS_URL.findall(css)]


def loaded_urls(html: str) -> list[str]:
    """Every URL the page makes the browser load."""
    parser = _Collector()
    parser.feed(html)
    return parser.urls


def foreign_urls(html: str, own_host: str = "testserver") -> list[str]:
    """The loaded URLs that point at another host (absolute or scheme-relative), or that are not
    web URLs the page serves (``javascript:``, ``http:`` to elsewhere …); ``data:`` is inline."""
    out = []
    for url in loaded_urls(html):
        parts = urlsplit(url)
        if parts.scheme == "data":
            continue
        if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.hostname != own_host):
            out.append(url)
    return out
