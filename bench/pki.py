"""PKI benchmark: prints our figures beside references measured in the same run.

    .venv/bin/python bench/pki.py [--certs 300] [--rounds 5] [--seconds 3] [--clients 16]
                                  [--only signing,issuance,django-ca,scaling,ocsp,crl] [--wsgi] [--client auto|c|python]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ramis_bench .venv/bin/python bench/pki.py

Runs against a throwaway SoftHSM token directory and, by default, a throwaway
SQLite database (the embedded default: WAL, synchronous=FULL, i.e. one fsync
per commit); nothing under var/ is touched. With a PostgreSQL DATABASE_URL
the database named there (its name must end in ``_bench``) is dropped and
created afresh. It prints, it does not assert.

The machine is shared, so every figure is taken in ``--rounds`` rounds that
alternate between ours and the reference, and printed as best / median /
worst; CPU time per operation (which load disturbs less than wall time) is
printed beside it. What is measured, exactly:

* **Signing on the token**: RSA-2048 and EC P-256 signatures per second
  through ``tokens/`` (one process, SoftHSM).
* **Issuance**: in each round, ``certs/rounds`` certificates through
  ``services.certificate_issue`` (CSR parse and signature check = proof of
  possession, subject from the request, profile ``seal``, pkilint on the
  draft whose TBS the token then signs (the profile's fixed parts linted
  once per process, the varying ones every time) and refusal on
  ERROR/FATAL, signing on the CA token, the certificate row, its two
  pre-signed OCSP answers (SHA-1 and SHA-256 CertIDs, EC P-256 on the token)
  and the audit row in one committed transaction; every certificate with a
  subject of its own; the round's audit entries sealed inside its time),
  beside the same number of
  bare signings (CSR parse → minimal certificate signed on the same token
  key). Sequential, one process, EC P-256 subject keys. With ``django-ca`` in
  ``--only``, each round also times django-ca 3.2.0's ``create_cert`` (HSM
  backend, SoftHSM token of its own) in a virtualenv: see bench/djangoca.py.
* **Scaling** (bench/pki_scaling.py): the full service in 1, 2 and 4 processes at
  once, certificates per second in all; with ``django-ca`` in ``--only``, each
  round next to django-ca's ``create_cert`` in as many processes of its own.
* **OCSP**: the same POST requests (SHA-1 CertIDs, as OpenSSL sends, for the
  certificates just issued, 10 % of them revoked) to
  ours — ``manage.py ca ocsp-serve --workers 2`` (:mod:`ramis.ca.ocsp_server`:
  two processes on one SO_REUSEPORT port; pre-signed answers: per-process
  dict, then the database) — and to
  ``openssl ocsp -index … -multi 2`` (2 processes, signing each answer with a
  software EC P-256 key) serving the same certificates. Before timing, every
  answer of both is checked (successful, the right serial, good/revoked as in
  the database, signature valid). The client is one process with one epoll
  loop and ``--clients`` connections, each with one request in flight
  (pre-built request bytes), used identically for both servers: by default
  ``bench/ocsp_load.c``, compiled with ``cc -O2`` into the run's temporary
  directory, or, without a C compiler or with ``--client python``, the
  Python client ``run_client`` here, which behaves the same at a third more
  CPU per answer with a new connection each time (47–51 against 36–37 µs
  measured) and half more on a kept-alive one (the output says which ran).
  Both count an answer as ok only if it is a whole HTTP response,
  status 200, with a successful OCSPResponse of the expected length (ours:
  the pre-signed answer's exact length; openssl's: the checked answer's,
  give or take its fresh ECDSA signature's DER length). Two modes:
  *keep-alive* — HTTP/1.1 as clients send it; a server that keeps the
  connection open gets the next request on it (ours does; OpenSSL 3.0's
  responder answers HTTP/1.0 and closes, so it gets a new connection each
  time: that is its behaviour, not the client's choice); and *close* —
  ``Connection: close`` on every request, so both pay a TCP connection per
  answer. At the end of a round no connection is dropped with a request in
  flight (OpenSSL 3.0's responder spins at 100 % CPU when a client does
  that); the answers still in flight are waited for and counted. Server CPU
  per answer is the servers' processes' user+system time over the round,
  client CPU per answer the client's own; besides the rate ratio it prints
  the ratio of answers per server CPU-second (capacity if the servers had
  the cores to themselves) and per server + client CPU-second (what the rate
  ratio follows when, as here, client and servers share the cores).
* **OCSP with wrk** (bench/ocsp_wrk.py, when wrk is installed): ours and openssl again, and our
  Django view (gunicorn ``ramis.wsgi``) beside django-ca 3.2.0's pre-signed ``GenericOCSPView``
  (gunicorn in its throwaway virtualenv, certificates of its own CA), keep-alive and
  ``Connection: close``.
* **CRL**: 100,000 revoked entries encoded and signed on the token; then
  ``services.crl_publish`` with 100,000 revoked certificate rows in the
  database (read the rows, build, sign on the token, store the CRL, audit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import djangoca  # noqa: E402  (bench/djangoca.py)
import ocsp_wrk  # noqa: E402  (bench/ocsp_wrk.py)
import wrk_client  # noqa: E402  (bench/wrk_client.py)
from pki_scaling import SUBJECT, make_csrs, scaling_section, varied  # noqa: E402  (bench/pki_scaling.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, request: bytes, timeout: float = 30) -> None:
    """Wait until the server answers ``request`` (a whole HTTP request with ``Connection: close``).

    Never a bare connect-and-close: OpenSSL 3.0's responder spins at 100 % of a core from then on
    (measured: one of its ``-multi`` children stays busy while idle), which took a core from every
    round of both servers in earlier runs of this benchmark.
    """
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(request)
                while s.recv(65536):
                    pass
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answering on 127.0.0.1:{port}")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its direct children (our workers, openssl -multi)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def stop(p: subprocess.Popen) -> None:
    """SIGTERM a server we started and the workers it forked (openssl -multi leaves them running)."""
    if p.poll() is not None:
        return
    for pid in [p.pid, *_children(p.pid)]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    v = sorted(values)
    return f"{fmt.format(v[-1])} (median {fmt.format(statistics.median(v))}, worst {fmt.format(v[0])})"


def line(label: str, ours: str, ref: str = "") -> None:
    print(f"  {label:<44} {ours:>34}   {ref}")


# -- the OCSP load client ----------------------------------------------------------------------------


def build_requests(port: int, path: str, bodies: list[bytes], keep_alive: bool) -> list[bytes]:
    close = b"" if keep_alive else b"Connection: close\r\n"
    return [
        (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/ocsp-request\r\n"
         f"Content-Length: {len(b)}\r\n").encode() + close + b"\r\n" + b
        for b in bodies
    ]


def _successful(der: bytes) -> bool:
    # OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED successful(0), ... }
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    return der[i:i + 3] == b"\x0a\x01\x00"


def run_client(port: int, wires: list[bytes], lengths: list[tuple[int, int]], conns: int, seconds: float,
               offset: int = 0, drain_timeout: float = 10.0) -> tuple[int, int, int, float, float]:
    """``conns`` connections, one request in flight on each, one epoll loop (bench/ocsp_load.c does the same).

    Until ``seconds`` have passed each answer is followed by the next request
    (on the same connection if the server keeps it open, else on a new one);
    then nothing new is sent and the requests in flight are waited for. An
    answer is ok when it is status 200, its body within ``lengths`` of its
    request (least, greatest) and a successful OCSPResponse.
    Returns (answers ok, bad, connections opened, seconds, client CPU seconds).
    """
    sel = selectors.DefaultSelector()
    ok = bad = opened = 0
    n = len(wires)
    state: dict[socket.socket, list] = {}
    sending = True

    def connect(j: int) -> None:
        nonlocal opened
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        opened += 1
        state[s] = [j, bytearray()]
        sel.register(s, selectors.EVENT_WRITE)

    def drop(s: socket.socket) -> None:
        sel.unregister(s)
        s.close()
        del state[s]

    c0, t0 = time.process_time(), time.perf_counter()
    deadline = time.monotonic() + seconds
    for i in range(conns):
        connect(offset + i)
    while state:
        now = time.monotonic()
        if now >= deadline:
            if not sending:  # the drain timed out
                bad += len(state)
                for s in list(state):
                    drop(s)
                break
            sending, deadline = False, now + drain_timeout
        for key, ev in sel.select(0.2):
            s = key.fileobj
            st = state[s]
            if ev & selectors.EVENT_WRITE:
                try:
                    s.send(wires[st[0] % n])  # a few hundred bytes: one call
                except OSError:
                    bad += 1
                    drop(s)
                    if sending:
                        connect(st[0] + conns)
                    continue
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:  # closed before a whole answer
                bad += 1
                drop(s)
                if sending:
                    connect(st[0] + conns)
                continue
            buf = st[1]
            buf += chunk
            head_end = buf.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = bytes(buf[:head_end]).lower()
            p = head.find(b"content-length:")
            e = head.find(b"\r\n", p)
            length = int(head[p + 15:e if e > 0 else None]) if p >= 0 else 0
            if len(buf) < head_end + 4 + length:
                continue
            body = bytes(buf[head_end + 4:head_end + 4 + length])
            least, greatest = lengths[st[0] % n]
            if (head[9:12] == b"200" and least <= len(body) <= greatest and len(body) > 8 and body[0] == 0x30
                    and _successful(body)):
                ok += 1
            else:
                bad += 1
            close = b"connection: close" in head or (
                head.startswith(b"http/1.0") and b"connection: keep-alive" not in head)
            if close or not sending:
                drop(s)
                if sending:
                    connect(st[0] + conns)
            else:
                st[0] += conns
                st[1] = bytearray()
                sel.modify(s, selectors.EVENT_WRITE)
    return ok, bad, opened, time.perf_counter() - t0, time.process_time() - c0


def _client_child(queue, *args) -> None:
    queue.put(run_client(*args))


def build_c_client(work: Path) -> Path | None:
    """bench/ocsp_load.c compiled with ``cc -O2`` into ``work``; None without a C compiler."""
    cc = shutil.which("cc")
    if cc is None:
        return None
    exe = work / "ocsp_load"
    subprocess.run([cc, "-O2", "-o", str(exe), str(ROOT / "bench" / "ocsp_load.c")], check=True)
    return exe


def write_requests(path: Path, wires: list[bytes], lengths: list[tuple[int, int]]) -> None:
    """The requests file bench/ocsp_load.c reads: count, then (wire length, least and greatest body length, wire)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(wires)))
        for wire, (least, greatest) in zip(wires, lengths, strict=True):
            f.write(struct.pack("<III", len(wire), least, greatest) + wire)


def load(client: Path | None, port: int, wires: list[bytes], lengths: list[tuple[int, int]], conns: int,
         seconds: float, offset: int, requests: Path):
    """One round of the load client, in a process of its own (so its CPU is its own): the C client
    when it was built (``requests``: the file write_requests wrote), else run_client."""
    if client is not None:
        out = subprocess.run([str(client), str(port), str(requests), str(conns), str(seconds), str(offset)],
                             capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
        r = json.loads(out)
        return r["ok"], r["bad"], r["opened"], r["seconds"], r["cpu"]
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_client_child, args=(q, port, wires, lengths, conns, seconds, offset))
    p.start()
    result = q.get()
    p.join()
    return result


# -- setup -----------------------------------------------------------------------------------------


def prepare_database(env: dict) -> str:
    url = env.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "SQLite (embedded default: WAL, synchronous=FULL)"
    import dj_database_url
    import psycopg

    conf = dj_database_url.parse(url)
    name = conf["NAME"]
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to drop database {name!r}: a benchmark database's name ends in _bench")
    with psycopg.connect(host=conf["HOST"] or None, port=conf["PORT"] or None, user=conf["USER"] or None,
                         password=conf["PASSWORD"] or None, dbname="postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"PostgreSQL ({name} on {conf['HOST']}:{conf['PORT']})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--only", default="signing,issuance,django-ca,scaling,ocsp,crl",
                    help="parts to run (default: all; django-ca: django-ca's issuance beside ours, "
                         "and in the scaling part with as many processes)")
    ap.add_argument("--wsgi", action="store_true", help="also time ramis.ca.wsgi under gunicorn gthread workers")
    ap.add_argument("--client", choices=("auto", "c", "python"), default="auto",
                    help="OCSP load client: bench/ocsp_load.c built with cc if there is one (auto), or the Python one")
    args = ap.parse_args()
    args.only = set(args.only.split(","))

    work = Path(tempfile.mkdtemp(prefix="ramis-bench-"))
    env = dict(os.environ, RAMIS_VAR_DIR=str(work / "var"), SOFTHSM_DIR=str(work / "softhsm"),
               DJANGO_SETTINGS_MODULE="ramis.settings", DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost",
               PUBLIC_BASE_URL="http://pki.ramis.ir", LOG_LEVEL="WARNING")
    for name in ("REDIS_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)  # Celery eager and a local cache, as in the embedded default
    os.environ.clear()
    os.environ.update(env)
    procs: list[subprocess.Popen] = []
    try:
        run(args, work, env, procs)
    finally:
        for p in procs:  # stop each server and the workers it forked, by pid
            stop(p)
        if "django" in sys.modules and apps_ready():  # seal what is pending while the database still exists
            from ramis.common import audit

            audit.stop_delayed_sealer()
        shutil.rmtree(work, ignore_errors=True)


def apps_ready() -> bool:
    from django.apps import apps

    return apps.ready


def run(args, work: Path, env: dict, procs: list) -> None:
    db = prepare_database(env)
    import django

    django.setup()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.x509 import ocsp as c_ocsp
    from cryptography.x509.oid import NameOID
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from ramis.ca import builder, crl, services, signing
    from ramis.ca.models import CertificateAuthority, IssuedCertificate
    from ramis.common import audit

    call_command("migrate", verbosity=0)
    services.ca_init(actor=None)
    issuing = CertificateAuthority.objects.get(slug="issuing")
    sg = signing.signer(issuing)
    ssl_version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split(" (")[0].strip()
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.machine())
    print(f"PKI benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  machine: {os.cpu_count()} cores ({cpu}), load average {os.getloadavg()[0]:.1f} at start")
    print(f"  Python {platform.python_version()}, {ssl_version}, SoftHSM; database: {db}")
    print(f"  {args.rounds} rounds each, ours and the reference alternating; best (median, worst)")

    # 1. raw signing on SoftHSM
    if "signing" in args.only:
        print("\nSigning on the token (one process), per second")
        rsa_key, ec_key = sg.key, signing.responder(issuing).responder_key
        data = b"x" * 64
        rates: dict[str, list[float]] = {"rsa": [], "ec": []}
        for _ in range(args.rounds):
            for name, fn in (("rsa", lambda: rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())),
                             ("ec", lambda: ec_key.sign(data, ec.ECDSA(hashes.SHA256())))):
                n, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < 0.5:
                    fn()
                    n += 1
                rates[name].append(n / (time.perf_counter() - t0))
        line("RSA-2048 signatures/s", spread(rates["rsa"]), "reference ≈ 1,600/s")
        line("EC P-256 signatures/s", spread(rates["ec"]), "reference ≈ 11,000/s")

    # 2. issuance
    per_round = max(1, args.certs // args.rounds)
    unlinted_too = "django-ca" in args.only  # the diagnostic rounds below, beside django-ca's
    csrs = make_csrs(per_round * args.rounds * (2 if unlinted_too else 1))
    unlinted_csrs = csrs[per_round * args.rounds:]
    subject = SUBJECT
    services.certificate_issue(profile="seal", csr_pem=csrs[0], subject=subject, actor=None)  # warm caches
    signing.prepare_process()  # as the signing worker's children do on start (gc.freeze)
    issued = []
    bare, full, full_cpu, theirs, unlinted = [], [], [], [], []
    djca = djangoca.DjangoCA(work, env, prepare_database, settings.PKCS11_MODULE) if "django-ca" in args.only else None
    if djca is not None:
        procs.append(djca.start())
        load_start = os.getloadavg()[0]
    for r in range(args.rounds):
        batch = csrs[r * per_round:(r + 1) * per_round]
        t0 = time.perf_counter()
        for csr_pem in batch:
            csr = x509.load_pem_x509_csr(csr_pem)
            now = builder.now()
            (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
                .issuer_name(sg.cert.subject)
                .public_key(csr.public_key())
                .serial_number(builder.random_serial())
                .not_valid_before(now)
                .not_valid_after(now + dt.timedelta(days=730))
                .sign(sg.key, hashes.SHA256())
            )
        bare.append(len(batch) / (time.perf_counter() - t0))
        rate, cpu_ms = issuance_round(services, audit, batch, subject, r * per_round, issued)
        full.append(rate)
        full_cpu.append(cpu_ms)
        if djca is not None:
            theirs.append(djca.round(len(batch)))
        if unlinted_too:  # diagnostic: what the lint costs in place (never a mode of the portal)
            unlinted.append(unlinted_round(services, audit, unlinted_csrs[r * per_round:(r + 1) * per_round],
                                           subject, 50_000 + r * per_round))
    if "issuance" in args.only:
        print(f"\nIssuance: {args.rounds} × {per_round} certificates, EC P-256 subject keys, RSA-2048 CA key on "
              f"the token; {db.split(' (')[0]}")
        line("bare CSR → certificate on the token /s", spread(bare), "reference ≈ 1,000/s")
        line("full service /s", spread(full),
             f"target ≥ 100/s; {max(full) / max(bare):.2f}× bare signing (best/best)")
        cpu_ms = sorted(full_cpu)
        line("  its CPU per certificate", f"{cpu_ms[0]:.1f} ms (median {statistics.median(cpu_ms):.1f}, "
             f"worst {cpu_ms[-1]:.1f})", "verify, lint, sign, store, audit, 2 OCSP answers pre-signed")
    if djca is not None:
        djca.close()
        djangoca.report(line, spread, djca, full, full_cpu, theirs, load_start, db, unlinted,
                        lint_loop_ms([bytes(c.der) for c in issued[-per_round:]]))

    if "scaling" in args.only:
        connections.close_all()
        scaling_section(args, db, line, spread, djca)

    if "ocsp" in args.only:
        ocsp_section(args, work, env, procs, issued, sg, IssuedCertificate, builder, c_ocsp, hashes,
                     serialization, ec, x509, NameOID, services, connections)

    # 4. CRL
    if "crl" in args.only:
        print("\nCRL with 100,000 revoked entries, signed on the token")
        now = builder.now()
        entries = [crl.RevokedEntry(builder.random_serial(), now - dt.timedelta(seconds=i), "key_compromise")
                   for i in range(100_000)]
        times = []
        for _ in range(min(3, args.rounds)):
            t0 = time.perf_counter()
            der = crl.build_crl(issuer_cert=sg.cert, key=sg.key, entries=entries, number=999_999, this_update=now,
                                next_update=now + dt.timedelta(days=1))
            times.append(time.perf_counter() - t0)
        times.sort()
        line("generate + sign", f"{times[0]:.2f} s (worst {times[-1]:.2f} s)",
             f"target ≤ 5 s; {len(der) / 1e6:.1f} MB")
        crl_publish_section(args, issuing, entries, services, IssuedCertificate)
    print(f"\n  load average {os.getloadavg()[0]:.1f} at the end")


def issuance_round(services, audit, batch: list[bytes], subject: dict, first: int,
                   issued: list | None = None) -> tuple[float, float]:
    """(certificates/s, CPU ms per certificate) of ``services.certificate_issue`` on ``batch``, each
    with a subject of its own (``varied(subject, first + i)``, as applicants have), the round's audit
    entries sealed inside its time (AUDIT_SEAL_DELAY_MS); the certificates appended to ``issued``."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i, csr_pem in enumerate(batch):
        cert = services.certificate_issue(profile="seal", csr_pem=csr_pem, actor=None, subject=varied(subject, first + i))
        if issued is not None:
            issued.append(cert)
    audit.stop_delayed_sealer()
    return len(batch) / (time.perf_counter() - t0), (time.process_time() - c0) / len(batch) * 1000


def unlinted_round(services, audit, batch: list[bytes], subject: dict, first: int) -> tuple[float, float]:
    """:func:`issuance_round` with pkilint's lint replaced by one that finds nothing, for this run's
    report only: how much of ours the lint is, in place. The portal has no such mode; the
    benchmark's CA and database are thrown away."""
    from ramis.ca import lint

    real = lint.lint_certificate
    lint.lint_certificate = lambda der, etsi_type=None: []
    try:
        return issuance_round(services, audit, batch, subject, first)
    finally:
        lint.lint_certificate = real


def lint_loop_ms(ders: list[bytes]) -> float:
    """CPU ms per certificate of pkilint's lint run on ``ders`` back to back (three passes, the
    best): the lint with everything it touches in the CPU's caches, as it never is in place."""
    from ramis.ca import lint, profiles

    etsi_type = profiles.get_profile("seal").etsi_type
    best = float("inf")
    for _ in range(3):
        c0 = time.process_time()
        for der in ders:
            lint.lint_certificate(der, etsi_type)
        best = min(best, (time.process_time() - c0) / len(ders) * 1000)
    return best


def crl_publish_section(args, issuing, entries, services, IssuedCertificate) -> None:
    """``services.crl_publish`` over 100,000 revoked rows in the database: read the rows, build,
    sign on the token, store the CRL, prune old ones, audit — what a revocation's task and the
    hourly beat run."""
    from django.utils import timezone

    S = IssuedCertificate.Status
    now = timezone.now()
    t0 = time.perf_counter()
    IssuedCertificate.objects.bulk_create(
        (IssuedCertificate(ca=issuing, serial_hex=format(e.serial, "x"), profile="seal", subject="CN=bench",
                           der=b"bench", sha1="0" * 40, sha256=format(e.serial, "064x")[-64:], not_before=now,
                           not_after=now + dt.timedelta(days=365), status=S.REVOKED, revoked_at=e.revoked_at,
                           revocation_reason=e.reason) for e in entries),
        batch_size=5000,
    )
    setup = time.perf_counter() - t0
    revoked = IssuedCertificate.objects.filter(ca=issuing, status__in=[S.REVOKED, S.ON_HOLD]).count()
    times, cpu = [], []
    for _ in range(min(3, args.rounds)):
        t0, c0 = time.perf_counter(), time.process_time()
        row = services.crl_publish(ca_slug=issuing.slug)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert row.entries == revoked, (row.entries, revoked)
    times.sort()
    line(f"services.crl_publish, {revoked:,} revoked rows", f"{times[0]:.2f} s (worst {times[-1]:.2f} s)",
         f"target ≤ 5 s; CPU {min(cpu):.2f} s; rows inserted in {setup:.1f} s")


def ocsp_section(args, work, env, procs, issued, sg, IssuedCertificate, builder, c_ocsp, hashes, serialization,
                 ec, x509, NameOID, services, connections) -> None:
    revoked = issued[: len(issued) // 10]
    for c in revoked:
        services.certificate_revoke(serial=c.serial_hex, reason="key_compromise", actor=None)
    expected = {int(c.serial_hex, 16): c.status for c in IssuedCertificate.objects.all()}
    bodies = [
        c_ocsp.OCSPRequestBuilder()
        .add_certificate(x509.load_der_x509_certificate(bytes(c.der)), sg.cert, hashes.SHA1())  # noqa: S303 - the CertID hash OpenSSL sends by default
        .build().public_bytes(serialization.Encoding.DER)
        for c in issued
    ]

    # openssl's responder: same certificates, its own software EC key (it cannot use our token)
    resp_key = ec.generate_private_key(ec.SECP256R1())
    resp_cert = builder.build_ocsp_responder(
        public_key=resp_key.public_key(), subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openssl")]),
        issuer=sg,
    )
    (work / "rsigner.pem").write_bytes(builder.pem(resp_cert))
    (work / "rkey.pem").write_bytes(resp_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (work / "ca.pem").write_bytes(builder.pem(sg.cert))
    (work / "index.txt.attr").write_text("unique_subject = no\n")
    with open(work / "index.txt", "w") as f:
        for c in IssuedCertificate.objects.all():
            exp = c.not_after.strftime("%y%m%d%H%M%SZ")
            hexserial = c.serial_hex.upper()
            hexserial = ("0" if len(hexserial) % 2 else "") + hexserial  # openssl wants whole octets
            if c.status == IssuedCertificate.Status.REVOKED:
                f.write(f"R\t{exp}\t{c.revoked_at:%y%m%d%H%M%SZ},keyCompromise\t{hexserial}\tunknown\t/CN=b{c.pk}\n")
            else:
                f.write(f"V\t{exp}\t\t{hexserial}\tunknown\t/CN=b{c.pk}\n")
    connections.close_all()

    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    servers = {
        "ours": ([sys.executable, "manage.py", "ca", "ocsp-serve", "--workers", "2", "--bind"],
                 "/ca/ocsp/issuing/", True),
        "openssl": (["openssl", "ocsp", "-index", str(work / "index.txt"), "-rsigner", str(work / "rsigner.pem"),
                     "-rkey", str(work / "rkey.pem"), "-CA", str(work / "ca.pem"), "-multi", "2", "-nmin", "60",
                     "-port"], "/", False),
    }
    if args.wsgi:
        servers["ours, WSGI gthread"] = ([gunicorn, "ramis.ca.wsgi:application", "-w", "2", "-k", "gthread",
                                          "--threads", "4", "--log-level", "warning", "-b"], "/ca/ocsp/issuing/",
                                         True)
    running = {}
    for name, (cmd, path, new_session) in servers.items():
        port = free_port()
        arg = f"127.0.0.1:{port}" if cmd[-1] in ("-b", "--bind") else str(port)
        # openssl -multi calls setsid() itself and gives up if it already leads a session
        p = subprocess.Popen([*cmd, arg], cwd=ROOT, env=env, start_new_session=new_session,
                             stdout=subprocess.DEVNULL, stderr=open(work / f"{name.split(',')[0]}.log", "a"))
        procs.append(p)
        running[name] = (p, port, path)
    lengths, workloads = {}, {}
    for name, (_p, port, path) in running.items():
        wait_port(port, build_requests(port, path, bodies[:1], keep_alive=False)[0])
        lengths[name] = check_answers(name, port, path, bodies, expected, resp_cert, c_ocsp, ec, hashes, x509)
        for mode in ("keep-alive", "close"):
            wires = build_requests(port, path, bodies, mode == "keep-alive")
            requests = work / f"requests-{port}-{mode}.bin"
            write_requests(requests, wires, lengths[name])
            workloads[(name, mode)] = (wires, requests)
    client = None if args.client == "python" else build_c_client(work)
    if args.client == "c" and client is None:
        raise SystemExit("bench/pki.py: --client c needs a C compiler (cc)")
    print(f"\nOCSP: {args.clients} concurrent connections, POST, {args.seconds:.0f} s per round, "
          f"{len(bodies)} certificates ({len(revoked)} revoked); every answer of both checked first")
    if client is not None:
        print("  client: bench/ocsp_load.c (built with cc -O2), the same for both servers")
    else:
        print("  client: the Python epoll client (run_client), the same for both servers"
              + ("" if args.client == "python" else " — no C compiler (cc) found, so not bench/ocsp_load.c"))
    results: dict[tuple[str, str], list] = {}
    for r in range(args.rounds):
        for mode in ("keep-alive", "close"):
            for name, (p, port, _path) in running.items():
                wires, requests = workloads[(name, mode)]
                s0 = cpu_seconds(p.pid)
                ok, bad, opened, secs, client_cpu = load(client, port, wires, lengths[name], args.clients,
                                                         args.seconds, r * args.clients, requests)
                server_cpu = cpu_seconds(p.pid) - s0
                results.setdefault((name, mode), []).append(
                    (ok / secs, bad, opened, server_cpu / max(ok, 1) * 1e6, client_cpu / max(ok, 1) * 1e6))
    for mode in ("keep-alive", "close"):
        print(f"  {mode}: " + ("HTTP/1.1, the connection reused where the server allows it" if mode == "keep-alive"
                               else "Connection: close on every request (a TCP connection per answer)"))
        for name in running:
            rows = results[(name, mode)]
            label = {"ours": "ours: pre-signed, ca ocsp-serve --workers 2",
                     "openssl": "openssl ocsp -index -multi 2"}.get(name, name)
            line(f"  {label} /s", spread([x[0] for x in rows]),
                 f"server {statistics.median(x[3] for x in rows):.0f} µs CPU/answer, "
                 f"client {statistics.median(x[4] for x in rows):.0f} µs, "
                 f"{sum(x[2] for x in rows) / sum(x[0] for x in rows) / args.seconds:.2f} connections/answer, "
                 f"{sum(x[1] for x in rows)} failed")
        ours, theirs = [x[0] for x in results[("ours", mode)]], [x[0] for x in results[("openssl", mode)]]
        per_round = sorted(o / t for o, t in zip(ours, theirs, strict=True))
        line("  ratio", f"{max(ours) / max(theirs):.2f}× best/best",
             f"per round: median {statistics.median(per_round):.2f}×, worst {per_round[0]:.2f}×; target ≥ 1.5×")
        cpu_ours = statistics.median(x[3] for x in results[("ours", mode)])
        cpu_theirs = statistics.median(x[3] for x in results[("openssl", mode)])
        line("  answers per server CPU-second", f"{cpu_theirs / cpu_ours:.2f}× openssl's",
             "(the load-independent view: capacity if the servers had the cores to themselves)")
        both_ours = statistics.median(x[3] + x[4] for x in results[("ours", mode)])
        both_theirs = statistics.median(x[3] + x[4] for x in results[("openssl", mode)])
        line("  … of server and client CPU together", f"{both_theirs / both_ours:.2f}× openssl's",
             "(what the rate ratio tends to while client and server share the cores)")
    if wrk_client.available():
        from django.conf import settings

        extra = ocsp_wrk.django_servers(args, work, env, procs, bodies, {int(c.serial_hex, 16) for c in revoked},
                                        free_port, prepare_database, settings.PKCS11_MODULE)
        ocsp_wrk.wrk_section(args, running, bodies, servers, env, procs, stop, wait_port, build_requests, free_port,
                             extra)
        for p, *_rest in extra.values():
            stop(p)
    else:
        print("  wrk: not installed (make bench-deps), so no figures from a client nobody here wrote")
    for p, _port, _path in running.values():
        stop(p)


def check_answers(name, port, path, bodies, expected, openssl_resp_cert, c_ocsp, ec, hashes,
                  x509) -> list[tuple[int, int]]:
    """Each request answered successfully, for its serial, with the status the database has, validly signed.

    Returns each request's expected answer length (least, greatest), which the load client checks:
    ours answers pre-signed bytes, so exactly the length checked here; openssl signs every answer
    afresh, so its length is the one checked here give or take its ECDSA signature's, whose DER
    (SEQUENCE of two INTEGERs of 1 to 33 bytes) is 8 to 72 bytes long.
    """
    import http.client

    lengths = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for body in bodies:
        conn.request("POST", path, body, {"Content-Type": "application/ocsp-request", "Connection": "close"})
        raw = conn.getresponse().read()
        conn.close()
        resp = c_ocsp.load_der_ocsp_response(raw)
        req = c_ocsp.load_der_ocsp_request(body)
        status = expected[req.serial_number]
        want = c_ocsp.OCSPCertStatus.REVOKED if status == "revoked" else c_ocsp.OCSPCertStatus.GOOD
        assert resp.response_status == c_ocsp.OCSPResponseStatus.SUCCESSFUL, (name, resp.response_status)
        assert resp.serial_number == req.serial_number and resp.certificate_status == want, name
        assert resp.issuer_key_hash == req.issuer_key_hash, name
        signer = resp.certificates[0] if resp.certificates else openssl_resp_cert
        signer.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))
        if name == "openssl":
            lengths.append((len(raw) - len(resp.signature) + 8, len(raw) - len(resp.signature) + 72))
        else:
            lengths.append((len(raw), len(raw)))
    return lengths


if __name__ == "__main__":
    main()
