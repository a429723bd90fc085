"""TSA benchmark: timestamps per second, ours beside ``openssl ts -reply`` in the same run.

    .venv/bin/python bench/tsa.py [--rounds 5] [--seconds 2]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ramis_bench .venv/bin/python bench/tsa.py

Like bench/pki.py (whose helpers it uses): a throwaway SoftHSM token directory and, by default,
a throwaway SQLite database (with a PostgreSQL DATABASE_URL, the database named there — its name
must end in ``_bench`` — is dropped and created afresh). It prints, it does not assert.

What is timed, sequentially in one process, in ``--rounds`` rounds alternating between ours and
the references, printed as best (median, worst) with the CPU time per timestamp:

* **ours, on the token**: :func:`ramis.ca.tsa_services.timestamp_reply` — what the TSA signing
  worker does per request: parse and check the ``TimeStampReq``, the serial (one committed
  INSERT of the timestamp's row), build ``TSTInfo`` and the CMS ``SignedData``, sign on the TSA's
  SoftHSM token (EC P-256), encode the ``TimeStampResp``;
* **ours, file key**: the same code with an in-memory EC P-256 key (the token's share);
* **openssl ts -reply**: one ``openssl ts -reply`` process per timestamp, signing with a
  software EC P-256 key read from a file, serial from its serial file (how OpenSSL's TSA runs);
* **openssl process**: ``openssl version`` processes per second — the process start that
  ``openssl ts -reply`` pays on every timestamp, so its signing share can be told apart;
* **ours over HTTP** (``--http``, on by default): ``POST /ca/tsa/`` to ``ramis.wsgi`` under
  gunicorn (one sync worker, the embedded default: it signs in-process), one request at a time
  from this process, a new connection each (gunicorn's sync worker closes it); CPU is the
  server's and this client's.

Every reply is checked once before timing (granted; ours verified by ``openssl ts -verify``).
The load average is printed at the start and the end: the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pki  # noqa: E402  (bench/pki.py: the same database preparation and printing)

OPENSSL_CNF = """\
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/ref-tsa.pem
certs = $dir/chain.pem
signer_key = $dir/ref-tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def cpu_now(children: bool = False) -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn, seconds: float, children: bool = False) -> tuple[float, float]:
    """(operations per second, CPU milliseconds per operation) of calling ``fn`` for ``seconds``."""
    count, cpu0, t0 = 0, cpu_now(children), time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        fn()
        count += 1
    return count / elapsed, (cpu_now(children) - cpu0) / count * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--http", action=argparse.BooleanOptionalAction, default=True,
                    help="also time POST /ca/tsa/ through gunicorn")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ramis-bench-tsa-"))
    env = dict(os.environ, RAMIS_VAR_DIR=str(work / "var"), SOFTHSM_DIR=str(work / "softhsm"),
               DJANGO_SETTINGS_MODULE="ramis.settings", DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost",
               PUBLIC_BASE_URL="http://pki.ramis.ir", LOG_LEVEL="WARNING")
    for name in ("REDIS_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)
    os.environ.clear()
    os.environ.update(env)
    procs: list[subprocess.Popen] = []
    try:
        run(args, work, env, procs)
    finally:
        for p in procs:  # the gunicorn we started, by pid
            pki.stop(p)
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, env: dict, procs: list) -> None:
    db = pki.prepare_database(env)
    import django

    django.setup()
    from asn1crypto import tsp
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings
    from django.core.management import call_command

    from ramis.ca import builder, services, signing, tsa, tsa_services
    from ramis.ca.models import CertificateAuthority

    call_command("migrate", verbosity=0)
    root, issuing = services.ca_init(actor=None)
    ssl_version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split(" (")[0]
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.machine())
    print(f"TSA benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  machine: {os.cpu_count()} cores ({cpu}), load average {os.getloadavg()[0]:.1f} at start")
    print(f"  Python {platform.python_version()}, {ssl_version.strip()}, SoftHSM; database: {db}")
    print(f"  {args.rounds} rounds of {args.seconds:g} s each, alternating; best (median, worst); one process")

    # The reference TSA: a software EC P-256 key in a file, certified by the same issuing CA.
    ref_key = ec.generate_private_key(ec.SECP256R1())
    ref_cert = builder.build_tsa(public_key=ref_key.public_key(),
                                 subject=x509.Name.from_rfc4514_string("CN=Reference TSA (openssl),O=RAMIS,C=IR"),
                                 issuer=signing.signer(CertificateAuthority.objects.get(slug="issuing")),
                                 urls=signing.urls("issuing"))
    (work / "ref-tsa.key").write_bytes(ref_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (work / "ref-tsa.pem").write_bytes(builder.pem(ref_cert))
    chain = b"".join(builder.pem(x509.load_der_x509_certificate(bytes(ca.certificate_der)))
                     for ca in (issuing, root))
    (work / "chain.pem").write_bytes(chain)
    (work / "tsaserial").write_text("01\n")
    (work / "ts.cnf").write_text(OPENSSL_CNF.format(dir=work, policy=settings.CA_TSA_POLICY))
    (work / "doc.txt").write_text("benchmark document\n")
    subprocess.run(["openssl", "ts", "-query", "-data", str(work / "doc.txt"), "-sha256", "-cert",
                    "-out", str(work / "q.tsq")], check=True, capture_output=True)
    query = (work / "q.tsq").read_bytes()

    stamper = tsa_services.stamper()
    file_stamper = tsa.Stamper(cert=ref_cert, key=ref_key, policy=settings.CA_TSA_POLICY,
                               accuracy_ms=settings.CA_TSA_ACCURACY_MS)
    openssl_reply = ["openssl", "ts", "-reply", "-config", str(work / "ts.cnf"), "-queryfile", str(work / "q.tsq"),
                     "-out", str(work / "ref.tsr")]

    # Checked once before timing.
    ours = tsa_services.timestamp_reply(query)
    (work / "ours.tsr").write_bytes(ours)
    (work / "tsa.pem").write_bytes(builder.pem(stamper.cert))
    out = subprocess.run(["openssl", "ts", "-verify", "-queryfile", str(work / "q.tsq"), "-in", str(work / "ours.tsr"),
                          "-CAfile", str(work / "chain.pem")], capture_output=True, text=True)
    assert "Verification: OK" in out.stdout, out
    assert tsa.parse_reply(file_stamper.reply(query, tsa_services._next_serial))[0] == "granted"
    subprocess.run(openssl_reply, check=True, capture_output=True)
    assert tsp.TimeStampResp.load((work / "ref.tsr").read_bytes())["status"]["status"].native == "granted"

    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ("token", "file", "openssl", "process", "http")}
    post = None
    if args.http:
        import http.client

        from django.db import connections

        connections.close_all()
        port = pki.free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "ramis.wsgi:application", "-w", "1",
             "--log-level", "warning", "-b", f"127.0.0.1:{port}"],
            cwd=pki.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "a"))  # noqa: SIM115
        procs.append(server)
        head = (f"POST /ca/tsa/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
                f"Content-Length: {len(query)}\r\nConnection: close\r\n\r\n").encode()
        pki.wait_port(port, head + query)

        def post() -> bytes:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/ca/tsa/", body=query, headers={"Content-Type": "application/timestamp-query"})
            body = conn.getresponse().read()
            conn.close()
            return body

        assert tsa.parse_reply(post())[0] == "granted"

        def timed_http() -> tuple[float, float]:
            cpu0 = pki.cpu_seconds(server.pid)
            rate, client_ms = timed(post, args.seconds)
            count = rate * args.seconds
            return rate, client_ms + (pki.cpu_seconds(server.pid) - cpu0) / max(count, 1) * 1000

    for _ in range(args.rounds):
        if post is not None:
            runs["http"].append(timed_http())
        runs["token"].append(timed(lambda: tsa_services.timestamp_reply(query), args.seconds))
        runs["openssl"].append(timed(lambda: subprocess.run(openssl_reply, check=True, capture_output=True),
                                     args.seconds, children=True))
        runs["file"].append(timed(lambda: file_stamper.reply(query, tsa_services._next_serial), args.seconds))
        runs["process"].append(timed(lambda: subprocess.run(["openssl", "version"], check=True,
                                                            capture_output=True), args.seconds, children=True))

    def show(label: str, key: str) -> None:
        rates = [r for r, _ in runs[key]]
        cpu_ms = sorted(c for _, c in runs[key])
        pki.line(label, pki.spread(rates) + " /s", f"CPU {cpu_ms[len(cpu_ms) // 2]:.2f} ms each (median)")

    print()
    show("ours: TSA worker, key on SoftHSM", "token")
    show("ours: same code, EC key in memory", "file")
    show("openssl ts -reply, EC key file", "openssl")
    show("openssl version (process start only)", "process")
    if runs["http"]:
        show("ours over HTTP: gunicorn, 1 sync worker", "http")
    med = {k: sorted(r for r, _ in v)[len(v) // 2] for k, v in runs.items() if v}
    print(f"\n  ours (token) / openssl ts -reply: {med['token'] / med['openssl']:.1f}x  (medians)")
    if "http" in med:
        print(f"  ours over HTTP / openssl ts -reply: {med['http'] / med['openssl']:.1f}x  (medians)")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
