"""e-Namad's settings (the trust seal): the section of ``ramis/settings.py`` kept in a file of its
own, so that neither passes the rooms' 800 lines. ``ramis/settings.py`` imports every name here
where the section stands, and adds ``ENAMAD_BEAT_SCHEDULE`` to Celery beat's schedule; the
configuration reference (scripts/docs_hooks.py) reads this file there too. Give every new setting
a one-line comment directly above it, as in ``ramis/settings.py``."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, production

_PRODUCTION = production()  # ramis/settings.py's PRODUCTION
# e-Namad's periodic tasks: ramis/settings.py adds them to CELERY_BEAT_SCHEDULE.
ENAMAD_BEAT_SCHEDULE: dict[str, dict] = {}

# Rows per page of the e-Namad staff desk's lists (files, tickets, complaints).
ENAMAD_STAFF_PAGE_SIZE = env_int("ENAMAD_STAFF_PAGE_SIZE", 25)
# How long (milliseconds) each web process keeps the facts the seal logo read (per seal; 0: not at
# all), before it asks the shared cache again: a change committed in another process shows on this
# one's logo within this bound (the committing process's own at once). docs/reference/enamad-seal.md.
ENAMAD_SEAL_MEMO_MS = env_int("ENAMAD_SEAL_MEMO_MS", 2000)
# A seal is valid this many days from final approval (N18, N22: one or two years).
ENAMAD_SEAL_VALIDITY_DAYS = env_int("ENAMAD_SEAL_VALIDITY_DAYS", 365)
# The loopback port where the e-Namad letter page looks for the holder's token agent
# (`python -m tokens.agent`) to offer signing the commitment letter on the holder's machine.
ENAMAD_LETTER_AGENT_PORT = env_int("ENAMAD_LETTER_AGENT_PORT", 8765)
# Signed commitment letters one business may upload for validation per hour (each costs a PAdES check).
ENAMAD_SIGNED_LETTER_PER_HOUR = env_int("ENAMAD_SIGNED_LETTER_PER_HOUR", 20)
# Lifetime of the account activation link, in seconds.
ENAMAD_ACTIVATION_MAX_AGE_SECONDS = env_int("ENAMAD_ACTIVATION_MAX_AGE_SECONDS", 3 * 24 * 3600)
# Lifetime of an e-Namad password-reset link, in seconds (a used link is dead at once).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 2 * 3600)
# Lifetime of the business e-mail confirmation link, in seconds.
ENAMAD_EMAIL_LINK_MAX_AGE_SECONDS = env_int("ENAMAD_EMAIL_LINK_MAX_AGE_SECONDS", 3 * 24 * 3600)
# Reverse SMS / IVR (N5): the numbers the applicant texts or calls, how long a code lives, and
# the shared secret the SMS gateway and the IVR sign their callbacks with (HMAC-SHA256).
# The number the owner texts the code to.
ENAMAD_REVERSE_SMS_NUMBER = env_str("ENAMAD_REVERSE_SMS_NUMBER", "100020003000")
# The IVR line the owner calls to key a landline code.
ENAMAD_IVR_NUMBER = env_str("ENAMAD_IVR_NUMBER", "02191002000")
# Lifetime of a reverse-SMS or IVR code, in seconds.
ENAMAD_PHONE_CODE_SECONDS = env_int("ENAMAD_PHONE_CODE_SECONDS", 15 * 60)
# HMAC key of the SMS gateway's and the IVR's callbacks (empty: every callback is refused).
ENAMAD_INBOUND_SECRET = env_str("ENAMAD_INBOUND_SECRET", "" if _PRODUCTION else "dev-inbound-secret")
# Domain verification (N7): timeouts, size cap, ports, resolver, and (tests/dev only) whether
# loopback addresses may be fetched (every other non-global address is always refused).
# Connect/read timeout of the domain checks, in seconds (a whole fetch takes at most 3×).
ENAMAD_VERIFY_TIMEOUT_SECONDS = env_int("ENAMAD_VERIFY_TIMEOUT_SECONDS", 5)
# At most this much of a page is read, in bytes.
ENAMAD_VERIFY_MAX_BYTES = env_int("ENAMAD_VERIFY_MAX_BYTES", 512 * 1024)
# Allow loopback targets (127.0.0.0/8, ::1) for the domain checks: tests and a local demo only.
# ENAMAD_VERIFY_ALLOW_PRIVATE is its old name, still read; no other non-global address is ever allowed.
ENAMAD_VERIFY_ALLOW_LOOPBACK = env_bool("ENAMAD_VERIFY_ALLOW_LOOPBACK", False) or env_bool(
    "ENAMAD_VERIFY_ALLOW_PRIVATE", False)
# Port the domain checks connect to over HTTP.
ENAMAD_VERIFY_HTTP_PORT = env_int("ENAMAD_VERIFY_HTTP_PORT", 80)
# Port the domain checks connect to over HTTPS.
ENAMAD_VERIFY_HTTPS_PORT = env_int("ENAMAD_VERIFY_HTTPS_PORT", 443)
# Extra trust anchor (PEM) for the TLS check (empty: the system's).
ENAMAD_VERIFY_CA_FILE = env_str("ENAMAD_VERIFY_CA_FILE", "")
# The DNS server queried for A and TXT records.
ENAMAD_DNS_RESOLVER = env_str("ENAMAD_DNS_RESOLVER", "")  # host[:port]; empty: /etc/resolv.conf

# Domain control by a code e-mailed to info@<domain> (N22): how long a code lives, the wait
# before another, how many a business (and an address) may be sent a day, wrong tries before a
# code dies, and how long an e-mailed proof keeps a sealed site's domain control without a
# lasting mark (the monitor then e-mails a fresh code to confirm again; docs/reference/enamad-seal.md).
# Lifetime of a code e-mailed to info@ the domain, in seconds.
ENAMAD_DOMAIN_EMAIL_CODE_SECONDS = env_int("ENAMAD_DOMAIN_EMAIL_CODE_SECONDS", 30 * 60)
# Wait before another code e-mailed to info@ the domain, in seconds.
ENAMAD_DOMAIN_EMAIL_RESEND_SECONDS = env_int("ENAMAD_DOMAIN_EMAIL_RESEND_SECONDS", 60)
# E-mailed domain codes a day per business.
ENAMAD_DOMAIN_EMAIL_DAILY_LIMIT = env_int("ENAMAD_DOMAIN_EMAIL_DAILY_LIMIT", 5)
# E-mailed domain codes a day per info@ address.
ENAMAD_DOMAIN_EMAIL_ADDRESS_DAILY_LIMIT = env_int("ENAMAD_DOMAIN_EMAIL_ADDRESS_DAILY_LIMIT", 10)
# Wrong tries before an e-mailed domain code dies.
ENAMAD_DOMAIN_EMAIL_MAX_ATTEMPTS = env_int("ENAMAD_DOMAIN_EMAIL_MAX_ATTEMPTS", 5)
# An e-mailed proof keeps a seal's domain control without a mark this many days.
ENAMAD_DOMAIN_EMAIL_PROOF_DAYS = env_int("ENAMAD_DOMAIN_EMAIL_PROOF_DAYS", 90)
# Answering hours shown on the seal page when a business gives none.
ENAMAD_SUPPORT_HOURS = env_str("ENAMAD_SUPPORT_HOURS", "شنبه تا چهارشنبه، ۸ تا ۱۶")
ENAMAD_BEAT_SCHEDULE["enamad-verify-pending"] = {
    "task": "enamad.tasks.verify_pending_domains", "schedule": 300.0,
}
ENAMAD_BEAT_SCHEDULE["enamad-expire-seals"] = {"task": "enamad.tasks.expire_seals", "schedule": 3600.0}
# After the seal (docs/reference/enamad-seal.md): monitoring (N18, N21), expiry reminders, complaints (N23).
ENAMAD_MONITOR_INTERVAL_HOURS = env_int("ENAMAD_MONITOR_INTERVAL_HOURS", 12)  # each seal re-checked this often
# Days of lapsed domain control before the monitor suspends the seal.
ENAMAD_MONITOR_GRACE_DAYS = env_int("ENAMAD_MONITOR_GRACE_DAYS", 7)  # lapsed domain control → suspension
# Failed checks in a row before a star drops, the site counts as unreachable or the grace starts.
ENAMAD_MONITOR_FAILURES = env_int("ENAMAD_MONITOR_FAILURES", 2)
if ENAMAD_MONITOR_FAILURES < 1:
    raise ImproperlyConfigured(f"ENAMAD_MONITOR_FAILURES={ENAMAD_MONITOR_FAILURES}: at least 1")
# Seals per monitoring task.
ENAMAD_MONITOR_BATCH_SIZE = env_int("ENAMAD_MONITOR_BATCH_SIZE", 200)  # seals per Celery task
# Network threads per monitoring task.
ENAMAD_MONITOR_CONCURRENCY = env_int("ENAMAD_MONITOR_CONCURRENCY", 32)  # network threads per task
# Seals claimed per beat run (every 5 minutes).
ENAMAD_MONITOR_DISPATCH_LIMIT = env_int("ENAMAD_MONITOR_DISPATCH_LIMIT", 5000)  # seals per beat run
# Seal expiry reminders (SMS and e-mail), days before expiry.
ENAMAD_EXPIRY_REMINDER_DAYS = [int(d) for d in env_list("ENAMAD_EXPIRY_REMINDER_DAYS", ["30", "7"])]
# The holder's deadline to answer a buyer's complaint, in hours.
ENAMAD_COMPLAINT_ANSWER_HOURS = env_int("ENAMAD_COMPLAINT_ANSWER_HOURS", 96)
# An answered ticket the holder leaves this many days is closed; they may reopen it as long again.
ENAMAD_TICKET_CLOSE_DAYS = env_int("ENAMAD_TICKET_CLOSE_DAYS", 7)
ENAMAD_BEAT_SCHEDULE["enamad-monitor"] = {"task": "enamad.tasks.monitor_dispatch", "schedule": 300.0}
ENAMAD_BEAT_SCHEDULE["enamad-expiry-reminders"] = {"task": "enamad.tasks.expiry_reminders", "schedule": 3600.0}
ENAMAD_BEAT_SCHEDULE["enamad-overdue-complaints"] = {"task": "enamad.tasks.flag_overdue_complaints",
                                                     "schedule": 900.0}
ENAMAD_BEAT_SCHEDULE["enamad-close-idle-tickets"] = {"task": "enamad.tasks.close_idle_tickets", "schedule": 3600.0}
