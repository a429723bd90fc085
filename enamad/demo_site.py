"""A demo shop on the local machine, so a newcomer can verify a domain end to end without the
internet (issue 13 item 9; ``manage.py enamad_demo_site``): an HTTP site on 127.0.0.1 whose home
page carries the business's meta tag (and whose ``/<token>.txt`` holds the code), and a small DNS
server on 127.0.0.1 (dnspython, a dependency already) that answers A → 127.0.0.1 for the domain
and its www name and the TXT record ``enamad-verification=<token>``.

The portal is pointed at them with ENAMAD_DNS_RESOLVER=127.0.0.1:<dns port>,
ENAMAD_VERIFY_HTTP_PORT=<http port> and ENAMAD_VERIFY_ALLOW_LOOPBACK=1 (never in production);
docs/user/shop-owner.md walks through it."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

LOOPBACK = "127.0.0.1"


@dataclass
class DemoShop:
    domain: str
    token: str
    methods: set[str] = field(default_factory=lambda: {"meta", "file", "dns"})

    def home(self) -> bytes:
        meta = f'<meta name="enamad" content="{self.token}">' if "meta" in self.methods else ""
        return (f'<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>فروشگاه نمونه</title>'
                f"{meta}</head><body><h1>فروشگاه نمونه {self.domain}</h1></body></html>").encode()

    def txt(self) -> list[str]:
        return [f"enamad-verification={self.token}"] if "dns" in self.methods else []


def http_server(shop: DemoShop, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = self.path.split("?")[0]
            if path == "/":
                status, body, kind = 200, shop.home(), "text/html; charset=utf-8"
            elif path == f"/{shop.token}.txt" and "file" in shop.methods:
                status, body, kind = 200, f"{shop.token}\n".encode(), "text/plain"
            else:
                status, body, kind = 404, b"not found", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    server.daemon_threads = True
    return server


def dns_answer(shop: DemoShop, wire: bytes) -> bytes:
    """The reply to one DNS query: A and TXT for the shop's names, an empty NOERROR otherwise."""
    query = dns.message.from_wire(wire)
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    names = {dns.name.from_text(shop.domain), dns.name.from_text(f"www.{shop.domain}")}
    for question in query.question:
        if question.name not in names:
            continue
        if question.rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", LOOPBACK))
        elif question.rdtype == dns.rdatatype.TXT and question.name == dns.name.from_text(shop.domain):
            records = [f'"{value}"' for value in shop.txt()]
            if records:
                reply.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", "TXT", records))
    return reply.to_wire()


class DNSServer:
    """UDP on 127.0.0.1 (the verifier's dnspython asks over UDP; answers here are small)."""

    def __init__(self, shop: DemoShop, port: int = 0):
        self.shop = shop
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, port))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()

    def serve_forever(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                wire, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            try:
                self.sock.sendto(dns_answer(self.shop, wire), client)
            except Exception:  # noqa: BLE001, S112 - a malformed query is dropped, the server goes on
                continue

    def shutdown(self) -> None:
        self._stop.set()
        self.sock.close()


def start(shop: DemoShop, *, http_port: int = 0, dns_port: int = 0) -> tuple[ThreadingHTTPServer, DNSServer]:
    """Both servers, each on its own daemon thread."""
    web = http_server(shop, http_port)
    names = DNSServer(shop, dns_port)
    threading.Thread(target=web.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    threading.Thread(target=names.serve_forever, daemon=True).start()
    return web, names
