"""e-Namad seal monitoring benchmark: how many seals one worker re-checks per hour (N21).

    .venv/bin/python bench/enamad_monitor.py [--seals 3000] [--latency-ms 150] [--concurrency 32]
                                             [--batch 100] [--timeout 3] [--database-url URL]

A local farm on 127.0.0.1 plays thousands of shops: one DNS server (dnslib) that answers every
``*.bench.test`` / ``*.plain.test`` name with 127.0.0.1 and the TXT records of DNS-verified
shops, one threaded HTTPS server (a throw-away CA and a ``*.bench.test`` certificate; TLS
handshakes in the handler threads) and one threaded HTTP server, both answering by ``Host``
with what that shop serves, each answer delayed by ``--latency-ms`` to stand for the network
and the shop's server. The shops are a mix:

    74 %  HTTPS + meta tag (two stars)          6 %  HTTP only (the certificate does not name them)
     5 %  the ``TOKEN.txt`` file                 5 %  DNS TXT record
     5 %  token gone (domain control lapsed)     3 %  answer 500 / drop the connection
     2 %  slower than the timeout

The worker loop is what beat + one Celery worker do: claim the due seals
(``seal_control.seals_claim_due``), run ``monitoring.run_batch`` on each batch of ``--batch`` seals
(network on ``--concurrency`` threads, no transaction open; then one UPDATE for the healthy and a
short locked transaction per changed seal). Two passes: the first finds the failures (events,
audit rows, notifications), the second is the steady state. A third pass runs with one thread,
for a floor that does not depend on concurrency.

After every pass each seal's recorded state is compared with what its shop serves (stars,
reachability, domain control, still approved). The run exits 1 with one line on stderr when a
seal was recorded wrongly, a check crashed or could not be recorded, a batch was inconclusive,
or a pass ran below ``--target`` seals/hour (10,000, the requirement); 0 otherwise. Runs on a
throw-away SQLite database (or ``--database-url``); nothing under var/ is touched. Every request
goes to 127.0.0.1 and the run stops after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIX = [("https_meta", 74), ("http_only", 6), ("file", 5), ("dns", 5), ("lapsed", 5), ("broken", 3), ("slow", 2)]


def kind_of(i: int) -> str:
    slot, total = i % 100, 0
    for kind, share in MIX:
        total += share
        if slot < total:
            return kind
    return MIX[0][0]


RUN = f"{os.getpid():x}{int(time.time()) % 100000:x}"  # domains unique per run (a database may be reused)


def domain_of(i: int) -> str:
    return f"shop{i}-{RUN}.{'plain' if kind_of(i) == 'http_only' else 'bench'}.test"


class Farm:
    """What every shop serves; filled once the seals (and their tokens) exist."""

    def __init__(self, latency: float, slow: float):
        self.latency, self.slow = latency, slow
        self.sites: dict[str, tuple[str, str]] = {}  # host -> (kind, token)
        self.requests = Counter()
        self.lock = threading.Lock()

    def answer(self, host: str, path: str) -> tuple[int, bytes] | None:
        host = host.split(":")[0].lower()
        kind, token = self.sites.get(host, ("missing", ""))
        with self.lock:
            self.requests[kind] += 1
        if kind == "slow":
            time.sleep(self.slow)
        else:
            time.sleep(self.latency)
        if kind == "broken":
            return None if hash(host) % 2 else (500, b"internal error")
        if path == "/":
            tag = f'<meta name="enamad" content="{token}">' if kind in {"https_meta", "http_only", "slow"} else ""
            return 200, f"<html><head>{tag}<title>{host}</title></head><body>shop</body></html>".encode()
        if path == f"/{token}.txt" and kind == "file":
            return 200, token.encode()
        return 404, b"not found"


def handler_for(farm: Farm):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            answer = farm.answer(self.headers.get("Host", ""), self.path)
            if answer is None:
                self.close_connection = True
                return
            status, body = answer
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass
            self.close_connection = True

        def log_message(self, *args):
            pass

    return Handler


class FarmServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    tls_context: ssl.SSLContext | None = None

    def finish_request(self, request, client_address):
        if self.tls_context is not None:  # the handshake runs in the handler thread, not in accept()
            try:
                request.settimeout(10)
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


def start(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return thread


def tls_material(directory: Path) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Farm Root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.bench.test")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("*.bench.test")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def dns_server(farm: Farm):
    from dnslib import QTYPE, RR, TXT, A
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    class Resolver(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            name = str(request.q.qname).rstrip(".").lower()
            qtype = QTYPE[request.q.qtype]
            if name.endswith((".bench.test", ".plain.test")):
                if qtype == "A":
                    reply.add_answer(RR(name, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
                elif qtype == "TXT":
                    kind, token = farm.sites.get(name, ("", ""))
                    if kind == "dns":
                        reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(f"enamad-verification={token}"), ttl=60))
            return reply

    server = DNSServer(Resolver(), address="127.0.0.1", port=0,
                       logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"))
    server.start_thread()
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seals", type=int, default=3000)
    ap.add_argument("--latency-ms", type=float, default=150.0, help="delay of every answer of the farm")
    ap.add_argument("--concurrency", type=int, default=32, help="network threads per batch (ENAMAD_MONITOR_CONCURRENCY)")
    ap.add_argument("--batch", type=int, default=200, help="seals per task (ENAMAD_MONITOR_BATCH_SIZE)")
    ap.add_argument("--timeout", type=int, default=3, help="ENAMAD_VERIFY_TIMEOUT_SECONDS")
    ap.add_argument("--single-thread-seals", type=int, default=100, help="seals for the one-thread pass")
    ap.add_argument("--database-url", default="", help="default: a throw-away SQLite file")
    ap.add_argument("--max-seconds", type=float, default=900, help="stop a pass after this long")
    ap.add_argument("--target", type=float, default=10_000, help="seals/hour every pass must reach (N21)")
    args = ap.parse_args()
    args.seals = max(100, min(args.seals, 50_000))

    work = Path(tempfile.mkdtemp(prefix="enamad-bench-"))
    farm = Farm(args.latency_ms / 1000, args.timeout + 1.5)
    ca_file, cert_file, key_file = tls_material(work)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    http = FarmServer(("127.0.0.1", 0), handler_for(farm))
    https = FarmServer(("127.0.0.1", 0), handler_for(farm))
    https.tls_context = context
    dns = dns_server(farm)
    for server in (http, https):
        start(server)
    os.environ.update({
        "RAMIS_VAR_DIR": str(work / "var"), "DJANGO_SETTINGS_MODULE": "ramis.settings", "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "CRITICAL", "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "ENAMAD_VERIFY_ALLOW_LOOPBACK": "1", "ENAMAD_DNS_RESOLVER": f"127.0.0.1:{dns.server.server_address[1]}",
        "ENAMAD_VERIFY_HTTP_PORT": str(http.server_address[1]),
        "ENAMAD_VERIFY_HTTPS_PORT": str(https.server_address[1]), "ENAMAD_VERIFY_CA_FILE": str(ca_file),
        "ENAMAD_VERIFY_TIMEOUT_SECONDS": str(args.timeout), "ENAMAD_MONITOR_CONCURRENCY": str(args.concurrency),
        "ENAMAD_MONITOR_BATCH_SIZE": str(args.batch),
        # Each pass is judged on its own: a failure is recorded on the first failed check (the
        # default of 2 in a row would leave pass 1's failures pending; the rate is the same).
        "ENAMAD_MONITOR_FAILURES": "1",
    })
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        failures = run(args, farm, work)
    finally:
        for server in (http, https):
            server.shutdown()
            server.server_close()
        dns.stop()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"enamad_monitor: FAILED: {'; '.join(failures)}", file=sys.stderr)
        sys.exit(1)


def make_seals(count: int, farm: Farm):
    from django.db.models import Max
    from django.utils import timezone

    from certauth.models import User
    from enamad.models import Account, Business, BusinessStatus, Seal, random_code, random_token

    user = User.objects.create_user(username=f"bench{RUN}", password=None)
    account = Account.objects.create(user=user, persona="natural", first_name="بنچ", last_name="پایش",
                                     national_code="0499370899", mobile="09121112233")
    now = timezone.now()
    businesses, tokens = [], []
    for i in range(count):
        kind, token = kind_of(i), random_token()
        method = {"file": "file", "dns": "dns"}.get(kind, "meta")
        businesses.append(Business(account=account, domain=domain_of(i), name=f"فروشگاه {i}", address="تهران",
                                   postal_code="1316943115", phone="02188776655", email=f"s{i}@bench.test",
                                   status=BusinessStatus.APPROVED, verification_token=token, domain_verified_at=now,
                                   domain_verified_method=method, tls_valid=kind != "http_only",
                                   reference=f"B{RUN}-{i}"[:20]))
        tokens.append((domain_of(i), kind, token))
    Business.objects.bulk_create(businesses, batch_size=1000)
    ids = dict(Business.objects.filter(account=account).values_list("domain", "pk"))
    first = (Seal.objects.aggregate(top=Max("number"))["top"] or 10_000_000) + 1
    seals = [Seal(business_id=ids[domain], number=first + i, code=random_code(), granted_at=now,
                  expires_at=now + dt.timedelta(days=365), stars=1 if kind == "http_only" else 2,
                  monitor_due_at=now - dt.timedelta(minutes=1))
             for i, (domain, kind, _token) in enumerate(tokens)]
    Seal.objects.bulk_create(seals, batch_size=1000)
    for domain, kind, token in tokens:
        farm.sites[domain] = (kind, token)
    return account


# What the monitor must record for each kind of shop: (stars, reachable, domain control lapsed).
# None: either is right (a broken shop answers 500 over valid TLS or drops the connection).
EXPECTED = {
    "https_meta": (2, True, False), "http_only": (1, True, False), "file": (2, True, False),
    "dns": (2, True, False), "lapsed": (2, True, True), "broken": (None, False, True), "slow": (1, False, True),
}


def wrong_answers(farm: Farm, seals) -> list[str]:
    """Compare each seal checked in this pass with what its shop serves."""
    from enamad.models import BusinessStatus

    rows = seals.filter(monitored_at__isnull=False)
    wrong = []
    for domain, stars, reachable, failing_since, status in rows.values_list(
            "business__domain", "stars", "reachable", "domain_failing_since", "business__status"):
        kind = farm.sites[domain][0]
        want_stars, want_reachable, want_lapsed = EXPECTED[kind]
        got = (stars, reachable, failing_since is not None)
        if (want_stars not in (None, stars) or (want_reachable, want_lapsed) != got[1:]
                or status != BusinessStatus.APPROVED):
            wrong.append(f"{domain} ({kind}): stars/reachable/lapsed {got}, status {status}")
    return wrong


def one_pass(label: str, args, *, concurrency: int, limit: int | None = None):
    from django.db import connection

    from enamad.seals import control as seal_control
    from enamad.seals import monitoring

    started = time.monotonic()
    totals = monitoring.BatchReport()
    claimed = 0
    while time.monotonic() - started < args.max_seconds:
        ids = seal_control.seals_claim_due(min(args.batch * 20, (limit or 10**9) - claimed))
        if not ids:
            break
        claimed += len(ids)
        for start_at in range(0, len(ids), args.batch):
            report = monitoring.run_batch(ids[start_at:start_at + args.batch], concurrency=concurrency)
            totals.checked += report.checked
            totals.healthy += report.healthy
            totals.changed += report.changed
            totals.failed_checks += report.failed_checks
            totals.network_seconds += report.network_seconds
            totals.record_seconds += report.record_seconds
            totals.events.update(report.events)
            totals.check_seconds += report.check_seconds
            totals.inconclusive |= report.inconclusive
            totals.record_errors += report.record_errors
        if limit and claimed >= limit:
            break
    elapsed = time.monotonic() - started
    rate = totals.checked / elapsed * 3600 if elapsed else 0
    q = sorted(totals.check_seconds) or [0.0]
    print(f"\n{label}")
    print(f"  seals checked                      {totals.checked:>10,}   in {elapsed:,.1f} s "
          f"({connection.vendor}, {concurrency} thread(s) per batch of {args.batch})")
    print(f"  rate on one worker                 {rate:>10,.0f} seals/hour   "
          f"(requirement: 10,000/hour → {'met' if rate >= 10_000 else 'NOT met'}, x{rate / 10_000:,.1f})")
    print(f"  healthy (one UPDATE per batch)     {totals.healthy:>10,}")
    print(f"  not healthy (locked transaction)   {totals.checked - totals.healthy:>10,}   "
          f"of which changed state: {totals.changed:,}")
    print(f"  check time p50 / p95 / max         {statistics.median(q) * 1000:>7,.0f} / "
          f"{q[int(len(q) * 0.95) - 1] * 1000:,.0f} / {q[-1] * 1000:,.0f} ms")
    print(f"  time in network phase / recording {totals.network_seconds:>10,.1f} s / {totals.record_seconds:,.1f} s")
    if totals.events:
        print("  events: " + ", ".join(f"{k.split('.')[-1]}={v}" for k, v in sorted(totals.events.items())))
    if totals.inconclusive or totals.failed_checks or totals.record_errors:
        print(f"  inconclusive batch: {totals.inconclusive}; crashed checks: {totals.failed_checks}; "
              f"not recorded: {len(totals.record_errors)}")
    return rate, totals


def run(args, farm: Farm, work: Path) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from enamad.models import Seal
    from ramis.common.models import AuditEntry, OutboxMessage

    call_command("migrate", verbosity=0)
    print(f"e-Namad monitoring benchmark ({os.cpu_count()} cores; farm on 127.0.0.1 with {args.latency_ms:.0f} ms "
          f"per answer; timeout {args.timeout} s; {work})")
    t0 = time.monotonic()
    account = make_seals(args.seals, farm)
    mine = Seal.objects.filter(business__account=account)
    Seal.objects.exclude(business__account=account).update(monitor_due_at=timezone.now() + dt.timedelta(days=30))  # older runs
    print(f"  {args.seals:,} seals created in {time.monotonic() - t0:,.1f} s; mix: "
          + ", ".join(f"{k} {v}%" for k, v in MIX))

    failures: list[str] = []

    def judged(label: str, **kwargs) -> float:
        mine.update(monitored_at=None)
        rate, totals = one_pass(label, args, **kwargs)
        wrong = wrong_answers(farm, mine)
        print(f"  wrong answers                      {len(wrong):>10,}" + "".join(f"\n    {w}" for w in wrong[:5]))
        name = label.split(":")[0]
        if wrong:
            failures.append(f"{name}: {len(wrong)} seal(s) recorded wrongly (first: {wrong[0]})")
        if totals.failed_checks or totals.record_errors or totals.inconclusive:
            failures.append(f"{name}: {totals.failed_checks} crashed check(s), {len(totals.record_errors)} not "
                            f"recorded, inconclusive={totals.inconclusive}")
        if rate < args.target:
            failures.append(f"{name}: {rate:,.0f} seals/hour is below the target of {args.target:,.0f}")
        return rate

    judged("Pass 1: first check of every seal (finds the failures)", concurrency=args.concurrency)
    print(f"  audit rows written: {AuditEntry.objects.count():,}; notifications queued: "
          f"{OutboxMessage.objects.count():,}")
    mine.update(monitor_due_at=timezone.now() - dt.timedelta(minutes=1))
    steady = judged("Pass 2: the next round (steady state)", concurrency=args.concurrency)
    mine.update(monitor_due_at=timezone.now() - dt.timedelta(minutes=1))  # 100 seals = one full mix
    single = judged(f"Pass 3: one network thread ({args.single_thread_seals} seals)", concurrency=1,
                    limit=args.single_thread_seals)
    print(f"\nFarm answered {sum(farm.requests.values()):,} requests: "
          + ", ".join(f"{k}={v:,}" for k, v in sorted(farm.requests.items())))
    print(f"Summary: {steady:,.0f} seals/hour with {args.concurrency} threads, {single:,.0f} seals/hour with one, "
          f"on one worker process.")
    return failures


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    main()
