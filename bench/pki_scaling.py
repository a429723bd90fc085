"""bench/pki.py's scaling part (``--only scaling``): issuance with 1, 2 and 4 processes at once.

Ours: ``services.certificate_issue`` (profile ``seal``) in N spawned processes, each with its own
database connection and token session, its CSRs made and one certificate issued to warm up before
all N are started together; each issues for ``--seconds`` and answers how many and its CPU time.
With ``django-ca`` also in ``--only``, every round of ours with N processes is next to a round of
django-ca 3.2.0's ``create_cert`` with N processes of its own (bench/djangoca.py's
``DjangoCA.scale_round``: N bench/djangoca_child.py processes in its virtualenv on the CA and
database its set-up child made once, each with its own token session on its own copy of that
SoftHSM token — django-ca logs in per certificate, and SoftHSM processes logging in to one token
directory at once fail — started together after their warm-up, for the same seconds). Rounds alternate the process counts, and which of the
two goes first. Imported by bench/pki.py; it imports nothing of the project at import time.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

import djangoca  # bench/djangoca.py

COUNTS = (1, 2, 4)
CSRS_PER_SECOND = 400  # CSRs each process makes before "go": more than one process ever issued per second


# The applicant of every issuance both parts time (a seal: a legal person), made each certificate's
# own by ``varied``.
SUBJECT = {"common_name": "شرکت نمونه", "organization": "شرکت نمونه", "legal_national_id": "10380284790"}


def make_csrs(n: int) -> list[bytes]:
    """n PEM CSRs, each with an EC P-256 key of its own (made before any timing)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    return [x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
            .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
            for _ in range(n)]


def varied(subject: dict, n: int) -> dict:
    """``subject`` with its names made the ``n``-th applicant's (no two certificates alike)."""
    name = f"{subject['common_name']} {n}"
    return {**subject, "common_name": name, "organization": name}


def _issuer_child(ready, go, results, seconds: float) -> None:
    """One signing process (spawned: its own Django connection and token session) issuing
    certificates through the full service for ``seconds`` after ``go``; puts (how many, wall
    seconds, CPU seconds)."""
    import django

    django.setup()
    from ramis.ca import services, signing
    from ramis.common import audit

    csrs = make_csrs(int(seconds * CSRS_PER_SECOND))
    services.certificate_issue(profile="seal", csr_pem=csrs.pop(), subject=SUBJECT, actor=None)  # warm up
    signing.prepare_process()  # as the signing worker's children do on start (gc.freeze)
    ready.put(1)
    go.wait()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds and csrs:
        services.certificate_issue(profile="seal", csr_pem=csrs.pop(), subject=varied(SUBJECT, n), actor=None)
        n += 1
    audit.stop_delayed_sealer()  # its entries sealed inside its time
    results.put((n, time.perf_counter() - t0, time.process_time() - c0))


def ours_round(ctx, n: int, seconds: float) -> list[tuple[int, float, float]]:
    """One round of ours with ``n`` processes at once: each one's (count, wall seconds, CPU seconds)."""
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    children = [ctx.Process(target=_issuer_child, args=(ready, go, results, seconds)) for _ in range(n)]
    for c in children:
        c.start()
    for _c in children:
        ready.get(timeout=300)
    go.set()
    answers = [results.get(timeout=300) for _ in children]
    for c in children:
        c.join(30)
    return answers


def scaling_section(args, db: str, line, spread, djca: djangoca.DjangoCA | None = None) -> None:
    """Issuance with 1, 2 and 4 processes at once (each its own token session), certificates per second
    in all; rounds alternate the process counts and, with ``djca`` (its CA set up and its set-up
    child closed), ours and django-ca with as many processes."""
    ctx = multiprocessing.get_context("spawn")
    load_start = os.getloadavg()[0]
    ours: dict[int, list[tuple[float, float]]] = {n: [] for n in COUNTS}
    theirs: dict[int, list[tuple[float, float]]] = {n: [] for n in COUNTS}
    for r in range(args.rounds):
        for n in COUNTS:
            sides = ["ours", "django-ca"] if djca is not None else ["ours"]
            for side in sides if r % 2 == 0 else reversed(sides):  # who goes first alternates too
                if side == "ours":
                    ours[n].append(djangoca.in_all(ours_round(ctx, n, args.seconds)))
                else:
                    theirs[n].append(djangoca.in_all(djca.scale_round(n, args.seconds)))
    if djca is None:
        print(f"\nIssuance with 1 / 2 / 4 processes ({db.split(' (')[0]}), {args.seconds:.0f} s per round, "
              f"full service, load average {os.getloadavg()[0]:.1f}")
        for n in COUNTS:
            rates = [x[0] for x in ours[n]]
            line(f"  {n} process{'es' if n > 1 else ''}: certificates/s in all", spread(rates),
                 f"{scale(ours, n):.2f}× one process (medians); "
                 f"CPU {statistics.median(x[1] for x in ours[n]):.1f} ms/certificate")
        return
    report(line, spread, djca, ours, theirs, args, db, load_start)


def scale(rounds: dict[int, list[tuple[float, float]]], n: int) -> float:
    """The median rate in all with ``n`` processes × the median with one (``rounds``: count → [(rate, CPU ms)])."""
    return statistics.median(x[0] for x in rounds[n]) / statistics.median(x[0] for x in rounds[1])


def report(line, spread, djca: djangoca.DjangoCA, ours: dict, theirs: dict, args, db: str,
           load_start: float) -> None:
    """Per process count: both rates in all, the ratio ours / django-ca, each one's scaling and CPU."""
    ready = djca.ready
    print(f"\nIssuance with 1 / 2 / 4 processes at once, ours beside django-ca {ready.get('django_ca')} with as many "
          f"(ours on {db.split(' (')[0]}, django-ca on {djca.database.split(' (')[0]}), {args.seconds:.0f} s per "
          f"round, rounds alternating the counts and ours / django-ca; load average {load_start:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end")
    print("  ours: services.certificate_issue (pkilint, 2 OCSP answers, audit); django-ca: create_cert, HSM backend, "
          "profile client (no lint, no OCSP pre-signing, no audit); each process its own token session "
          "(django-ca's on its own copy of its token); CPU: the issuing processes' own")
    for n in COUNTS:
        label = f"{n} process{'es' if n > 1 else ''}"
        ours_rates, their_rates = [x[0] for x in ours[n]], [x[0] for x in theirs[n]]
        r = djangoca.ratios(ours_rates, their_rates)
        line(f"{label}: ours /s in all", spread(ours_rates),
             f"{scale(ours, n):.2f}× its one process (medians); "
             f"CPU {statistics.median(x[1] for x in ours[n]):.1f} ms/certificate")
        line(f"{label}: django-ca /s in all", spread(their_rates),
             f"{scale(theirs, n):.2f}× its one process (medians); "
             f"CPU {statistics.median(x[1] for x in theirs[n]):.1f} ms/certificate")
        line(f"{label}: ratio ours / django-ca", f"{r['median']:.2f}× median",
             f"per round: median {r['round_median']:.2f}×, worst {r['round_worst']:.2f}×; target ≥ 1.0×")
