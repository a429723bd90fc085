"""The one way to write the audit trail (X2), and the sealer that chains it.

Writers (:func:`record`) insert their row unsealed, inside their own transaction and
without any lock: audited transactions across the whole system run side by side. The
sealer (:func:`seal`) runs after commit (an ``on_commit`` hook in the writer's process, which
wakes that process's sealer thread unless ``AUDIT_SEAL_DELAY_MS`` is 0; the ``audit-seal``
beat task; and before ``audit verify`` or a checkpoint): it takes the
committed unsealed rows in ``id`` order and gives each one its ``seq``, the previous
entry's hash and its own hash. Only sealers serialise, on a short lock of their own
(a PostgreSQL advisory lock; SQLite's write lock), so the chain never forks.

Checkpoints (the chain's length and head hash signed on a token) live in
``ramis/ca/audit_anchor.py``; :func:`check_chain` takes them as ``anchors``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils import timezone

from . import prepared
from .context import REQUEST_ID_MAX, USER_AGENT_MAX, AuditContext, audit_context, context_ip
from .models import AuditEntry
from .observability import current_request_id

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# Advisory lock of the sealers (PostgreSQL). Writers never take it. The old global writer
# lock (7_201_447) is gone; a different key so that an old process still running during an
# upgrade cannot be mistaken for a sealer.
SEAL_LOCK_KEY = 7_201_448
SEAL_BATCH = 2000
_process_lock = threading.RLock()  # sealers of one process take turns without asking the database


def record(*, actor, target: models.Model, event: str, **details: Any) -> AuditEntry:
    """Append one entry, unsealed (``details``: :func:`entry`'s ``old``, ``new``, ``reason``,
    ``extra``, ``ctx``, ``request``). Call it inside the service's transaction: the entry is
    committed (or rolled back) with the change it records, and sealed after commit.

    ``ctx`` (:class:`~ramis.common.context.AuditContext`) gives the client's address, User-Agent
    and the request id of the log lines (all empty without it: a command, the system); a caller that
    still holds the ``HttpRequest`` may pass ``request`` instead (its context is taken). Without a
    context the entry still takes the request id of the log lines when there is one: a task queued
    while a request was served runs under that request's id (``observability``), and so does a
    service a request reaches without its context (a signal's receiver); address and User-Agent
    stay empty, they are not the task's client."""
    made = entry(actor=actor, target=target, event=event, **details)
    prepared.insert([made])  # a new row, as entry.save() would write it, its SQL written once per process
    written()
    return made


def entry(
    *,
    actor,
    target: models.Model,
    event: str,
    old: str = "",
    new: str = "",
    reason: str = "",
    extra: dict[str, Any] | None = None,
    ctx: AuditContext | None = None,
    request=None,
) -> AuditEntry:
    """The entry :func:`record` appends, not written: for a service that writes it in the same
    statement as the row it records (``prepared.write_linked``: the issuance), then
    calls :func:`written`. Its ``target_id`` is ``target``'s primary key as it is now."""
    if ctx is None and request is not None:
        ctx = audit_context(request)
    user = actor if getattr(actor, "pk", None) else None
    return AuditEntry(
        created_at=timezone.now(),
        actor=user,
        actor_repr=str(actor) if actor is not None else "system",
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        event=event,
        old=str(old or ""),
        new=str(new or ""),
        reason=reason or "",
        extra=extra or {},
        ip=context_ip(ctx),
        user_agent=(ctx.user_agent or "")[:USER_AGENT_MAX] if ctx is not None else "",
        request_id=((ctx.request_id or "") if ctx is not None else current_request_id())[:REQUEST_ID_MAX],
    )


def written() -> None:
    """An entry was written in the current transaction (or, outside one, just committed): have it
    sealed after commit."""
    if settings.AUDIT_SEAL_ON_COMMIT:
        transaction.on_commit(seal_after_commit, robust=True)


def seal_after_commit() -> None:
    """The writer's hook. With ``AUDIT_SEAL_DELAY_MS`` = 0: one round of sealing what is committed,
    right here, unless another sealer is at it (never waits; what is left is sealed by the next
    writer's hook or by beat). With a delay: wake this process's sealer thread
    (:class:`_DelayedSealer`), which seals everything committed by then ``AUDIT_SEAL_DELAY_MS``
    later, in one transaction for all the commits in between. Never fails the writer."""
    delay = settings.AUDIT_SEAL_DELAY_MS
    if delay > 0:
        _DelayedSealer.wake(delay / 1000)
        return
    try:
        seal(wait=False, rounds=1)
    except DatabaseError:
        log.exception("sealing the audit trail after commit failed (beat will retry)")


class _DelayedSealer:
    """One daemon thread per process (started on the first wake, again after a fork) with its own
    database connection: woken by a commit, it waits the delay, then seals what is committed —
    one sealing transaction for every audited commit of the process in that window instead of one
    each. An entry stays unsealed for about the delay (plus one sealing round); if the process
    dies without a normal exit (a normal one seals what is pending, ``atexit``), beat's
    ``audit-seal`` seals it within ``AUDIT_SEAL_SECONDS``, as before."""

    _guard = threading.Lock()
    _exit_hook = False
    _pid: int | None = None
    _event: threading.Event
    _stop: threading.Event
    _thread: threading.Thread
    delay = 0.0
    IDLE_SECONDS = 5.0  # with CONN_MAX_AGE 0: the connection is let go after this long without a commit

    @classmethod
    def wake(cls, delay: float) -> None:
        with cls._guard:
            cls.delay = delay
            if cls._pid != os.getpid() or not cls._thread.is_alive():
                cls._pid = os.getpid()
                cls._event, cls._stop = threading.Event(), threading.Event()
                cls._thread = threading.Thread(target=cls._run, args=(cls._event, cls._stop),
                                               name="audit-sealer", daemon=True)
                cls._thread.start()
                if not cls._exit_hook:  # a command's or a server's normal exit seals what is pending
                    atexit.register(cls.stop)
                    cls._exit_hook = True
        cls._event.set()

    @classmethod
    def _run(cls, event: threading.Event, stop: threading.Event) -> None:
        from django.db import close_old_connections

        try:
            while True:
                # With CONN_MAX_AGE 0 (the embedded setup's default) the connection is kept while
                # commits keep coming, not opened anew for each round, and let go once none came for
                # IDLE_SECONDS or a round failed; with a CONN_MAX_AGE it is checked before every
                # round, as for a request (its age and, with CONN_HEALTH_CHECKS, its health).
                per_round = connection.settings_dict["CONN_MAX_AGE"] != 0
                if not event.wait(None if per_round else cls.IDLE_SECONDS):
                    close_old_connections()  # idle: CONN_MAX_AGE 0 closes it
                    event.wait()
                stopping = stop.wait(cls.delay)
                event.clear()  # commits from now on wake the next round
                try:
                    if per_round:
                        close_old_connections()
                    # This thread may wait for another sealer; no writer waits. A round that sealed
                    # less than a batch ends the call: what was committed after it has set ``event``
                    # again and is sealed after the next delay — not by rounds of one or none each
                    # (measured on PostgreSQL, 600 issuances: 48 such rounds beside 18 full ones).
                    seal(wait=True, while_full=True)
                except DatabaseError:
                    log.exception("sealing the audit trail after commit failed (beat will retry)")
                    close_old_connections()  # a broken connection is not used again
                if stopping:
                    break
        finally:
            connection.close()

    @classmethod
    def stop(cls, timeout: float = 10) -> None:
        """Seal what is pending now and end the thread (tests; a process's shutdown)."""
        with cls._guard:
            if cls._pid != os.getpid() or not cls._thread.is_alive():
                return
            cls._stop.set()
            cls._event.set()
            thread = cls._thread
        thread.join(timeout)


def stop_delayed_sealer() -> None:
    """Have this process's sealer thread, if one runs, seal what is committed and end (its
    connection closed)."""
    _DelayedSealer.stop()


def seal(*, wait: bool = True, batch: int = SEAL_BATCH, rounds: int | None = None, while_full: bool = False) -> int:
    """Chain the committed unsealed entries in ``id`` order; return how many were sealed.

    ``wait=False``: give up at once if another sealer holds the lock. Rounds of up to ``batch``
    entries repeat until one finds nothing (or ``rounds`` ran), so rows committed while a round
    ran are sealed by the same call; with ``while_full``, only while a round sealed a whole batch
    (the delayed sealer: a commit after its round wakes it again).
    """
    if not _process_lock.acquire(blocking=wait):
        return 0
    try:
        total = 0
        while rounds is None or rounds > 0:
            done = _seal_round(wait=wait, batch=batch)
            if done is None:  # another process is sealing
                return total
            total += done
            if done == 0 or (while_full and done < batch):
                return total
            rounds = None if rounds is None else rounds - 1
        return total
    finally:
        _process_lock.release()


def _seal_round(*, wait: bool, batch: int) -> int | None:
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return _seal_round_in_transaction(wait=wait, batch=batch)
    # SQLite (WAL): the seal's commit without its own fsync, for the reason given for PostgreSQL
    # below; the WAL is written in order, so the next durable commit (any writer's, a checkpoint's)
    # makes the seal durable with it. The connection's own setting is restored at once.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        setting = cursor.fetchone()[0]
        if setting <= 1:  # OFF or NORMAL already
            return _seal_round_in_transaction(wait=wait, batch=batch)
        cursor.execute("PRAGMA synchronous = NORMAL")
    try:
        return _seal_round_in_transaction(wait=wait, batch=batch)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(setting)}")


def _seal_round_in_transaction(*, wait: bool, batch: int) -> int | None:
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # The seal need not reach the disk before this returns: the writer's own commit
                    # already made its entry durable, a seal lost in a crash is redone by the next
                    # sealer, and a checkpoint's (synchronous) commit flushes every seal it read.
                    lock = "pg_advisory_xact_lock(%s)" if wait else "pg_try_advisory_xact_lock(%s)"
                    cursor.execute(f"SELECT set_config('synchronous_commit', 'off', true), {lock}", [SEAL_LOCK_KEY])
                    if not wait and not cursor.fetchone()[1]:
                        return None
                else:
                    # SQLite: a write first takes the database's write lock for this transaction,
                    # so the head read below is the latest and no other sealer can slip in.
                    cursor.execute(f"UPDATE {table} SET seq = seq WHERE id = -1")  # noqa: S608
            head = (AuditEntry.objects.filter(seq__isnull=False).order_by("-seq")
                    .values_list("seq", "entry_hash").first())
            seq, prev = head or (0, GENESIS)
            rows = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch])
            if not rows:
                return 0
            updates = []
            for entry in rows:
                seq += 1
                entry.prev_hash = prev
                entry.entry_hash = prev = entry.compute_hash()
                updates.append((seq, entry.prev_hash, entry.entry_hash, entry.pk))
            with connection.cursor() as cursor:
                # The one UPDATE the trail allows (the ORM refuses every other): unsealed rows only.
                cursor.executemany(
                    f"UPDATE {table} SET seq = %s, prev_hash = %s, entry_hash = %s "  # noqa: S608
                    "WHERE id = %s AND seq IS NULL",
                    updates,
                )
            return len(rows)
    except IntegrityError:
        # Two sealers without a shared lock (cannot happen with the locks above): the unique
        # seq refused the second; nothing of it was written.
        log.warning("audit sealer collided with another sealer; its round was rolled back")
        return None


def unsealed_count() -> int:
    return AuditEntry.objects.filter(seq__isnull=True).count()


def chain_head() -> tuple[int, str]:
    """(length, head hash) of the sealed chain: (0, GENESIS) when empty."""
    head = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "entry_hash").first()
    return head or (0, GENESIS)


@dataclass
class ChainReport:
    """What :func:`check_chain` found."""

    checked: int = 0  # sealed entries walked
    length: int = 0  # highest seq seen
    head: str = GENESIS
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_chain(*, seal_first: bool = True, anchors: Mapping[int, str] | None = None,
                start: tuple[int, str] = (0, GENESIS)) -> ChainReport:
    """Walk the sealed chain after ``start`` (a (seq, hash) already trusted) in ``seq`` order.

    Checks that ``seq`` runs 1, 2, … without a gap, that each entry names the previous one's
    hash and that its content matches its own hash. ``anchors`` maps a chain length to the
    head hash a signed checkpoint gives for it: an entry whose hash differs there is a
    rewrite (even with every later hash recomputed), a length the chain no longer reaches is
    a truncation.
    """
    if seal_first:
        seal(wait=True)
    anchors = dict(anchors or {})
    report = ChainReport(length=start[0], head=start[1])
    expected_seq, expected_prev = start[0] + 1, start[1]
    entries = AuditEntry.objects.filter(seq__gt=start[0]).order_by("seq")
    for entry in entries.iterator(chunk_size=2000):
        report.checked += 1
        if entry.seq != expected_seq:
            report.problems.append(f"entries {expected_seq}..{entry.seq - 1} of the chain are missing (deleted)")
        if entry.prev_hash != expected_prev:
            report.problems.append(
                f"entry {entry.seq} (id {entry.pk}): previous-hash link broken (a row before it was changed or removed)")
        if entry.compute_hash() != entry.entry_hash:
            report.problems.append(f"entry {entry.seq} (id {entry.pk}): content does not match its hash (the row was changed)")
        anchored = anchors.get(entry.seq)
        if anchored is not None and anchored != entry.entry_hash:
            report.problems.append(
                f"entry {entry.seq}: hash differs from the signed checkpoint of length {entry.seq} "
                "(the trail was rewritten up to it)")
        expected_seq, expected_prev = entry.seq + 1, entry.entry_hash
        report.length, report.head = entry.seq, entry.entry_hash
    for length in sorted(anchors):
        if length > report.length:
            report.problems.append(
                f"a signed checkpoint covers {length} entries but the chain has {report.length}: "
                "the newest entries were deleted (truncation)")
            break
    report.unsealed = unsealed_count()
    return report


def verify_chain(*, seal_first: bool = True) -> tuple[int, list[str]]:
    """Seal, then walk the whole trail; return (entries checked, problems found)."""
    report = check_chain(seal_first=seal_first)
    return report.checked, report.problems
