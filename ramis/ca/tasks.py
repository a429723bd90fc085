"""Celery tasks (routed to the ``signing`` queue): thin, ids in, a service call."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services
from .models import CertificateAuthority, IssuedCertificate


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=5)
def revocation_publish(certificate_id: int) -> None:
    """After a revocation, hold or release commits: re-sign its OCSP answers, then the CRL."""
    cert = IssuedCertificate.objects.select_related("ca").get(pk=certificate_id)
    services.ocsp_refresh(ca_slug=cert.ca.slug, certificate_ids=[cert.pk])
    services.crl_publish(ca_slug=cert.ca.slug)


@shared_task(ignore_result=True)
def crl_publish_all() -> None:
    """Beat: a fresh CRL for every CA well before the last one's nextUpdate."""
    for slug in CertificateAuthority.objects.values_list("slug", flat=True):
        services.crl_publish(ca_slug=slug)


@shared_task(ignore_result=True)
def ocsp_refresh_due() -> int:
    """Beat: expire what is past notAfter, re-sign answers past half their validity."""
    services.certificates_expire_due()
    due = timezone.now() + dt.timedelta(hours=settings.CA_OCSP_VALIDITY_HOURS / 2)
    count = 0
    for slug in CertificateAuthority.objects.exclude(ocsp_key_id="").values_list("slug", flat=True):
        count += services.ocsp_refresh(ca_slug=slug, due_before=due)
    return count
