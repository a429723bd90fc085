"""Technical verification of a domain (N7, N22: meta tag, temporary page title, file, DNS TXT) and
the TLS check behind the second star (N18).

Pure network code, no database: the service calls ``check_domain`` outside any transaction and
records the result afterwards.

* Names are resolved with dnspython through the configured resolver (``ENAMAD_DNS_RESOLVER``)
  or the system's; the address we connect to is the one we checked, so a second lookup cannot
  swap in another (no DNS rebinding).
* Every address a name resolves to must be globally reachable (``ramis.common.netguard``: not
  private, shared, loopback, link-local, site-local, multicast, reserved, nor an IPv6 address
  leading to such an IPv4 address), or the site is not contacted at all; loopback only with
  ``ENAMAD_VERIFY_ALLOW_LOOPBACK`` (tests and a local demo).
* HTTPS first (certificate checked against the name; ``ENAMAD_VERIFY_CA_FILE`` adds a trust
  anchor), then HTTP; a timeout on each stage and one deadline for the whole fetch (connect, TLS
  handshake, headers and body, redirects included), a size cap, at most three
  redirects and only to the same host (or its ``www.``).
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import logging
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.resolver
from django.conf import settings

from ramis.common.digits import to_persian_digits
from ramis.common.netguard import is_public_address

from .models import VerificationMethod

logger = logging.getLogger("enamad.verification")
USER_AGENT = "eNamad-verifier/1.0 (+domain ownership check)"
MAX_REDIRECTS = 3


class FetchError(Exception):
    """The page could not be fetched; ``message`` is Persian, for the applicant."""

    def __init__(self, message: str, detail: str = ""):
        self.message = message
        self.detail = detail or message
        super().__init__(self.detail)


class TLSError(FetchError):
    pass


class AddressRefused(FetchError):
    pass


@dataclass
class Page:
    url: str
    status: int
    body: bytes
    tls: bool


@dataclass
class CheckResult:
    ok: bool
    method: str = ""
    tls_valid: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def error(self) -> str:
        return "؛ ".join(dict.fromkeys(self.problems))


# --- name resolution ---------------------------------------------------------------------------


def _resolver() -> dns.resolver.Resolver:
    """dnspython's resolver: the configured server (``host[:port]``) or the system's."""
    configured = settings.ENAMAD_DNS_RESOLVER.strip()
    if configured:
        host, _, port = configured.rpartition(":") if configured.count(":") == 1 else (configured, "", "53")
        host = (host or configured).strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:  # a name for the resolver itself: dnspython takes addresses only
            try:
                host = socket.gethostbyname(host)
            except OSError as exc:
                raise FetchError("سرور DNS در دسترس نیست.", f"resolver {host}: {exc}") from exc
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    else:
        try:
            resolver = dns.resolver.Resolver()  # /etc/resolv.conf
        except dns.resolver.NoResolverConfiguration as exc:
            raise FetchError("سرور DNS در دسترس نیست.", "no nameserver configured") from exc
    resolver.timeout = resolver.lifetime = settings.ENAMAD_VERIFY_TIMEOUT_SECONDS
    return resolver


def dns_query(name: str, qtype: str) -> list:
    """Answer records of ``qtype`` for ``name`` (dnspython: UDP, then TCP if truncated); none
    when the name or the record does not exist."""
    try:
        answer = _resolver().resolve(name, qtype, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.Timeout as exc:
        raise FetchError("پاسخی از DNS دریافت نشد.", f"dns {qtype} {name}: timeout") from exc
    except dns.exception.DNSException as exc:
        raise FetchError("پاسخ DNS خوانا نبود.", f"dns {qtype} {name}: {exc.__class__.__name__}") from exc
    return list(answer.rrset or ())


def resolve(host: str) -> list[str]:
    """The addresses of ``host``: its A records, else its AAAA records."""
    addresses = [rr.address for rr in dns_query(host, "A")] or [rr.address for rr in dns_query(host, "AAAA")]
    if not addresses:
        raise FetchError("دامنه پیدا نشد (DNS).", f"resolve {host}: no address")
    return list(dict.fromkeys(addresses))


def address_allowed(address: str) -> bool:
    """Only globally reachable addresses (``ramis.common.netguard``); loopback too when
    ``ENAMAD_VERIFY_ALLOW_LOOPBACK`` (tests and a local demo, never production)."""
    # ENAMAD_VERIFY_ALLOW_PRIVATE: the old name of the setting (tests of other branches may set it)
    if settings.ENAMAD_VERIFY_ALLOW_LOOPBACK or getattr(settings, "ENAMAD_VERIFY_ALLOW_PRIVATE", False):
        try:
            if ipaddress.ip_address(address).is_loopback:
                return True
        except ValueError:
            return False
    return is_public_address(address)


def txt_records(domain: str) -> list[str]:
    return [b"".join(rr.strings).decode("utf-8", "replace") for rr in dns_query(domain, "TXT")]


# --- fetching ----------------------------------------------------------------------------------


def _same_site(host: str, domain: str) -> bool:
    return host in {domain, f"www.{domain}"}


def _time_left(deadline: float, timeout: float) -> float:
    """The socket timeout for the next stage (connect, handshake, one read): ``timeout``, but
    never past the fetch's overall deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("fetch deadline passed")
    return min(timeout, left)


class _DeadlineReader(io.RawIOBase):
    """What ``http.client`` reads the status line, the headers and the body from: every
    ``recv`` first sets the socket timeout to the time left, so a site that dribbles one byte
    at a time cannot hold us past the deadline."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float):
        super().__init__()
        self._sock, self._deadline, self._timeout = sock, deadline, timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(_time_left(self._deadline, self._timeout))
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """The socket ``http.client`` is given: sends and reads under the fetch's deadline. Closing
    it is left to ``fetch`` (``http.client`` closes the connection while the response is read)."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float):
        self._sock, self._deadline, self._timeout = sock, deadline, timeout

    def sendall(self, data) -> None:
        self._sock.settimeout(_time_left(self._deadline, self._timeout))
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline, self._timeout))

    def close(self) -> None:
        pass


def _connect(host: str, scheme: str, timeout: float, deadline: float | None = None) -> socket.socket:
    if deadline is None:
        deadline = time.monotonic() + 2 * timeout
    addresses = resolve(host)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        raise AddressRefused("دامنه به نشانی خصوصی یا داخلی اشاره می‌کند و بررسی نمی‌شود.",
                             f"{host} resolves to non-public {refused[0]}")
    port = settings.ENAMAD_VERIFY_HTTPS_PORT if scheme == "https" else settings.ENAMAD_VERIFY_HTTP_PORT
    try:
        sock = socket.create_connection((addresses[0], port), timeout=_time_left(deadline, timeout))
    except TimeoutError as exc:
        raise FetchError("سایت در زمان مقرر پاسخ نداد.", f"{scheme}://{host}: connect timeout") from exc
    except OSError as exc:
        raise FetchError("اتصال به سایت برقرار نشد.", f"{scheme}://{host}: {exc.__class__.__name__}") from exc
    if scheme == "https":
        context = ssl.create_default_context(cafile=settings.ENAMAD_VERIFY_CA_FILE or None)
        try:
            sock.settimeout(_time_left(deadline, timeout))  # the whole handshake, not each packet
            sock = context.wrap_socket(sock, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise TLSError("گواهی TLS سایت معتبر نیست.", f"https://{host}: {exc.verify_message}") from exc
        except (ssl.SSLError, OSError) as exc:
            sock.close()
            raise TLSError("اتصال امن (HTTPS) برقرار نشد.", f"https://{host}: {exc.__class__.__name__}") from exc
    return sock


def fetch(domain: str, path: str = "/", *, scheme: str = "https") -> Page:
    """GET ``scheme://domain/path`` under the rules in the module docstring."""
    timeout = settings.ENAMAD_VERIFY_TIMEOUT_SECONDS
    limit = settings.ENAMAD_VERIFY_MAX_BYTES
    deadline = time.monotonic() + 3 * timeout
    host, tls = domain, scheme == "https"
    for _ in range(MAX_REDIRECTS + 1):
        url = f"{scheme}://{host}{path}"
        sock = _connect(host, scheme, timeout, deadline)
        conn = http.client.HTTPConnection(host, timeout=timeout)
        conn.sock = _DeadlineSocket(sock, deadline, timeout)
        try:
            conn.request("GET", path, headers={"Host": host, "User-Agent": USER_AGENT, "Accept": "*/*",
                                               "Connection": "close"})
            response = conn.getresponse()
            if response.status in {301, 302, 303, 307, 308}:
                location = response.getheader("Location") or ""
                try:
                    target = urlsplit(urljoin(url, location))
                except ValueError:  # "http://[x": not a URL
                    raise FetchError("سایت به نشانی نامعتبری هدایت می‌کند.", f"{url}: bad redirect") from None
                if target.scheme not in {"http", "https"} or not _same_site(target.hostname or "", domain):
                    raise FetchError("سایت به دامنه دیگری هدایت می‌کند.", f"{url}: redirect to {location}")
                scheme, host = target.scheme, target.hostname
                tls = tls and scheme == "https"
                path = (target.path or "/") + (f"?{target.query}" if target.query else "")
                continue
            body = bytearray()
            while len(body) < limit:
                if time.monotonic() > deadline:
                    raise FetchError("سایت در زمان مقرر پاسخ نداد.", f"{url}: read deadline")
                chunk = response.read1(min(16384, limit - len(body)))
                if not chunk:
                    break
                body += chunk
            return Page(url=url, status=response.status, body=bytes(body), tls=tls)
        except TimeoutError as exc:
            raise FetchError("سایت در زمان مقرر پاسخ نداد.", f"{url}: timeout") from exc
        except (http.client.HTTPException, OSError) as exc:
            raise FetchError("پاسخ سایت خوانا نبود.", f"{url}: {exc.__class__.__name__}") from exc
        finally:
            conn.close()
            sock.close()
    raise FetchError("سایت بیش از حد هدایت (redirect) می‌کند.", f"{domain}: too many redirects")


class _MetaFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            data = {k.lower(): (v or "") for k, v in attrs}
            if data.get("name", "").strip().lower() == "enamad":
                self.values.append(data.get("content", "").strip())


class _TitleFinder(HTMLParser):
    """The text of the page's first <title>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.inside = self.done = False

    def handle_starttag(self, tag, attrs):
        if tag == "title" and not self.done:
            self.inside = True

    def handle_endtag(self, tag):
        if tag == "title" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data):
        if self.inside:
            self.parts.append(data)


def _parse(finder: HTMLParser, body: bytes) -> HTMLParser:
    try:
        finder.feed(body.decode("utf-8", "replace"))
        finder.close()
    except Exception:  # a malformed page simply does not carry the mark
        logger.debug("unparseable page while looking for %s", type(finder).__name__, exc_info=True)
    return finder


def page_has_title(body: bytes, token: str) -> bool:
    """N22's temporary page title: the token is a word of the home page's <title> (``کد TOKEN``,
    ``TOKEN - shop`` …), not merely somewhere in the page."""
    return token in re.findall(r"[a-z0-9]+", "".join(_parse(_TitleFinder(), body).parts).lower())


def page_has_meta(body: bytes, token: str) -> bool:
    return token in _parse(_MetaFinder(), body).values


def file_has_token(body: bytes, token: str) -> bool:
    return token in body.decode("utf-8", "replace").split()


def check_domain(domain: str, token: str) -> CheckResult:
    """Try the meta tag, the page title and the file over HTTPS then HTTP, then the DNS TXT record.

    On failure ``problems`` says what was found, each thing once (issue 13 item 9): a site that
    answered over HTTP is not reported as "could not connect" because HTTPS was closed; the
    home page's status, the file's status and the TXT lookup are each named."""
    result = CheckResult(ok=False)
    unreachable: list[str] = []  # why a scheme could not be fetched at all
    found: list[str] = []  # what a site that answered held (or did not)
    for scheme in ("https", "http"):
        try:
            home = fetch(domain, "/", scheme=scheme)
        except FetchError as exc:
            logger.info("verify %s: %s", domain, exc.detail)
            if scheme == "http" or not isinstance(exc, TLSError):
                unreachable.append(exc.message)
            if isinstance(exc, AddressRefused):
                break
            continue
        if home.tls:
            result.tls_valid = True
        if home.status == 200 and page_has_meta(home.body, token):
            result.ok, result.method = True, "meta"
            return result
        if home.status == 200 and page_has_title(home.body, token):  # the same page, no extra request
            result.ok, result.method = True, "title"
            return result
        found.append(_home_finding(scheme, home.status))
        try:
            text = fetch(domain, f"/{token}.txt", scheme=scheme)
        except FetchError as exc:
            found.append(f"فایل {token}.txt: {exc.message}")
            continue
        if text.status == 200 and file_has_token(text.body, token):
            result.ok, result.method = True, "file"
            return result
        found.append(f"فایل {token}.txt هست اما کد تأیید در آن نیست." if text.status == 200
                     else f"فایل {token}.txt روی سایت نیست (پاسخ سایت: کد {to_persian_digits(text.status)}).")
    # a site that answered on one scheme: the other's connection failure is not the story
    result.problems.extend(found if found else unreachable)
    try:
        records = txt_records(domain)
    except FetchError as exc:
        result.problems.append(f"رکورد TXT: {exc.message}")
    else:
        if f"enamad-verification={token}" in records:
            result.ok, result.method = True, "dns"
            result.problems.clear()
            return result
        if any(r.startswith("enamad-verification=") for r in records):
            result.problems.append("رکورد TXT اینماد در DNS دامنه هست اما کد آن کد این پرونده نیست.")
        else:
            result.problems.append("DNS دامنه رکورد TXT اینماد (enamad-verification=…) ندارد.")
    result.problems.append("هیچ‌یک از روش‌ها (برچسب meta، عنوان صفحه، فایل، رکورد TXT) یافت نشد.")
    return result


def _home_finding(scheme: str, status: int) -> str:
    where = "HTTPS" if scheme == "https" else "HTTP"
    if status != 200:
        return f"سایت از راه {where} پاسخ داد اما صفحه اصلی کد {to_persian_digits(status)} برگرداند."
    return (f"سایت از راه {where} پاسخ داد اما در صفحه اصلی نه برچسب meta اینماد با کد تأیید بود "
            "و نه عنوان صفحه کد تأیید را داشت.")


def check_tls(domain: str) -> bool:
    """Does the site serve a certificate valid for its name (the second star, N18)?"""
    try:
        return fetch(domain, "/", scheme="https").tls
    except FetchError:
        return False


# --- monitoring of sealed sites (N18, N21) -----------------------------------------------------


@dataclass
class MonitorResult:
    """What one re-check of a sealed site found. ``method`` is the domain-control method that
    proved control: the one the holder chose (issue 7: "the chosen method still present"); any
    method only when none is on file. ``other_method`` is a method still present when the chosen
    one is gone: it does not count, the holder is told which method failed and which was found."""

    reachable: bool = False
    tls_valid: bool = False
    domain_ok: bool = False
    method: str = ""
    other_method: str = ""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def error(self) -> str:
        return "؛ ".join(dict.fromkeys(self.problems))


def _token_in(scheme_pages: dict[str, Page], domain: str, token: str, method: str) -> bool:
    if method == "meta":
        return any(p.status == 200 and page_has_meta(p.body, token) for p in scheme_pages.values())
    if method == "title":
        return any(p.status == 200 and page_has_title(p.body, token) for p in scheme_pages.values())
    if method == "file":
        for scheme in scheme_pages:
            try:
                text = fetch(domain, f"/{token}.txt", scheme=scheme)
            except FetchError:
                continue
            if text.status == 200 and file_has_token(text.body, token):
                return True
        return False
    if method == "dns":
        try:
            return f"enamad-verification={token}" in txt_records(domain)
        except FetchError:
            return False
    return False


METHODS = tuple(VerificationMethod.values)
METHOD_NAMES = dict(VerificationMethod.choices)
# The page title is temporary and the e-mailed code is not on the site at all (N22): they prove
# control once. A seal verified by either is re-checked as if no method were on file: any mark
# counts (a lasting one is then recorded as its method). An e-mailed proof also stands on its own
# while it is recent (``standing_proof``; README "Seal monitoring").
LASTING_METHODS = tuple(m for m in METHODS if m not in {VerificationMethod.TITLE, VerificationMethod.EMAIL})


def _chosen_method_missing(method: str, other: str) -> str:
    message = f"نشانه تأییدیه فنی به روش انتخابی شما ({METHOD_NAMES[method]}) دیگر یافت نشد"
    if other:
        message += (f"؛ روش دیگری ({METHOD_NAMES[other]}) یافت شد، اما جای روش انتخابی را نمی‌گیرد: نشانه روش "
                    "انتخابی را برگردانید، یا برای تغییر روش تیکت پشتیبانی فنی ثبت کنید")
    return message + "."


def monitor_check(domain: str, token: str, method: str, standing_proof: bool = False) -> MonitorResult:
    """Re-check a sealed site: reachability and TLS from its home page (HTTPS, then HTTP when
    HTTPS fails), then domain control by the chosen method. If that is gone, the others are
    looked at only to tell the holder: control still counts as lapsed. A healthy site with the
    meta tag costs one request. ``standing_proof``: control was proved off the site (a code
    e-mailed to info@ the domain) recently enough to stand when no mark is found. No database:
    the caller records the result."""
    started = time.monotonic()
    result = MonitorResult()
    pages: dict[str, Page] = {}
    for scheme in ("https", "http"):
        try:
            page = fetch(domain, "/", scheme=scheme)
        except AddressRefused as exc:
            result.problems.append(exc.message)
            break
        except FetchError as exc:
            if scheme == "https" and isinstance(exc, TLSError):
                result.problems.append(exc.message)
            elif scheme == "http" and not pages:
                result.problems.append(exc.message)
            continue
        pages[scheme] = page
        if page.status < 500:
            result.reachable = True
        if scheme == "https" and page.tls:
            result.tls_valid = True
            if method == "meta" and page.status == 200 and page_has_meta(page.body, token):
                break  # the common healthy case: one request
        if scheme == "https" and page.status < 500:
            break
    if result.reachable and not result.tls_valid and not any("TLS" in p or "HTTPS" in p for p in result.problems):
        result.problems.append("سایت گواهی TLS معتبر ارائه نمی‌کند.")
    if not result.reachable and not result.problems:
        result.problems.append("سایت در دسترس نیست.")
    chosen = method if method in LASTING_METHODS else ""
    found = ""
    order = ("meta", "title", "file", "dns")  # the two on the home page first: no extra request
    for candidate in ([chosen] if chosen else []) + [m for m in order if m != chosen]:
        if (candidate != "dns" and not pages) or not _token_in(pages, domain, token, candidate):
            continue
        found = candidate
        break
    if found and (found == chosen or not chosen):
        result.domain_ok, result.method = True, found
    elif chosen:
        result.other_method = found
        result.problems.append(_chosen_method_missing(chosen, found))
    elif standing_proof:
        result.domain_ok, result.method = True, method
    elif method == VerificationMethod.EMAIL:
        result.problems.append("نشانه ماندگار تأییدیه فنی (برچسب meta، فایل یا رکورد TXT) روی سایت نیست و تأیید با کد "
                               "ارسالی به رایانامه info دامنه باید تازه شود.")
    else:
        result.problems.append("نشانه تأییدیه فنی (برچسب meta، فایل یا رکورد TXT) دیگر روی سایت نیست؛ عنوان موقت صفحه "
                               "فقط برای تأییدیه نخست بود.")
    result.seconds = time.monotonic() - started
    return result
