"""PKI benchmark: prints our figures beside references measured in the same run.

    .venv/bin/python bench/pki.py [--certs 300] [--seconds 5] [--clients 16]

Runs against a throwaway SQLite database and SoftHSM token directory (nothing
under var/ is touched). Prints, each beside its reference:

* RSA-2048 / EC P-256 signatures per second on SoftHSM (through tokens/);
* issuance through the full service (CSR verify, pkilint, sign on the token,
  store, audit) vs. bare CSR → certificate signing on the same token key;
* OCSP answers per second from our responder under gunicorn (2 workers) vs.
  ``openssl ocsp -index`` (2 processes, ``-multi 2``) serving the same
  certificates, both to the same client: 16 concurrent POSTs on loopback;
* a 100,000-entry CRL generated and signed on the token.

Not a test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")


# -- the load client: separate processes, 16 concurrent connections in all ------------------------


def _client_proc(port, path, requests, threads, seconds, queue):
    counts = [0] * threads
    bad = [0] * threads
    stop = time.monotonic() + seconds

    def loop(i):
        j = i
        while time.monotonic() < stop:
            body = requests[j % len(requests)]
            j += threads
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", path, body, {"Content-Type": "application/ocsp-request"})
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if resp.status == 200 and data[:1] == b"\x30" and data[4:5] != b"\x01":
                    counts[i] += 1
                else:
                    bad[i] += 1
            except OSError:
                bad[i] += 1

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put((sum(counts), sum(bad)))


def load(port: int, path: str, requests: list[bytes], clients: int, seconds: float) -> tuple[float, int]:
    procs_n = min(4, clients)
    per = [clients // procs_n + (1 if i < clients % procs_n else 0) for i in range(procs_n)]
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_client_proc, args=(port, path, requests, n, seconds, q)) for n in per]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    ok = sum(r[0] for r in results)
    return ok / elapsed, sum(r[1] for r in results)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ramis-bench-"))
    env = dict(os.environ, RAMIS_VAR_DIR=str(work / "var"), SOFTHSM_DIR=str(work / "softhsm"),
               DJANGO_SETTINGS_MODULE="ramis.settings", DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost",
               PUBLIC_BASE_URL="http://pki.ramis.ir", LOG_LEVEL="WARNING")
    os.environ.update(env)
    procs: list[subprocess.Popen] = []
    try:
        run(args, work, env, procs)
    finally:
        for p in procs:  # stop each server and the workers it forked, by pid
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def stop(p: subprocess.Popen) -> None:
    """SIGTERM a server we started and the workers it forked (openssl -multi leaves them running)."""
    if p.poll() is not None:
        return
    pids = [p.pid, *_children(p.pid)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def line(label: str, ours: str, ref: str = "") -> None:
    print(f"  {label:<46} {ours:>22}   {ref}")


def run(args, work: Path, env: dict, procs: list) -> None:
    import django

    django.setup()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.x509 import ocsp as c_ocsp
    from cryptography.x509.oid import NameOID
    from django.core.management import call_command

    from ramis.ca import builder, crl, services, signing
    from ramis.ca.models import CertificateAuthority

    call_command("migrate", verbosity=0)
    services.ca_init(actor=None)
    issuing = CertificateAuthority.objects.get(slug="issuing")
    sg = signing.signer(issuing)
    print(f"PKI benchmark ({os.cpu_count()} cores, SoftHSM, SQLite; {work})")

    # 1. raw signing on SoftHSM
    print("\nSigning on the token (one process)")
    rsa_key = sg.key
    ec_key = signing.responder(issuing).responder_key
    digest_data = b"x" * 64
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 2:
        rsa_key.sign(digest_data, padding.PKCS1v15(), hashes.SHA256())
        n += 1
    rsa_rate = n / (time.perf_counter() - t0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 2:
        ec_key.sign(digest_data, ec.ECDSA(hashes.SHA256()))
        n += 1
    ec_rate = n / (time.perf_counter() - t0)
    line("RSA-2048 signatures/s", f"{rsa_rate:,.0f}", "reference ≈ 1,600/s")
    line("EC P-256 signatures/s", f"{ec_rate:,.0f}", "reference ≈ 11,000/s")

    # 2. issuance
    print(f"\nIssuance ({args.certs} certificates, EC P-256 subject keys, RSA-2048 CA key on the token)")
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(args.certs)]
    csrs = [
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
        .sign(k, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        for k in keys
    ]
    subject = {"common_name": "شرکت نمونه", "organization": "شرکت نمونه", "legal_national_id": "10380284790"}
    t0 = time.perf_counter()
    for csr_pem in csrs:
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
    bare = args.certs / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    issued = [
        services.certificate_issue(profile="seal", csr_pem=c, subject=subject, actor=None) for c in csrs
    ]
    full = args.certs / (time.perf_counter() - t0)
    line("bare CSR → certificate on the token /s", f"{bare:,.0f}", "reference ≈ 1,000/s")
    line("full service (verify, lint, sign, store, audit, OCSP pre-sign) /s", f"{full:,.0f}",
         f"target ≥ 100/s; {full / bare:.2f}× bare signing")
    for c in issued[: len(issued) // 10]:
        services.certificate_revoke(serial=c.serial_hex, reason="key_compromise", actor=None)
    services.ocsp_refresh(ca_slug="issuing", certificate_ids=[c.pk for c in issued[: len(issued) // 10]])

    # 3. OCSP: ours under gunicorn vs openssl ocsp -index
    print(f"\nOCSP: {args.clients} concurrent clients, POST, {args.seconds:.0f} s each, same requests")
    issuer_cert = sg.cert
    requests = []
    for c in issued:
        cert = x509.load_der_x509_certificate(bytes(c.der))
        requests.append(
            c_ocsp.OCSPRequestBuilder().add_certificate(cert, issuer_cert, hashes.SHA1())  # noqa: S303 - the CertID hash OpenSSL sends by default
            .build().public_bytes(serialization.Encoding.DER)
        )
    port = free_port()
    procs.append(subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ramis.ca.wsgi:application", "-w", "2", "-b",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    ))
    wait_port(port)
    load(port, "/ca/ocsp/issuing/", requests[:20], 2, 1.0)  # warm up both workers
    ours, ours_bad = load(port, "/ca/ocsp/issuing/", requests, args.clients, args.seconds)
    stop(procs[-1])

    # openssl's responder: same certificates, its own software EC key (it cannot use our token)
    resp_key = ec.generate_private_key(ec.SECP256R1())
    resp_cert = builder.build_ocsp_responder(
        public_key=resp_key.public_key(), subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openssl")]),
        issuer=sg,
    )
    (work / "rsigner.pem").write_bytes(builder.pem(resp_cert))
    (work / "rkey.pem").write_bytes(resp_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (work / "ca.pem").write_bytes(builder.pem(issuer_cert))
    (work / "index.txt.attr").write_text("unique_subject = no\n")
    with open(work / "index.txt", "w") as f:
        for c in issued:
            exp = c.not_after.strftime("%y%m%d%H%M%SZ")
            subj = f"/CN=bench {c.pk}"
            hexserial = c.serial_hex.upper()
            hexserial = ("0" if len(hexserial) % 2 else "") + hexserial  # openssl wants whole octets
            c2 = type(c).objects.get(pk=c.pk)
            if c2.status == "revoked":
                f.write(f"R\t{exp}\t{c2.revoked_at:%y%m%d%H%M%SZ},keyCompromise\t{hexserial}\tunknown\t{subj}\n")
            else:
                f.write(f"V\t{exp}\t\t{hexserial}\tunknown\t{subj}\n")
    oport = free_port()
    procs.append(subprocess.Popen(
        ["openssl", "ocsp", "-index", str(work / "index.txt"), "-port", str(oport),
         "-rsigner", str(work / "rsigner.pem"), "-rkey", str(work / "rkey.pem"), "-CA", str(work / "ca.pem"),
         "-multi", "2", "-nmin", "60"],
        stdout=subprocess.DEVNULL, stderr=open(work / "openssl.log", "w"),
    ))
    try:
        wait_port(oport)
    except RuntimeError:
        print((work / "openssl.log").read_text())
        raise
    load(oport, "/", requests[:20], 2, 1.0)
    theirs, theirs_bad = load(oport, "/", requests, args.clients, args.seconds)
    line("ours: pre-signed, gunicorn -w 2 (ramis.ca.wsgi) /s", f"{ours:,.0f}", f"({ours_bad} failed)")
    line("openssl ocsp -index -multi 2 /s", f"{theirs:,.0f}", f"({theirs_bad} failed)")
    line("ratio", f"{ours / theirs:.2f}×" if theirs else "n/a", "target ≥ 1.5×")

    # 4. CRL
    print("\nCRL with 100,000 revoked entries, signed on the token")
    now = builder.now()
    entries = [crl.RevokedEntry(builder.random_serial(), now - dt.timedelta(seconds=i), "key_compromise")
               for i in range(100_000)]
    t0 = time.perf_counter()
    der = crl.build_crl(issuer_cert=sg.cert, key=sg.key, entries=entries, number=999_999, this_update=now,
                        next_update=now + dt.timedelta(days=1))
    elapsed = time.perf_counter() - t0
    line("generate + sign", f"{elapsed:.2f} s", f"target ≤ 5 s; {len(der) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
