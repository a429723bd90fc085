"""What seeing revocations within a second costs per OCSP answer (issue 12): the responder with the
status-change polling off (before: ``CA_OCSP_CHANGES_POLL_MS=0``) and on (after: the default), beside a
reference measured in the same run.

    .venv/bin/python bench/ocsp_changes.py [--certs 200] [--rounds 5] [--seconds 1]

A throwaway SoftHSM directory and SQLite database (the embedded default); nothing under var/ is
touched. "Before" is the event loop's lookup as it was (copied here), "after" today's. What one
"answer" is here: the OCSP tier's per-request work in its own process — bytes of a
POST body in, :func:`ramis.ca.responder.cached` (the event loop's no-I/O path), and, when it returns
None, :func:`ramis.ca.responder.answer` (the thread path, which polls the changes when a poll is due)
— over the same requests for ``certs`` certificates, round-robin, for ``--seconds`` per round. The
reference is a plain ``dict.get`` of the request bytes (the floor of any in-memory answer). Rounds
alternate before / after / reference; best (median, worst) µs per answer and the answers per second
of the best round are printed, with the load average. It prints, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ramis-bench-"))
    for name in ("REDIS_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL"):
        os.environ.pop(name, None)
    os.environ.update(RAMIS_VAR_DIR=str(work / "var"), SOFTHSM_DIR=str(work / "softhsm"),
                      DJANGO_SETTINGS_MODULE="ramis.settings", DEBUG="0", ALLOWED_HOSTS="127.0.0.1",
                      PUBLIC_BASE_URL="http://pki.ramis.ir", LOG_LEVEL="WARNING")
    try:
        run(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args) -> None:
    import django

    django.setup()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import ocsp as c_ocsp
    from cryptography.x509.oid import NameOID
    from django.conf import settings
    from django.core.management import call_command

    from ramis.ca import responder, services

    call_command("migrate", verbosity=0)
    _root, issuing = services.ca_init(actor=None)
    issuer = x509.load_der_x509_certificate(bytes(issuing.certificate_der))
    subject = {"common_name": "Bench Co", "organization": "Bench Co", "legal_national_id": "10380284790"}
    bodies = []
    for _ in range(args.certs):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        cert = services.certificate_issue(profile="seal", csr_pem=csr, subject=subject, actor=None)
        leaf = x509.load_der_x509_certificate(bytes(cert.der))
        bodies.append(c_ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1())  # noqa: S303
                      .build().public_bytes(serialization.Encoding.DER))
    reference = {b: responder.answer(b) for b in bodies}
    settings.CA_OCSP_CACHE_SECONDS = 3600  # every answer a kept one after the first: the per-answer cost only

    def cached_before(der):
        """``responder.cached`` as it was before the polling (main at 389b5a7^), copied here."""
        if not der:
            return b"malformed"
        try:
            key = responder._key_of(der)
        except Exception:
            return b"malformed"
        hit = responder._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def tier(poll_ms: int) -> tuple[float, int]:
        settings.CA_OCSP_CHANGES_POLL_MS = poll_ms
        responder.clear_cache()
        for b in bodies:  # warm: every answer kept
            assert responder.answer(b) == reference[b]
        cached, answer = (responder.cached if poll_ms else cached_before), responder.answer
        n, t0 = 0, time.perf_counter()
        deadline = t0 + args.seconds
        while True:
            for b in bodies:
                raw = cached(b)
                if raw is None:
                    raw = answer(b)
            n += len(bodies)
            if time.perf_counter() >= deadline:
                break
        return (time.perf_counter() - t0) / n * 1e6, n

    def floor() -> tuple[float, int]:
        get = reference.get
        n, t0 = 0, time.perf_counter()
        deadline = t0 + args.seconds
        while True:
            for b in bodies:
                get(b)
            n += len(bodies)
            if time.perf_counter() >= deadline:
                break
        return (time.perf_counter() - t0) / n * 1e6, n

    poll = int(os.environ.get("CA_OCSP_CHANGES_POLL_MS", "100"))
    results: dict[str, list[tuple[float, int]]] = {"before (no polling)": [], f"after (poll every {poll} ms)": [],
                                                   "reference (dict.get)": []}
    print(f"OCSP per-answer cost with and without status-change polling; {args.certs} certificates, "
          f"{args.rounds} rounds of {args.seconds:g} s")
    print(f"  load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} cores")
    for _ in range(args.rounds):
        results["before (no polling)"].append(tier(0))
        results[f"after (poll every {poll} ms)"].append(tier(poll))
        results["reference (dict.get)"].append(floor())
    for name, rows in results.items():
        us = sorted(r[0] for r in rows)
        best = min(rows)
        print(f"  {name:28s} {us[0]:7.2f} µs/answer ({statistics.median(us):.2f}, {us[-1]:.2f}); "
              f"{best[1] / args.seconds:,.0f} answers/s in the best round")
    before = statistics.median(r[0] for r in results["before (no polling)"])
    after = statistics.median(r[0] for r in results[f"after (poll every {poll} ms)"])
    print(f"  after / before (medians): {after / before:.3f}")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
