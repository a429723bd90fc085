"""The OCSP tier's counters, shared by its worker processes: ``GET /metrics`` on ``ca ocsp-serve``.

The master makes one anonymous shared-memory block before it forks (:class:`Board`); each worker
counts into a row of its own (a plain 64-bit add, no lock: nobody else writes that row), and a
scrape — which the kernel hands to any one worker, as it does every connection — reads and sums
every row. A worker that dies is replaced in the same row, so the counters never go back.
The text is prometheus-client's (a collector of our own over the board), as on the web tier's
``/metrics``; who may scrape is decided as there (docs/operator/metrics.md): a loopback client
that did not come through the proxy, or ``Authorization: Bearer <METRICS_TOKEN>``.

Per answer this costs a dict lookup (each answer's cell, remembered by its bytes) and one add:
0.40 µs per call measured with timeit on the 2-core machine at load average 7.5 (2026-12-06),
beside the ~13-33 µs of CPU an answer costs (bench/pki.py measures the tier with it).
"""

from __future__ import annotations

import hmac
import ipaddress
import mmap

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ramis.common.metrics import ocsp_status

# the OCSP answer statuses ramis.common.metrics.ocsp_status names, then what cannot be parsed
STATUSES = ("good", "revoked", "unknown", "malformed_request", "internal_error", "try_later", "sig_required",
            "unauthorized", "unparsable")
HTTP_ERRORS = (400, 404, 405, 408, 411, 413, 415, 500)
# a row: answers per status, HTTP errors per code, answers made in a thread, open connections, restarts
_ANSWERS = 0
_ERRORS = _ANSWERS + len(STATUSES)
_MISSES = _ERRORS + len(HTTP_ERRORS)
_OPEN = _MISSES + 1
_RESTARTS = _OPEN + 1
ROW = _RESTARTS + 1


class Row:
    """One worker's counters (a view into the shared block)."""

    __slots__ = ("cells", "base", "_status", "_error", "_by_answer")

    def __init__(self, cells: memoryview, index: int) -> None:
        self.cells = cells
        self.base = index * ROW
        self._status = {name: self.base + _ANSWERS + i for i, name in enumerate(STATUSES)}
        self._error = {code: self.base + _ERRORS + i for i, code in enumerate(HTTP_ERRORS)}
        self._by_answer: dict[bytes, int] = {}  # an answer's bytes -> its cell (the responder's bytes objects)

    def answered(self, raw: bytes) -> None:
        cell = self._by_answer.get(raw)
        if cell is None:
            cell = self._status.get(ocsp_status(raw), self.base + _ANSWERS + len(STATUSES) - 1)
            if len(self._by_answer) >= 50_000:  # as many as the responder keeps
                self._by_answer.clear()
            self._by_answer[raw] = cell
        self.cells[cell] += 1

    def http_error(self, code: int) -> None:
        cell = self._error.get(code)
        if cell is not None:
            self.cells[cell] += 1

    def missed(self) -> None:
        self.cells[self.base + _MISSES] += 1

    def connections(self, count: int) -> None:
        self.cells[self.base + _OPEN] = count

    def restarted(self) -> None:
        self.cells[self.base + _RESTARTS] += 1


class Board:
    """Counters for ``workers`` rows in memory shared across fork (MAP_SHARED | MAP_ANONYMOUS)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._block = mmap.mmap(-1, max(1, workers) * ROW * 8)
        self.cells = memoryview(self._block).cast("Q")

    def row(self, index: int) -> Row:
        return Row(self.cells, index)

    def _sum(self, offset: int) -> int:
        return sum(self.cells[i * ROW + offset] for i in range(self.workers))

    def collect(self):
        answers = CounterMetricFamily("ramis_ocsp_tier_answers", "OCSP answers given by the OCSP tier "
                                      "(ca ocsp-serve), every worker, per status", labels=["status"])
        for i, name in enumerate(STATUSES):
            answers.add_metric([name], self._sum(_ANSWERS + i))
        errors = CounterMetricFamily("ramis_ocsp_tier_http_errors", "Requests the OCSP tier refused with "
                                     "an HTTP error (not an OCSP answer), per status code", labels=["code"])
        for i, code in enumerate(HTTP_ERRORS):
            errors.add_metric([str(code)], self._sum(_ERRORS + i))
        yield answers
        yield errors
        yield CounterMetricFamily("ramis_ocsp_tier_cache_misses", "Answers not in a worker's memory: looked "
                                  "up in the database or signed by the signing queue", value=self._sum(_MISSES))
        yield GaugeMetricFamily("ramis_ocsp_tier_open_connections", "Connections the workers hold open "
                                "(each worker's count, refreshed twice a second)", value=self._sum(_OPEN))
        yield GaugeMetricFamily("ramis_ocsp_tier_workers", "Worker processes of the OCSP tier", value=self.workers)
        yield CounterMetricFamily("ramis_ocsp_tier_worker_restarts", "Workers that ended and were replaced",
                                  value=self._sum(_RESTARTS))

    def exposition(self) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return generate_latest(registry)


def allowed(peer: str | None, forwarded: bool, authorization: bytes | None, token: str) -> bool:
    """The web tier's rule (ramis.metrics): the token, or loopback without the proxy's header."""
    if token and authorization is not None and hmac.compare_digest(authorization, f"bearer {token}".encode()):
        return True
    if forwarded or not peer:
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
