"""Seal monitoring in bounded batches (N18, N21).

Beat calls ``tasks.monitor_dispatch`` every few minutes: it claims up to ``ENAMAD_MONITOR_DISPATCH_LIMIT``
seals whose check is due (oldest first) and queues them as Celery tasks of
``ENAMAD_MONITOR_BATCH_SIZE`` seals. A task (``run_batch``) reads a snapshot of its seals, runs
the network checks on ``ENAMAD_MONITOR_CONCURRENCY`` threads with no database connection and no
transaction open, then records the results: one UPDATE for every seal that is healthy and
unchanged, and a short locked transaction (``seal_control.seal_record_check``) for each seal whose
state changes; a seal whose recording fails is logged and counted (``record_errors``) and the
batch goes on. ``bench/enamad_monitor.py`` measures the rate on one worker.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from enamad.businesses import verification

from . import control as seal_control

logger = logging.getLogger("enamad.monitoring")

# If at least this share of a batch of at least this many seals is unreachable, the fault is
# more likely ours (resolver, uplink) than theirs: record nothing and let the lease expire, so
# that an outage on our side never starts anyone's grace period.
BREAKER_MIN_BATCH = 20
BREAKER_RATIO = 0.5


@dataclass
class BatchReport:
    checked: int = 0
    healthy: int = 0
    changed: int = 0
    failed_checks: int = 0
    # Seals whose result could not be recorded (an error in the service or the database): logged
    # with the seal's id and left claimed, so the lease brings them back in an hour.
    record_errors: list[int] = field(default_factory=list)
    inconclusive: bool = False
    network_seconds: float = 0.0
    record_seconds: float = 0.0
    events: Counter = field(default_factory=Counter)
    check_seconds: list[float] = field(default_factory=list)


def _check(snapshot: seal_control.SealSnapshot) -> verification.MonitorResult | None:
    try:
        return snapshot.check()
    except Exception:  # a bug in a check must not pass for a failing site
        logger.exception("monitor check of %s crashed", snapshot.domain)
        return None


def run_batch(seal_ids: list[int], *, concurrency: int | None = None) -> BatchReport:
    report = BatchReport()
    snapshots = seal_control.seal_snapshots(seal_ids)
    if not snapshots:
        return report
    workers = max(1, min(concurrency or settings.ENAMAD_MONITOR_CONCURRENCY, len(snapshots)))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="enamad-monitor") as pool:
        results = list(pool.map(_check, snapshots))
    report.network_seconds = time.monotonic() - started
    report.check_seconds = [r.seconds for r in results if r is not None]
    unreachable = sum(1 for r in results if r is not None and not r.reachable)
    if len(snapshots) >= BREAKER_MIN_BATCH and unreachable >= BREAKER_RATIO * len(snapshots):
        logger.error("monitor batch: %d of %d seals unreachable; assuming a fault on our side, recording nothing",
                     unreachable, len(snapshots))
        report.inconclusive = True
        return report
    started = time.monotonic()
    healthy: list[int] = []
    for snapshot, result in zip(snapshots, results, strict=True):
        if result is None:
            report.failed_checks += 1
            continue
        report.checked += 1
        if snapshot.healthy_with(result):
            healthy.append(snapshot.seal_id)
            continue
        try:
            events = seal_control.seal_record_check(seal_id=snapshot.seal_id, result=result)
        except Exception:  # one seal's failure must not cost the rest of the batch their check
            logger.exception("monitor: recording the check of seal %s (%s) failed", snapshot.seal_id,
                             snapshot.domain)
            report.record_errors.append(snapshot.seal_id)
            continue
        report.changed += bool(events)
        report.events.update(events)
    report.healthy = len(healthy)
    seal_control.seals_mark_healthy(healthy)
    report.record_seconds = time.monotonic() - started
    return report
