"""e-Namad fixtures: accounts at each stage, and real local servers (HTTP, HTTPS, DNS) on
127.0.0.1 that the domain checks talk to. No test resolves or fetches a real domain."""

from __future__ import annotations

import datetime as dt
import io
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone
from dnslib import AAAA, QTYPE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer
from PIL import Image

from certauth.models import User
from tests.conftest import STAFF_PASSWORD, totp_now
from tests.pki.test_tsa_pades import live_pki  # noqa: F401 - our CA, TSA and OCSP on a live server (signed letters)

PASSWORD = "Shop-owner-pass-2026"
DOMAIN = "shop.test"


def forget_cached_seals() -> None:
    """As if every copy of a seal's facts had lapsed: the shared cache's and this process's own
    (``ENAMAD_SEAL_MEMO_MS``). Tests change rows without the on-commit invalidation running."""
    from enamad.seals.selectors import forget_memo

    cache.clear()
    forget_memo()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 80, 140)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- accounts and businesses -------------------------------------------------------------------


def make_account(username: str = "shopowner", *, persona: str = "natural", verified: bool = True,
                 mobile: str = "09121112233", landline: str = "02188776655", national_code: str = "0499370899"):
    from enamad.models import Account, IdentityDocument

    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com",
                                    first_name="سارا", last_name="کریمی")
    account = Account.objects.create(user=user, persona=persona, first_name="سارا", last_name="کریمی",
                                     national_code=national_code, mobile=mobile)
    if verified:
        now = timezone.now()
        account.father_name, account.birth_date, account.landline = "رضا", dt.date(1990, 3, 21), landline
        account.address, account.postal_code = "تهران، خیابان آزادی، پلاک ۱", "1316943115"
        account.profile_completed_at = account.mobile_verified_at = account.landline_verified_at = now
        account.save()
        for kind in account.required_documents():
            doc = IdentityDocument(account=account, kind=kind)
            doc.file.save("doc.png", ContentFile(png_bytes()), save=True)
    return account


def make_business(account, *, domain: str = DOMAIN, ready: bool = True, **extra):
    from enamad.catalogue import ensure_defaults
    from enamad.models import Business, BusinessService, ChecklistItem, ServiceCategory, SurveyResponse

    ensure_defaults(ChecklistItem, ServiceCategory)  # an earlier transactional test may have flushed it

    data = {"domain": domain, "name": "فروشگاه نمونه", "address": "تهران، خیابان آزادی، پلاک ۱",
            "postal_code": "1316943115", "phone": "02188776655", "email": "info@shop.test",
            "answering_hours": "۹ تا ۱۷"}
    data.update(extra)
    business = Business.objects.create(account=account, **data)
    if ready:
        now = timezone.now()
        Business.objects.filter(pk=business.pk).update(domain_verified_at=now, domain_verified_method="meta",
                                                       survey_done_at=now, email_verified_at=now)
        BusinessService.objects.create(business=business,
                                       category=ServiceCategory.objects.filter(requires_licence=False).first(),
                                       offerings="کتاب", delivery_methods="پست", payment_methods="درگاه بانکی",
                                       licence_reference="ندارد")
        SurveyResponse.objects.create(business=business, heard_from="search", platform="cms", monthly_orders=10)
        business.refresh_from_db()
    return business


@pytest.fixture
def account(db):
    return make_account()


@pytest.fixture
def other_account(db):
    return make_account("othershop", mobile="09351112233", landline="03132221100", national_code="0013542419")


@pytest.fixture
def business(account):
    return make_business(account)


@pytest.fixture
def owner_client(client, account):
    client.force_login(account.user)
    return client


# One e-Namad staff member per permission, for the tests of who may open what on the desk.
STAFF_ROLES = {
    "reviewer": ["enamad.review_business"],
    "documents": ["enamad.review_documents"],
    "manager": ["enamad.approve_business"],
    "tickets": ["enamad.answer_ticket"],
    "changes": ["enamad.approve_change"],
    "complaints": ["enamad.handle_complaint"],
}


def staff_client(client, user):
    response = client.post("/auth/staff/login/", {"username": user.username, "password": STAFF_PASSWORD,
                                                  "otp_token": totp_now(user)})
    assert response.status_code == 302, response.content[:500]
    return client


def all_items_ok():
    from enamad.models import ChecklistItem

    return {item.pk: (True, "") for item in ChecklistItem.objects.filter(active=True)}


# --- local servers -----------------------------------------------------------------------------


class Site:
    """A small web site on 127.0.0.1: ``routes[path] = (status, body, headers)``."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, dict]] = {}
        self.requests: list[tuple[str, str]] = []  # (Host header, path)
        self.delay = 0.0
        self.server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.requests.append((self.headers.get("Host", ""), self.path))
                if site.delay:
                    time.sleep(site.delay)
                status, body, headers = site.routes.get(self.path.split("?")[0], (404, b"not found", {}))
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        return Handler


def _serve(site: Site, tls_context: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), site.handler())
    server.daemon_threads = True
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    site.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def http_site():
    site = Site()
    server = _serve(site)
    yield site
    server.shutdown()
    server.server_close()


def make_tls_files(directory: Path, names: list[str]) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for ``names``: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


@pytest.fixture
def https_site(tmp_path):
    """An HTTPS site whose certificate (for shop.test and www.shop.test) chains to a test CA;
    ``site.ca_file`` is that CA."""
    ca_path, cert_path, key_path = make_tls_files(tmp_path, [DOMAIN, f"www.{DOMAIN}"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    site = Site()
    site.ca_file = str(ca_path)
    server = _serve(site, context)
    yield site
    server.shutdown()
    server.server_close()


class Zone(BaseResolver):
    """A tiny authoritative zone: ``a[name] = ip``, ``aaaa[name] = ipv6``, ``txt[name] = [strings]``."""

    def __init__(self):
        self.a: dict[str, str] = {}
        self.aaaa: dict[str, str] = {}
        self.txt: dict[str, list[str]] = {}
        self.queries: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        if qtype == "A" and qname in self.a:
            reply.add_answer(RR(qname, QTYPE.A, rdata=A(self.a[qname]), ttl=60))
        if qtype == "AAAA" and qname in self.aaaa:
            reply.add_answer(RR(qname, QTYPE.AAAA, rdata=AAAA(self.aaaa[qname]), ttl=60))
        if qtype == "TXT":
            for text in self.txt.get(qname, []):
                reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(text), ttl=60))
        return reply


@pytest.fixture
def dns_zone():
    zone = Zone()
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"))
    server.start_thread()
    zone.port = server.server.server_address[1]
    yield zone
    server.stop()
    server.server.server_close()


@pytest.fixture
def local_net(settings, dns_zone, http_site):
    """Point the verifier at the local DNS and HTTP servers; shop.test → 127.0.0.1; no HTTPS
    listener unless a test adds one (the HTTPS port is the HTTP port of a closed socket)."""
    import socket

    dns_zone.a[DOMAIN] = "127.0.0.1"
    dns_zone.a[f"www.{DOMAIN}"] = "127.0.0.1"
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    settings.ENAMAD_DNS_RESOLVER = f"127.0.0.1:{dns_zone.port}"
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = True
    settings.ENAMAD_VERIFY_HTTP_PORT = http_site.port
    settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port
    settings.ENAMAD_VERIFY_TIMEOUT_SECONDS = 2
    return {"dns": dns_zone, "http": http_site}


# --- certificates for the monitoring tests: valid, self-signed, expired -------------------------


def write_server_cert(directory: Path, names: list[str], *, signer: tuple | None = None, expired: bool = False,
                      stem: str = "server") -> tuple[Path, Path]:
    """A server certificate for ``names`` written as (cert.pem, key.pem): signed by ``signer``
    (``(ca_key, ca_name)``) or self-signed; ``expired`` puts its validity in the past."""
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    issuer_key, issuer_name = signer or (key, subject)
    start, end = (now - dt.timedelta(days=60), now - dt.timedelta(days=30)) if expired else \
        (now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    cert_path, key_path = directory / f"{stem}-cert.pem", directory / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_ca(directory: Path) -> tuple:
    """A throw-away CA: (key, name, ca.pem path)."""
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Monitor Test Root")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=90))
            .not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    path = directory / "monitor-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, name, path


test_ca.__test__ = False  # a helper, not a test


@pytest.fixture
def tls_sites():
    """Start HTTPS sites with a given certificate: ``start(cert, key) -> Site``; all stopped after."""
    servers = []

    def start(cert_path: Path, key_path: Path) -> Site:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        site = Site()
        servers.append(_serve(site, context))
        return site

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
