"""Domain names as people type them (N6): normalised to lower-case ASCII (IDNA), refused when
they are IP addresses, URLs with a path, or not a registrable-looking name."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna
from django.core.exceptions import ValidationError

from ramis.common.digits import to_latin_digits

_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def normalize_domain(value: str) -> str:
    """``https://WWW.Shop.ir/`` → ``shop.ir``; ``فروشگاه.ایران`` → its ``xn--`` form.

    Raises ``ValidationError`` with a Persian message for IPs, paths, ports and bad names.
    """
    text = to_latin_digits(str(value or "")).strip()
    if not text:
        raise ValidationError("دامنه را وارد کنید.", code="required")
    if "://" in text:
        try:
            parts = urlsplit(text)
        except ValueError:  # e.g. "http://[::1": an unbalanced IPv6 bracket
            raise ValidationError("نام دامنه معتبر نیست.", code="invalid") from None
        if parts.scheme not in {"http", "https"}:
            raise ValidationError("فقط نام دامنه را وارد کنید (مانند shop.ir).", code="scheme")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValidationError("نشانی با مسیر پذیرفته نیست؛ فقط نام دامنه را وارد کنید (مانند shop.ir).",
                                  code="path")
        text = parts.netloc
    elif "/" in text or "?" in text or "#" in text:
        if text.endswith("/") and text.count("/") == 1:
            text = text[:-1]
        else:
            raise ValidationError("نشانی با مسیر پذیرفته نیست؛ فقط نام دامنه را وارد کنید (مانند shop.ir).",
                                  code="path")
    if "@" in text:
        raise ValidationError("نام دامنه معتبر نیست.", code="invalid")
    host = text.strip("[]")
    if _is_ip(host) or _is_ip(host.rsplit(":", 1)[0]):
        raise ValidationError("نشانی IP پذیرفته نیست؛ نماد فقط به دامنه ثبت‌شده داده می‌شود.", code="ip")
    if ":" in text:
        raise ValidationError("درگاه (پورت) را ننویسید؛ فقط نام دامنه را وارد کنید.", code="port")
    text = text.rstrip(".")
    try:
        ascii_name = idna.encode(text.lower(), uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValidationError("نام دامنه معتبر نیست.", code="invalid") from None
    if ascii_name.startswith("www."):
        ascii_name = ascii_name[4:]
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise ValidationError("نام دامنه معتبر نیست؛ دامنه‌ای ثبت‌شده مانند shop.ir وارد کنید.", code="invalid")
    if not _TLD_RE.match(labels[-1]):
        raise ValidationError("پسوند دامنه معتبر نیست.", code="invalid_tld")
    return ascii_name


def control_email_address(domain: str) -> str:
    """N22's e-mailed code goes to ``info@`` the business's own domain, in its ASCII form
    (``info@xn--…`` for an IDN: mail servers and the SMTP envelope take no Unicode domain)."""
    try:
        ascii_name = idna.encode(domain.lower().rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValidationError("نام دامنه معتبر نیست.", code="invalid") from None
    return f"info@{ascii_name}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def display_domain(ascii_name: str) -> str:
    """The Unicode form for people (``xn--…`` → Persian), falling back to ASCII."""
    try:
        return idna.decode(ascii_name)
    except idna.IDNAError:
        return ascii_name


def host_matches(host: str | None, domain: str) -> bool:
    """True when ``host`` is ``domain`` or one of its subdomains (ports ignored)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host.startswith("["):
        return False
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host == domain or host.endswith("." + domain)


def request_site_host(request) -> str | None:
    """The host of the page that embeds us: the Origin header, else the Referer's host."""
    for header in ("HTTP_ORIGIN", "HTTP_REFERER"):
        value = request.META.get(header)
        if value and value != "null":
            try:
                host = urlsplit(value).hostname
            except ValueError:  # a malformed header ("http://[x") names no site we can vouch for
                return None
            if host:
                return host
    return None
