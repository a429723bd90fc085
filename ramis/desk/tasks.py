"""The CA's part of an office issuance, on the ``signing`` queue (the only worker that holds the
CA token's PIN; eager and in-process in the embedded setup). Thin: an id in, a service call."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def ca_sign(attempt_id: int) -> None:
    """No automatic retry: the attempt is claimed once; the office's page reports a timeout."""
    services.ca_sign_for_attempt(attempt_id=attempt_id)
