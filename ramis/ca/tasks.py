"""Celery tasks (routed to the ``signing`` queue): thin, ids in, a service call."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.utils import timezone

from . import audit_anchor, responder, services, signing
from .models import CertificateAuthority, IssuedCertificate, OCSPChange

log = logging.getLogger(__name__)


def _prepare_signing_process(**kwargs) -> None:
    """Each worker child on start: a signing one (it holds a CA PIN) gets ready before its first task."""
    if signing.holds_a_pin():
        signing.prepare_process()


worker_process_init.connect(_prepare_signing_process, weak=False, dispatch_uid="ramis.ca.prepare_signing_process")


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=5)
def revocation_publish(certificate_id: int) -> None:
    """After a revocation, hold or release commits: re-sign its OCSP answers, then the CRL."""
    cert = IssuedCertificate.objects.select_related("ca").get(pk=certificate_id)
    services.ocsp_refresh(ca_slug=cert.ca.slug, certificate_ids=[cert.pk])
    responder.clear_cache()  # this process answers from the new bytes now; others within the cache TTL
    services.crl_publish(ca_slug=cert.ca.slug)


@shared_task(ignore_result=True)
def crl_publish_all() -> None:
    """Beat: a fresh CRL for every CA whose PIN this worker holds, well before the last one's nextUpdate.

    A CA without a PIN here (a root kept offline) is skipped with a warning; its
    operator publishes its CRL with ``manage.py ca crl --ca root``. One CA
    failing does not keep the others from publishing.
    """
    failed = []
    for slug in CertificateAuthority.objects.values_list("slug", flat=True):
        if not signing.ca_settings(slug).get("pin"):
            log.warning("no PIN for CA %s in this worker: its CRL is not published by beat", slug)
            continue
        try:
            services.crl_publish(ca_slug=slug)
        except Exception:
            log.exception("publishing the CRL of CA %s failed", slug)
            failed.append(slug)
    if failed:
        raise services.CAError(f"CRL not published for {', '.join(failed)}")


@shared_task(ignore_result=True)
def ocsp_refresh_due() -> int:
    """Beat: expire what is past notAfter, re-sign answers past half their validity, drop the
    status-change rows the responders no longer read (older than a day)."""
    services.certificates_expire_due()
    OCSPChange.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=1)).delete()
    due = timezone.now() + dt.timedelta(hours=settings.CA_OCSP_VALIDITY_HOURS / 2)
    count = 0
    for slug in CertificateAuthority.objects.exclude(ocsp_key_id="").values_list("slug", flat=True):
        count += services.ocsp_refresh(ca_slug=slug, due_before=due)
    return count


@shared_task(ignore_result=True, time_limit=30)
def ocsp_sign_unissued(ca_slug: str, hash_name: str, serial_hex: str) -> None:
    """An OCSP responder was asked about a serial of ours that nobody issued: sign "unknown"."""
    services.ocsp_sign_unissued(ca_slug=ca_slug, hash_name=hash_name, serial=int(serial_hex, 16))


@shared_task(ignore_result=True)
def ocsp_responder_renew_due() -> list[str]:
    """Beat (daily): renew each CA's OCSP responder certificate ``CA_OCSP_RESPONDER_RENEW_DAYS``
    before it expires and re-sign the stored answers with it. Returns the CAs renewed."""
    renewed, failed = [], []
    for slug in CertificateAuthority.objects.exclude(ocsp_key_id="").values_list("slug", flat=True):
        if not signing.ca_settings(slug).get("pin"):
            log.warning("no PIN for CA %s in this worker: its OCSP responder is not renewed by beat", slug)
            continue
        try:
            if services.ocsp_responder_renew(ca_slug=slug):
                renewed.append(slug)
        except Exception:
            log.exception("renewing the OCSP responder certificate of CA %s failed", slug)
            failed.append(slug)
    if renewed:
        responder.clear_cache()
    if failed:
        raise services.CAError(f"OCSP responder not renewed for {', '.join(failed)}")
    return renewed


@shared_task(ignore_result=True, expires=60)
def signing_heartbeat() -> dict:
    """Beat, on the signing queue: this worker reaches each CA's key on its token (whose PIN it
    holds) and says so in the heartbeat that /readyz reads (ramis.common.health)."""
    from ramis.common import health

    tokens = {}
    for ca in CertificateAuthority.objects.all():
        pin = signing.ca_settings(ca.slug).get("pin")
        if not pin:
            continue  # a root kept offline: not this worker's to reach
        try:
            signing.open_token(ca.token_label, pin).private_key(id=bytes.fromhex(ca.key_id))
        except Exception as exc:  # the token's error, reported, never raised: the beat goes on
            tokens[ca.slug] = f"{exc.__class__.__name__}: {exc}"[:200]
        else:
            tokens[ca.slug] = "ok"
    return health.write_heartbeat(tokens=tokens)


@shared_task(ignore_result=True)
def audit_checkpoint() -> int | None:
    """Beat: sign the audit chain's length and head on the audit token when it grew
    (docs/operator/audit.md). Returns the length signed, or None."""
    if not settings.AUDIT_PIN:
        log.warning("no AUDIT_PIN in this worker: the audit trail is not checkpointed by beat")
        return None
    cp = audit_anchor.checkpoint_create(only_if_changed=True)
    return cp.length if cp else None

@shared_task(ignore_result=True, time_limit=30)
def tsa_sign(request_b64: str, reply_key: str) -> None:
    """Sign a timestamp (routed to ``CA_TSA_QUEUE``, whose worker alone holds the TSA's PIN) and
    hand the reply to the web process waiting on ``reply_key`` (:mod:`ramis.ca.tsa_front`)."""
    import base64

    from . import tsa_front, tsa_services

    tsa_front.deliver(reply_key, tsa_services.timestamp_reply(base64.b64decode(request_b64)))
