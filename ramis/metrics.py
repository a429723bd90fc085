"""``/metrics`` for Prometheus (docs/operator/metrics.md): django-prometheus's request metrics
(latency per view, responses per status, database and cache calls), the portal's counters
(:mod:`ramis.common.metrics`), and gauges read at scrape time — certificates issued, the
outbox's backlog, the Celery queues' depth — so that every web process reports the same numbers
whichever of them Prometheus reaches.

Only a scrape from the machine itself (loopback, and not forwarded by the proxy) or one carrying
``Authorization: Bearer <METRICS_TOKEN>`` gets an answer; anyone else gets a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, CollectorRegistry

logger = logging.getLogger("ramis.metrics")

QUEUES = ("default", "signing")
_PRIORITY_SEP, _PRIORITY_STEPS = "\x06\x16", (3, 6, 9)  # kombu's Redis priority queues


class PortalCollector:
    """Numbers kept in PostgreSQL and Redis, read when Prometheus scrapes."""

    def describe(self):
        """The families, without reading anything (the registry asks at registration)."""
        yield CounterMetricFamily("ramis_certificates_issued", "", labels=["profile"])
        yield GaugeMetricFamily("ramis_outbox_backlog", "", labels=["status"])
        yield GaugeMetricFamily("ramis_celery_queue_depth", "", labels=["queue"])

    def collect(self):
        from ramis.ca.models import IssuedCertificate
        from ramis.common.models import OutboxMessage

        issued = CounterMetricFamily("ramis_certificates_issued", "Certificates issued by the CA, per profile",
                                     labels=["profile"])
        try:
            counts = dict(IssuedCertificate.objects.values_list("profile").annotate(n=Count("id")))
            for profile in IssuedCertificate.Profile.values:
                issued.add_metric([profile], counts.get(profile, 0))
            yield issued
            backlog = GaugeMetricFamily("ramis_outbox_backlog", "SMS and e-mail not sent yet, per status",
                                        labels=["status"])
            unsent = dict(OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT)
                          .values_list("status").annotate(n=Count("id")))
            for status in (OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING, OutboxMessage.Status.FAILED):
                backlog.add_metric([status.value], unsent.get(status, 0))
            yield backlog
        except Exception as exc:  # a scrape during a database outage: the other metrics still answer
            logger.warning("metrics: database unreachable (%s)", exc.__class__.__name__)
        depth = self._queue_depth()
        if depth is not None:
            yield depth

    def _queue_depth(self):
        if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            return None
        import redis

        gauge = GaugeMetricFamily("ramis_celery_queue_depth", "Tasks waiting in each Celery queue",
                                  labels=["queue"])
        timeout = settings.READINESS_TIMEOUT_SECONDS
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=timeout,
                                      socket_timeout=timeout)
        try:
            for queue in QUEUES:
                keys = [queue, *(f"{queue}{_PRIORITY_SEP}{p}" for p in _PRIORITY_STEPS)]
                pipe = client.pipeline()
                for key in keys:
                    pipe.llen(key)
                gauge.add_metric([queue], sum(pipe.execute()))
        except redis.RedisError as exc:
            logger.warning("metrics: broker unreachable (%s)", exc.__class__.__name__)
            return None
        finally:
            client.close()
        return gauge


_collector = PortalCollector()
REGISTRY.register(_collector)


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if "HTTP_X_FORWARDED_FOR" in request.META:  # came through the proxy: not the machine itself
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _registry() -> CollectorRegistry:
    """The process's registry; in multi-process mode (PROMETHEUS_MULTIPROC_DIR, several gunicorn
    workers) every worker's counters summed, and the gauges above (django-prometheus's own view
    would leave those out there)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_collector)
    return registry


def metrics(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
