"""Audited transactions per second with 1, 2 and 4 concurrent writers on PostgreSQL (issue 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME_bench .venv/bin/python bench/audit_writers.py \
        [--writers 1,2,4] [--seconds 3] [--rounds 3]

The database named (its name must end in ``_bench``) is dropped and created afresh. Each
writer is a process of its own (forked after Django is set up, with its own connection)
running, as fast as it can, the transaction of a typical service: lock its own company row
(``select_for_update``), change it, write one audit entry, commit. Three ways of writing the
entry, measured in the same run, alternating in ``--rounds`` rounds (best / median / worst):

* **sealed** — today's ``ramis.common.audit.record``: the entry is inserted unsealed, no lock;
  after commit the writer's hook seals what is committed if no other sealer is at it
  (``pg_try_advisory_xact_lock``), so the after-commit sealing is included in the figure.
* **sealed by beat** — the same with ``AUDIT_SEAL_ON_COMMIT=0``: writers only insert; the
  sealer (beat's job) runs after the writers stop, and its rate (entries chained per second,
  one sealer) is printed: what a beat-only deployment must keep up with.
* **global lock** — the former ``record`` (kept here only, as the reference): a PostgreSQL
  advisory lock held until commit, the previous hash read, the entry chained and inserted.
  Every audited transaction of the system runs one at a time.
* **plain insert** — the same row with no chaining at all: the floor.

After each *sealed* run the script seals whatever is left (the beat task's job), checks the
whole chain and prints how many entries the writers' hooks left to it. The load average of
the machine is printed with every row: on a shared 2-core machine other work moves the figures.
It prints, it does not assert.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OLD_LOCK_KEY = 7_201_447  # the former global writer lock


def prepare_database(url: str) -> str:
    import dj_database_url
    import psycopg

    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("this benchmark needs PostgreSQL: DATABASE_URL=postgres://…/NAME_bench")
    conf = dj_database_url.parse(url)
    name = conf["NAME"]
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to drop database {name!r}: a benchmark database's name ends in _bench")
    with psycopg.connect(host=conf["HOST"] or None, port=conf["PORT"] or None, user=conf["USER"] or None,
                         password=conf["PASSWORD"] or None, dbname="postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{name} on {conf['HOST']}:{conf['PORT']}"


def record_global_lock(*, actor, target, event: str, new: str):
    """The former ``audit.record``: every writer serialised on one advisory lock until commit."""
    from django.db import connection, transaction
    from django.utils import timezone

    from ramis.common.audit import GENESIS
    from ramis.common.models import AuditEntry

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OLD_LOCK_KEY])
        last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        entry = AuditEntry(created_at=timezone.now(), actor=None, actor_repr=str(actor),
                           target_type=target._meta.label_lower, target_id=str(target.pk),
                           target_repr=str(target)[:300], event=event, new=new, extra={},
                           prev_hash=last or GENESIS)
        entry.entry_hash = entry.compute_hash()
        entry.save()


def record_plain(*, actor, target, event: str, new: str):
    from django.utils import timezone

    from ramis.common.models import AuditEntry

    AuditEntry(created_at=timezone.now(), actor=None, actor_repr=str(actor), target_type=target._meta.label_lower,
               target_id=str(target.pk), target_repr=str(target)[:300], event=event, new=new, extra={}).save()


def record_sealed(*, actor, target, event: str, new: str):
    from ramis.common import audit

    audit.record(actor=actor, target=target, event=event, new=new)


MODES = {"sealed": record_sealed, "sealed by beat": record_sealed, "global lock": record_global_lock,
         "plain insert": record_plain}


def writer(mode: str, company_id: int, seconds: float, start, results) -> None:
    from django.conf import settings
    from django.db import connections, transaction

    from ramis.registry.models import Company

    connections.close_all()  # a connection of its own after the fork
    settings.AUDIT_SEAL_ON_COMMIT = mode == "sealed"  # "sealed by beat": AUDIT_SEAL_ON_COMMIT=0
    write = MODES[mode]
    count = 0
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction.atomic():
            company = Company.objects.select_for_update().get(pk=company_id)
            company.name = f"bench {count}"
            company.save(update_fields=["name"])
            write(actor="bench", target=company, event="bench.write", new=str(count))
        count += 1
    connections.close_all()
    results.put(count)


def run_mode(mode: str, companies: list[int], seconds: float) -> float:
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    start, results = ctx.Barrier(len(companies) + 1), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(mode, cid, seconds, start, results)) for cid in companies]
    for p in procs:
        p.start()
    start.wait()
    began = time.monotonic()
    total = sum(results.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    return total / (time.monotonic() - began)


def reset_trail() -> None:
    from django.db import connection

    from ramis.common.models import AuditEntry

    with connection.cursor() as cursor:  # a throw-away benchmark database only
        cursor.execute(f"TRUNCATE {AuditEntry._meta.db_table}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--writers", default="1,2,4")
    ap.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    db = prepare_database(url)
    work = Path(tempfile.mkdtemp(prefix="ramis-bench-audit-"))
    os.environ.update(RAMIS_VAR_DIR=str(work / "var"), SOFTHSM_DIR=str(work / "softhsm"),
                      DJANGO_SETTINGS_MODULE="ramis.settings", DEBUG="0", ALLOWED_HOSTS="127.0.0.1",
                      LOG_LEVEL="WARNING")
    for name in ("REDIS_URL", "CACHE_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    from ramis.common import audit
    from ramis.common.models import AuditEntry
    from ramis.registry.models import Company, SEODepartment

    call_command("migrate", verbosity=0)
    dept = SEODepartment.objects.create(name="bench")
    counts = [int(n) for n in args.writers.split(",")]
    companies = [Company.objects.create(name=f"bench {i}", national_id=f"1038028{i:04d}", seo_department=dept).pk
                 for i in range(max(counts))]
    print(f"Audited transactions per second, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print(f"  {os.cpu_count()} cores, PostgreSQL {db}; {args.rounds} rounds of {args.seconds:g} s per figure, "
          "modes alternating; best (median, worst)")
    print(f"  load average {os.getloadavg()[0]:.2f} at start\n")
    print(f"  {'writers':>7}  {'mode':<13} {'transactions/s':>30}  {'vs global lock':>14}  load")
    for n in counts:
        rates: dict[str, list[float]] = {m: [] for m in MODES}
        left_to_beat, seal_rates = [], []
        for _ in range(args.rounds):
            for mode in MODES:
                reset_trail()
                rates[mode].append(run_mode(mode, companies[:n], args.seconds))
                if mode.startswith("sealed"):
                    left = audit.unsealed_count()
                    began = time.monotonic()
                    audit.seal(wait=True)
                    if mode == "sealed":
                        left_to_beat.append(left)
                    elif left:
                        seal_rates.append(left / (time.monotonic() - began))
                    checked, problems = audit.verify_chain(seal_first=False)
                    if problems or checked != AuditEntry.objects.count():
                        raise SystemExit(f"the sealed chain is broken: {problems[:3]}")
        old = statistics.median(rates["global lock"])
        for mode, values in rates.items():
            ordered = sorted(values, reverse=True)
            figure = f"{ordered[0]:8.0f} ({statistics.median(values):.0f}, {ordered[-1]:.0f})"
            ratio = statistics.median(values) / old if old else float("nan")
            print(f"  {n:>7}  {mode:<13} {figure:>30}  {ratio:>13.2f}×  {os.getloadavg()[0]:.2f}")
        print(f"  {'':>7}  (sealed: entries left unsealed for beat after the writers stopped: "
              f"{', '.join(map(str, left_to_beat))}; sealed by beat: one sealer chains "
              f"{statistics.median(seal_rates):.0f} entries/s; chains verified each round)")
    print(f"\n  load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
