"""This room listens to the CA (which knows nothing of requests, DESIGN "rooms") and calls its own
service: the receivers are thin."""

from __future__ import annotations

from django.dispatch import receiver

from ramis.ca.signals import certificate_status_changed

from . import services


@receiver(certificate_status_changed, dispatch_uid="certrequests.follow_ca")
def follow_ca(sender, *, certificate, event, old, new, note, actor, ctx, **kwargs) -> None:
    """A hold, release or revocation at the CA reaches the holder's certificate here."""
    if event == "certificate.revoked":  # the CA's note of a revocation is its RFC 5280 reason
        note = ""
    services.certificate_follow_ca(serial=certificate.serial_hex, event=event, ca_reason=certificate.revocation_reason,
                                   note=note, actor=actor, ctx=ctx)
