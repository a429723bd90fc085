"""What the CA tells the rooms after it (DESIGN "rooms"): the CA imports none of them, so a room
that keeps its own record of a certificate listens here and calls its own service."""

from django.dispatch import Signal

# Sent by ``services._transition`` inside the transaction of a revocation, hold or release of an
# ``IssuedCertificate`` (whoever started it: ``manage.py ca``, the admin, another room), after the
# CA's audit row; a receiver's writes commit or roll back with the CA's change. Keyword arguments:
# ``certificate`` (the IssuedCertificate, locked), ``event`` (``certificate.revoked|held|released``),
# ``old``, ``new`` (its statuses), ``note`` (the operator's reason), ``actor`` and ``ctx`` (its
# ``AuditContext``, or None).
certificate_status_changed = Signal()
