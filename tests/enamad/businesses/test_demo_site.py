"""``manage.py enamad_demo_site`` (issue 13 item 9): a demo shop over HTTP and its DNS answers on
127.0.0.1, against which the portal's real verifier (dnspython, HTTP) verifies the domain — by the
meta tag, and by the TXT record alone; the command itself serves and prints how to point the
portal at it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import dns.message
import dns.query
import pytest

from enamad.businesses.services import business_verify_domain
from enamad.demo_site import DemoShop, start
from enamad.models import Business
from tests.enamad.conftest import make_business

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def demo(settings, account):
    business = make_business(account, domain="demo-shop.test", ready=False)
    servers = []

    def serve(methods):
        web, names = start(DemoShop(business.domain, business.verification_token, set(methods)))
        servers.extend([web, names])
        settings.ENAMAD_DNS_RESOLVER = f"127.0.0.1:{names.port}"
        settings.ENAMAD_VERIFY_HTTP_PORT = web.server_address[1]
        settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
        settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = True
        settings.ENAMAD_VERIFY_TIMEOUT_SECONDS = 2
        return business

    yield serve
    for server in servers:
        server.shutdown()


def test_the_demo_shop_verifies_by_its_meta_tag(demo):
    business = demo({"meta", "file", "dns"})
    result = business_verify_domain(business_id=business.pk)
    assert result.ok and result.method == "meta"
    assert Business.objects.get(pk=business.pk).domain_verified_at is not None


def test_the_demo_dns_alone_verifies_by_txt(demo):
    business = demo({"dns"})
    result = business_verify_domain(business_id=business.pk)
    assert result.ok and result.method == "dns"


def test_without_proofs_the_messages_say_what_was_found(demo):
    business = demo(set())
    error = business_verify_domain(business_id=business.pk).error
    assert "سایت از راه HTTP پاسخ داد" in error and "ندارد" in error


def test_the_command_serves_and_says_how_to_use_it():
    process = subprocess.Popen(
        [sys.executable, "manage.py", "enamad_demo_site", "--domain", "demo.test", "--token", "abc123",
         "--http-port", "0", "--dns-port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/ and DNS on 127\.0\.0\.1:(\d+)", first)
        assert match, first
        answer = dns.query.udp(dns.message.make_query("demo.test", "TXT"), "127.0.0.1", port=int(match[2]), timeout=3)
        assert 'enamad-verification=abc123' in answer.to_text()
        assert "ENAMAD_DNS_RESOLVER=127.0.0.1:" in process.stdout.readline() + process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
