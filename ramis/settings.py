"""Settings for the portal.

Every value comes from the environment; the defaults are the
embedded development setup that ``make run`` needs: SQLite under ``var/``, Celery eager,
console SMS/e-mail, SoftHSM tokens under ``var/softhsm``.  ``RAMIS_ENV=production`` turns on
the production hardening that ``manage.py check --deploy`` asks for.

The configuration reference (docs/operator/configuration.md) is generated from this file: every
``env_*("NAME", default)`` with the comment directly above it, grouped by the ``# --- Section ---``
headings. Give every new setting a one-line comment directly above it.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, production

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded setup keeps its state: SQLite database, uploads, SoftHSM tokens, screenshots.
VAR_DIR = Path(env_str("RAMIS_VAR_DIR", str(BASE_DIR / "var")))

# `production` turns on HTTPS-only cookies, HSTS and the SSL redirect and requires SECRET_KEY.
RAMIS_ENV = env_str("RAMIS_ENV", "development")
if RAMIS_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"RAMIS_ENV={RAMIS_ENV!r}: use development or production")
PRODUCTION = production()

# Django's debug mode (on in development); also shows the development outbox and demo commands.
DEBUG = env_bool("DEBUG", not PRODUCTION)
# Django's signing key: required in production (a fixed development key otherwise).
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else "dev-only-insecure-key-do-not-use-in-production-8f2c1e")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when RAMIS_ENV=production")
# Host names the portal answers to, comma-separated (local names in development).
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])
# Origins trusted for form posts, comma-separated (e.g. https://ra.example.ir).
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public base URL of the portal: seal snippets, e-mails and SMS links (https:// in production).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Base of the URLs certificates name (CRL distribution point, AIA OCSP and caIssuers). Empty:
# plain http:// on PUBLIC_BASE_URL's host — relying parties fetch CRLs and OCSP over HTTP
# (RFC 5280 §4.2.1.13, RFC 6960 appendix A), and /ca/ is exempt from the HTTPS redirect.
CA_PUBLIC_URL = env_str("CA_PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    # Django's admin with Jalali dates in every list, filter and form (ramis/common/admin_jalali.py)
    "ramis.common.admin_jalali.RamisAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "captcha",
    "axes",
    "django_prometheus",
    # django-jalali-date: the admin's Jalali date fields, widgets and change form, with its vendored
    # date picker (@majidh1/jalalidatepicker); the portal's own date boxes use static/js/jalali-picker.js
    "jalali_date",
    # Rooms, in the order they may import each other (DESIGN.md).
    "ramis.common",
    "ramis.registry",
    "tokens",
    "ramis.ca",
    "certauth",
    "ramis.offices",
    "ramis.requests",
    "ramis.desk",
    "enamad",
]

MIDDLEWARE = [
    # Observability (docs/operator/metrics.md, logs.md): request metrics first, then the request id.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "ramis.common.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ramis.common.sessions.IdleSessionMiddleware",  # Django's, with the idle timeout's writes a minute apart
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception runs first: a database or Redis outage answers 503, in Persian.
    "ramis.common.outage.OutageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "ramis.urls"
WSGI_APPLICATION = "ramis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ramis.common.context_processors.portal",
            ],
            "builtins": ["ramis.common.templatetags.jalali", "ramis.common.templatetags.words"],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# The database: SQLite under var/ by default; e.g. postgres://user@host:5432/ramis.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ramis.sqlite3'}")
# Seconds a database connection is kept open for reuse by the next requests of the same process
# (0: a new one per request) (production: 600 — a new PostgreSQL connection costs ~5 ms per request,
# docs/developer/benchmarks.md).
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 600 if PRODUCTION else 0)
# Check a kept connection before each request uses it (one cheap round trip per request), so a
# connection PostgreSQL dropped (restart, failover) is replaced instead of failing the request.
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE,
                                              conn_health_checks=DB_CONN_HEALTH_CHECKS)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Write-ahead log: one fsync per commit (still durable across a power cut, synchronous=FULL)
    # instead of the rollback journal's three; readers no longer block the writer.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"
    # A transaction takes the write lock when it begins (waiting up to the timeout above), not at its
    # first write: a transaction that read and then writes while another process committed would
    # otherwise fail at once with "database is locked" (WAL's busy snapshot), e.g. several OCSP
    # responder processes signing a missing answer on demand while a revocation commits.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"].setdefault("TEST", {})["NAME"] = ""  # in-memory test database
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
# Redis cache URL (throttle counters and OCSP answers shared by processes); empty: local memory.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    # Degrading: with Redis down a read misses and a write is dropped (ramis/common/cache.py).
    CACHES = {"default": {"BACKEND": "ramis.common.cache.DegradingRedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ramis"}}

# --- Resilience: outages, health, readiness (docs/operator/outages.md, health.md) ----------
# Seconds a client is told to wait (Retry-After) on the 503 page shown while PostgreSQL or Redis is down.
UNAVAILABLE_RETRY_AFTER_SECONDS = env_int("UNAVAILABLE_RETRY_AFTER_SECONDS", 30)
# Checks /readyz requires (any of database, cache, broker, signing); the others are still reported.
READINESS_CHECKS = env_list("READINESS_CHECKS", ["database", "cache", "broker", "signing"])
# Timeout of each /readyz check that reaches another server (broker, cache), in seconds.
READINESS_TIMEOUT_SECONDS = env_int("READINESS_TIMEOUT_SECONDS", 2)
# Seconds between the signing worker's heartbeats (a beat task on the signing queue checks the CA tokens).
SIGNING_HEARTBEAT_SECONDS = env_int("SIGNING_HEARTBEAT_SECONDS", 30)
# /readyz takes the signing worker as gone when its last heartbeat is older than this, in seconds.
SIGNING_HEARTBEAT_MAX_AGE_SECONDS = env_int("SIGNING_HEARTBEAT_MAX_AGE_SECONDS", 120)
# Bearer token that lets Prometheus scrape /metrics from elsewhere (empty: only from the machine itself).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Log lines as JSON objects with the request id (json, the production default) or as plain text.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or plain")
_unknown_checks = set(READINESS_CHECKS) - {"database", "cache", "broker", "signing"}
if _unknown_checks:
    raise ImproperlyConfigured(f"READINESS_CHECKS: unknown check(s) {', '.join(sorted(_unknown_checks))}")

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "certauth.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "certauth.backends.ApplicantOTPBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "certauth:login"
LOGIN_REDIRECT_URL = "requests:panel"
LOGOUT_REDIRECT_URL = "public:home"
# A session ends after this many seconds without a request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)  # 30 minutes idle
# An idle timeout: a request moves the session's expiry ahead when the last move is this many seconds
# old (a write a minute, not a request; ramis/common/sessions.py): it ends 29–30 minutes after the last.
SESSION_IDLE_REFRESH_SECONDS = env_int("SESSION_IDLE_REFRESH_SECONDS", 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Applicant one-time codes (R3).
# How long a login code sent by SMS is valid, in seconds.
OTP_SMS_VALIDITY_SECONDS = env_int("OTP_SMS_VALIDITY_SECONDS", 120)
# Wrong tries before an applicant's login code dies.
OTP_SMS_MAX_ATTEMPTS = env_int("OTP_SMS_MAX_ATTEMPTS", 5)
# Wait before another login code can be sent.
OTP_SMS_RESEND_SECONDS = env_int("OTP_SMS_RESEND_SECONDS", 60)
# Issuer name shown in staff authenticator apps (django-otp's otpauth:// URIs).
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "RAMIS")
# Identity-step throttle: at most this many attempts per IP / per national code in the window.
LOGIN_THROTTLE_LIMIT = env_int("LOGIN_THROTTLE_LIMIT", 10)
# The identity-step throttle's window, in seconds.
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)

# Failed login codes or passwords before django-axes locks the user and IP out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
# How long a django-axes lockout lasts, in minutes.
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# Lock-outs count failures per (user name, IP) pair: an outsider's wrong passwords never lock the
# account for its owner at another address; national-window logins count the pair (national code,
# IP) (certauth.backends.axes_lockout_parameters).
AXES_LOCKOUT_PARAMETERS = "certauth.backends.axes_lockout_parameters"
# The client address axes counts is the one every throttle and the audit trail use (behind the proxy).
AXES_CLIENT_IP_CALLABLE = "ramis.common.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "certauth/locked.html"
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "certauth.backends.axes_username"

CAPTCHA_LENGTH = 5
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"
# Captcha test mode: the captcha accepts "PASSED" (tests and demo only, never production).
CAPTCHA_TEST_MODE = env_bool("CAPTCHA_TEST_MODE", False)  # accepts "PASSED" (tests/demo only)
CAPTCHA_TIMEOUT = 10

# OpenID Connect login via the national services window (R4); off unless the provider's
# authorization endpoint is configured.
# The provider's issuer (the ID token's iss).
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER", "")
# The provider's authorization endpoint; setting it turns the national-window login on.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
# The provider's token endpoint.
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
# The provider's userinfo endpoint.
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
# The provider's JWKS endpoint (the keys the ID token must be signed with).
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
# Our client id at the provider (the ID token's audience).
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
# Our client secret at the provider.
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
# The ID token's signature algorithm.
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
# How we authenticate to the token endpoint: client_secret_post (the secret in the form) or
# client_secret_basic (HTTP Basic); the provider's registration of our client says which.
OIDC_RP_TOKEN_AUTH_METHOD = env_str("OIDC_RP_TOKEN_AUTH_METHOD", "client_secret_post")
if OIDC_RP_TOKEN_AUTH_METHOD not in ("client_secret_post", "client_secret_basic"):
    raise ImproperlyConfigured(f"OIDC_RP_TOKEN_AUTH_METHOD={OIDC_RP_TOKEN_AUTH_METHOD!r}: "
                               "use client_secret_post or client_secret_basic")
# Scopes asked of the provider, space-separated; include the scope that releases the national-code
# claim (a provider may define its own, e.g. "openid national_id phone").
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid profile phone")
# The claim (ID token or userinfo) that carries the person's national code.
OIDC_NATIONAL_CODE_CLAIM = env_str("OIDC_NATIONAL_CODE_CLAIM", "national_code")
# The claim that carries the mobile number (when sent, it must be the introduced person's).
OIDC_MOBILE_CLAIM = env_str("OIDC_MOBILE_CLAIM", "phone_number")
# The claim with the person's first name (recorded in the login's audit entry).
OIDC_FIRST_NAME_CLAIM = env_str("OIDC_FIRST_NAME_CLAIM", "given_name")
# The claim with the person's last name (recorded in the login's audit entry).
OIDC_LAST_NAME_CLAIM = env_str("OIDC_LAST_NAME_CLAIM", "family_name")
# The provider's end_session_endpoint: logging out of the portal after a national-window login
# also ends the provider's session (RP-initiated logout); empty: the portal's session only.
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_OP_LOGOUT_ENDPOINT", "")
OIDC_STORE_ID_TOKEN = True  # the logout's id_token_hint
OIDC_CREATE_USER = False
OIDC_USE_PKCE = True
# Timeout of each call to the provider, in seconds.
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_AUTHENTICATION_CALLBACK_URL = "certauth:sso_callback"
LOGIN_REDIRECT_URL_FAILURE = "/auth/login/"
if OIDC_OP_AUTHORIZATION_ENDPOINT:
    AUTHENTICATION_BACKENDS.append("certauth.oidc.NationalWindowBackend")

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", "فارسی")]
TIME_ZONE = "Asia/Tehran"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and private files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where uploads are stored (never under a public URL).
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    # Uploads live outside the web root and have no public URL: they are served only by
    # permission-checked views (X8).
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Largest accepted upload, in bytes.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
# Most pixels an uploaded image may have (width × height; a 30000×30000 PNG of 110 KB is refused).
UPLOAD_MAX_IMAGE_PIXELS = env_int("UPLOAD_MAX_IMAGE_PIXELS", 64_000_000)
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Notifications (X3) -------------------------------------------------------------------
# SMS gateway class: the console backend, or ramis.common.sms.KavenegarSMSBackend.
SMS_BACKEND = env_str("SMS_BACKEND", "ramis.common.sms.ConsoleSMSBackend")
SMS_OPTIONS = {
    # The Kavenegar backend's API key.
    "api_key": env_str("KAVENEGAR_API_KEY", ""),
    # The sender number of outgoing SMS (Kavenegar).
    "sender": env_str("SMS_SENDER", "10004346"),
    # Seconds to wait for the SMS gateway to accept a connection (refused or unreachable: retried later).
    "connect_timeout": env_int("SMS_CONNECT_TIMEOUT_SECONDS", 5),
    # Seconds to wait for the SMS gateway's answer once connected (a hung gateway: retried later).
    "timeout": env_int("SMS_READ_TIMEOUT_SECONDS", 10),
}
# Base URL of the SMS gateway's API (empty: Kavenegar's own); e.g. a stand-in gateway in a drill.
SMS_BASE_URL = env_str("SMS_BASE_URL", "").rstrip("/")
# First wait before a worker retries a message the gateway refused, in seconds (doubling, at most 600).
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 10)
# Django e-mail backend: console in development, django.core.mail.backends.smtp.EmailBackend in production.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
# SMTP port.
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# SMTP user name.
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
# SMTP password.
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
# Use STARTTLS with the SMTP server.
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Sender address of the portal's e-mails.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@ramis.local")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The /dev/outbox/ page that shows sent SMS and e-mail (development only).
DEV_OUTBOX = env_bool("DEV_OUTBOX", DEBUG)
# Keep login codes readable in the outbox after sending (development, for /dev/outbox/ only).
OUTBOX_KEEP_SECRETS = env_bool("OUTBOX_KEEP_SECRETS", DEV_OUTBOX)

# --- Celery -------------------------------------------------------------------------------
# Celery broker; empty: tasks run eagerly in-process (the embedded setup).
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # with its host, so kombu has nothing to warn about
# kombu's Redis transport with the fix of ramis/broker.py (a worker that lost the broker twice exited).
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "ramis.broker:Transport"
# A worker or beat started while the broker is down waits for it instead of exiting (Celery 6's default too).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
# Run Celery tasks in-process instead of on a worker (on when REDIS_URL is empty).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# The CA's tasks go to the queue whose worker alone holds the CA token's PIN.
CELERY_TASK_ROUTES = {"ramis.ca.tasks.*": {"queue": env_str("CA_SIGNING_QUEUE", "signing")}}
CELERY_TIMEZONE = TIME_ZONE
# Seconds between beat's sweeps of the outbox for messages still unsent (e.g. queued while Redis was down).
OUTBOX_RETRY_SWEEP_SECONDS = env_int("OUTBOX_RETRY_SWEEP_SECONDS", 300)
# Beat's scheduler sends each due task under a fresh request id, beat-<hex> (docs/operator/logs.md).
CELERY_BEAT_SCHEDULER = "ramis.common.observability:BeatScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "outbox-retry": {"task": "ramis.common.tasks.outbox_retry_pending", "schedule": float(OUTBOX_RETRY_SWEEP_SECONDS)},
    # RAMIS requests: expiry reminders (SMS at 30 and 7 days) and expiry, hourly (R20).
    "certificates-expiry": {"task": "ramis.requests.tasks.certificates_expiry", "schedule": 3600.0},
}

# --- PKI: tokens (PKCS#11) and the CA (tokens/, ramis/ca/; docs/reference/pki.md) ---------
# The PKCS#11 module of the HSM or tokens (SoftHSM2 in development).
PKCS11_MODULE = env_str("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
# SoftHSM's configuration and token store (SoftHSM only).
SOFTHSM_DIR = Path(env_str("SOFTHSM_DIR", str(VAR_DIR / "softhsm")))  # softhsm2.conf + tokens/
CA_ROOT = {
    # Label of the token the root CA's key lives on.
    "token": env_str("CA_ROOT_TOKEN", "ramis-root"),
    # User PIN of the root CA's token: give it to the signing worker (and `ca init`) only.
    "pin": env_str("CA_ROOT_PIN", "" if PRODUCTION else "1234"),
    # The root CA's key type: rsa2048, rsa3072 or ec-p256.
    "key_type": env_str("CA_ROOT_KEY_TYPE", "rsa3072"),
    # The root CA's subject (RFC 4514).
    "name": env_str("CA_ROOT_NAME", "CN=RAMIS Root CA (development),O=RAMIS,C=IR"),
    # Lifetime of the root CA's certificate, in days.
    "validity_days": env_int("CA_ROOT_VALIDITY_DAYS", 7300),
}
CA_ISSUING = {
    # Label of the token the issuing CA's key lives on.
    "token": env_str("CA_ISSUING_TOKEN", "ramis-issuing"),
    # User PIN of the issuing CA's token: give it to the signing worker (and `ca init`) only.
    "pin": env_str("CA_ISSUING_PIN", "" if PRODUCTION else "1234"),
    # The issuing CA's key type: rsa2048, rsa3072 or ec-p256.
    "key_type": env_str("CA_ISSUING_KEY_TYPE", "rsa2048"),
    # The issuing CA's subject (RFC 4514).
    "name": env_str("CA_ISSUING_NAME", "CN=RAMIS Capital Market Issuing CA (development),O=RAMIS,C=IR"),
    # Lifetime of the issuing CA's certificate, in days.
    "validity_days": env_int("CA_ISSUING_VALIDITY_DAYS", 3650),
}
# SO PIN with which `ca init` creates missing SoftHSM tokens.
CA_SO_PIN = env_str("CA_SO_PIN", "" if PRODUCTION else "12345678")  # `ca init` creating SoftHSM tokens
# Lifetime of an end-entity certificate, in days.
CA_CERT_VALIDITY_DAYS = env_int("CA_CERT_VALIDITY_DAYS", 730)  # 365 in special cases (--validity-days)
# The CA's registered OID arc for its certificate policies.
CA_POLICY_ARC = env_str("CA_POLICY_ARC", "1.3.6.1.4.1.32473.364")  # RFC 5612 example arc until registered
# A CRL's nextUpdate, hours after its thisUpdate.
CA_CRL_NEXT_UPDATE_HOURS = env_int("CA_CRL_NEXT_UPDATE_HOURS", 24)
# Validity of each pre-signed OCSP answer, in hours.
CA_OCSP_VALIDITY_HOURS = env_int("CA_OCSP_VALIDITY_HOURS", 24)
# Lifetime of the OCSP responder's certificate, in days.
CA_OCSP_RESPONDER_VALIDITY_DAYS = env_int("CA_OCSP_RESPONDER_VALIDITY_DAYS", 90)
# OCSP answers of an expired certificate are kept fresh this long after its notAfter (docs/reference/pki.md).
CA_OCSP_AFTER_EXPIRY_DAYS = env_int("CA_OCSP_AFTER_EXPIRY_DAYS", 90)
# Renew the responder certificate when less than this is left (beat, daily; and `ca init`).
CA_OCSP_RESPONDER_RENEW_DAYS = env_int("CA_OCSP_RESPONDER_RENEW_DAYS", 30)
# How long a responder process keeps an OCSP answer in memory.
CA_OCSP_CACHE_SECONDS = env_int("CA_OCSP_CACHE_SECONDS", 20)  # per-process answer cache (R19: < 1 min)
# How often (milliseconds) each OCSP responder process reads the status changes committed since
# its last look and forgets its kept answers for them: a revocation, hold or release shows on every
# process within this plus one database read (0: never; the answers then expire after CA_OCSP_CACHE_SECONDS).
CA_OCSP_CHANGES_POLL_MS = env_int("CA_OCSP_CHANGES_POLL_MS", 100)
# How long an OCSP responder waits for the signing queue's "unknown" answer (then tryLater).
CA_OCSP_UNKNOWN_WAIT_SECONDS = env_int("CA_OCSP_UNKNOWN_WAIT_SECONDS", 2)
# The signing worker's heartbeat for /readyz (SIGNING_HEARTBEAT_SECONDS, in the Resilience block).
CELERY_BEAT_SCHEDULE["signing-heartbeat"] = {"task": "ramis.ca.tasks.signing_heartbeat",
                                             "schedule": float(SIGNING_HEARTBEAT_SECONDS)}
CELERY_BEAT_SCHEDULE["ca-crl-publish"] = {"task": "ramis.ca.tasks.crl_publish_all", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["ca-ocsp-refresh"] = {"task": "ramis.ca.tasks.ocsp_refresh_due", "schedule": 900.0}
CELERY_BEAT_SCHEDULE["ca-ocsp-responder-renew"] = {"task": "ramis.ca.tasks.ocsp_responder_renew_due",
                                                   "schedule": 86400.0}

# --- Audit trail: sealer and signed checkpoints (docs/operator/audit.md) --------------------
# Seal a transaction's audit entries right after it commits, in the writer's process (a try-lock:
# a writer never waits; rows another sealer is busy with are sealed by it or by beat).
AUDIT_SEAL_ON_COMMIT = env_bool("AUDIT_SEAL_ON_COMMIT", True)
# Milliseconds the on-commit sealer waits, in a thread of the writer's process, before sealing: one
# sealing transaction for all the process's audited commits in that window instead of one each
# (issuance: ~2 ms less per certificate). 0 seals in the writer's hook itself, right after commit.
AUDIT_SEAL_DELAY_MS = env_int("AUDIT_SEAL_DELAY_MS", 100)
# Seconds between the beat runs of the sealer (catches rows no writer's hook sealed).
AUDIT_SEAL_SECONDS = env_int("AUDIT_SEAL_SECONDS", 60)
# Seconds between signed checkpoints of the chain (beat, on the signing queue; skipped when unchanged).
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 300)
# Label of the token holding the audit key (its own token; `ca init` or `audit init-key` creates it on SoftHSM).
AUDIT_TOKEN = env_str("AUDIT_TOKEN", "ramis-audit")
# PIN of the audit token: only the signing worker and `manage.py audit checkpoint` need it.
AUDIT_PIN = env_str("AUDIT_PIN", "" if PRODUCTION else "1234")
# Label of the checkpoint-signing key on the audit token (EC P-256, generated there, never extractable).
AUDIT_KEY_LABEL = env_str("AUDIT_KEY_LABEL", "audit-checkpoint")
# SHA-256 fingerprints (hex, of the public key's DER) of the audit keys `audit verify` trusts;
# empty: every audit key recorded in the database (say which in the key ceremony's minutes).
AUDIT_KEY_SHA256 = [f.lower().replace(":", "") for f in env_list("AUDIT_KEY_SHA256", [])]
CELERY_BEAT_SCHEDULE["audit-seal"] = {"task": "ramis.common.tasks.audit_seal", "schedule": float(AUDIT_SEAL_SECONDS)}
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {"task": "ramis.ca.tasks.audit_checkpoint",
                                            "schedule": float(AUDIT_CHECKPOINT_SECONDS)}
# --- PKI: the timestamp authority (ramis/ca/tsa*.py; docs/reference/tsa.md) --------------------
CA_TSA = {
    # Label of the token the timestamp authority's key lives on (its own token, not a CA's).
    "token": env_str("CA_TSA_TOKEN", "ramis-tsa"),
    # User PIN of the TSA's token: give it to the TSA signing worker (and `ca init`) only; empty: no TSA.
    "pin": env_str("CA_TSA_PIN", "" if PRODUCTION else "1234"),
    # The TSA's key type: ec-p256, rsa2048 or rsa3072.
    "key_type": env_str("CA_TSA_KEY_TYPE", "ec-p256"),
    # The TSA certificate's subject (RFC 4514).
    "name": env_str("CA_TSA_NAME", "CN=RAMIS Timestamp Authority (development),O=RAMIS,C=IR"),
    # Lifetime of the TSA's certificate (issued by the issuing CA), in days.
    "validity_days": env_int("CA_TSA_VALIDITY_DAYS", 1825),
}
# The TSA policy OID put in every timestamp; empty: CA_POLICY_ARC + ".2.1".
CA_TSA_POLICY = env_str("CA_TSA_POLICY", "") or CA_POLICY_ARC + ".2.1"
# The accuracy each timestamp states, in milliseconds (how far genTime may be from UTC).
CA_TSA_ACCURACY_MS = env_int("CA_TSA_ACCURACY_MS", 1000)
# Celery queue of the TSA signing worker, the one process that holds CA_TSA_PIN.
CA_TSA_QUEUE = env_str("CA_TSA_QUEUE", "tsa")
# How long the web tier waits for the TSA signing worker's reply (then a systemFailure rejection).
CA_TSA_WAIT_SECONDS = env_int("CA_TSA_WAIT_SECONDS", 5)
CELERY_TASK_ROUTES["ramis.ca.tasks.tsa_sign"] = {"queue": CA_TSA_QUEUE}  # exact names win over globs

# --- RAMIS requests (docs/reference/requests.md) --------------------------------------------
# Payment gateway (X4): the sandbox pages by default (they say so on every page); a real
# deployment names the bank backend.
PAYMENT_BACKEND = env_str("PAYMENT_BACKEND", "ramis.requests.payments.SandboxPaymentBackend")
# HMAC key of the sandbox gateway's results (empty: derived from SECRET_KEY).
PAYMENT_OPTIONS = {"secret": env_str("PAYMENT_SANDBOX_SECRET", "")}
# Staging only: let a production-mode deployment use the sandbox (check --deploy refuses otherwise).
PAYMENT_ALLOW_SANDBOX = env_bool("PAYMENT_ALLOW_SANDBOX", False)
# The bank backend (az-iranian-bank-gateways, the `[bank]` extra, also in `dev` so the tests run it):
# the gateway, its credentials, and BANK_BASE_URL for a gateway whose address the portal can move
# (Zibal: the stand-in bank of `manage.py devbank` in development). The package's app is installed
# whenever it is importable, so its tables exist for the tests; a deployment that names the backend
# without the package fails at start.
# The bank backend's gateway: ZIBAL, BMI, SEP, MELLAT, ZARINPAL, … (uppercased).
BANK_GATEWAY = env_str("BANK_GATEWAY", "ZIBAL").upper()
# Zibal only: another address for the gateway (the stand-in bank of `manage.py devbank`); never in production.
BANK_BASE_URL = env_str("BANK_BASE_URL", "").rstrip("/")
# Origins (https://host) the bank's payment page may redirect the payer through, besides its own.
BANK_FORM_ACTION = env_list("BANK_FORM_ACTION", [])
if PAYMENT_BACKEND.endswith("AzBankGatewaysBackend") or importlib.util.find_spec("azbankgateways"):
    INSTALLED_APPS.append("azbankgateways")
    AZ_IRANIAN_BANK_GATEWAYS = {
        "GATEWAYS": {
            BANK_GATEWAY: {
                # Merchant code at the bank (Zibal, Zarinpal, BMI, …).
                "MERCHANT_CODE": env_str("BANK_MERCHANT_CODE", ""),
                # Terminal code at the bank (the gateways that ask for one).
                "TERMINAL_CODE": env_str("BANK_TERMINAL_CODE", ""),
                # Secret key at the bank (the gateways that ask for one).
                "SECRET_KEY": env_str("BANK_SECRET_KEY", ""),
                # User name at the bank (the gateways that ask for one).
                "USERNAME": env_str("BANK_USERNAME", ""),
                # Password at the bank (the gateways that ask for one).
                "PASSWORD": env_str("BANK_PASSWORD", ""),
                "SANDBOX": 0,
                "BASE_URL": BANK_BASE_URL,
            },
        },
        "DEFAULT": BANK_GATEWAY,
        "CURRENCY": "IRR",
        # Timeout of each call to the bank, in seconds.
        "BANK_TIMEOUT": env_int("BANK_TIMEOUT_SECONDS", 10),
        "TRACKING_CODE_QUERY_PARAM": "tc",
        "TRACKING_CODE_LENGTH": 16,
        "IS_SAFE_GET_GATEWAY_PAYMENT": True,  # we render the page to the bank (its go-to-bank view is not mounted)
        # ramis.requests.bank_gateways: settings read when used, Zibal at BANK_BASE_URL
        "SETTING_VALUE_READER_CLASS": "ramis.requests.bank_gateways.SettingsReader",
        # the bank returns the payer to our view, which refuses a tracking code that is not ours
        "CALLBACK_NAMESPACE": "payments:bank_return",
    }
# Certificates are valid two years by default (one in special cases) (R21).
CERT_DEFAULT_VALIDITY_YEARS = env_int("CERT_DEFAULT_VALIDITY_YEARS", 2)
# Bookable appointment days from tomorrow on (R12).
APPOINTMENT_DAYS_AHEAD = env_int("APPOINTMENT_DAYS_AHEAD", 14)
# SMS reminders before expiry, in days (R20), and the window in which renewal replaces revocation (R21).
EXPIRY_REMINDER_DAYS = [int(d) for d in env_list("EXPIRY_REMINDER_DAYS", ["30", "7"])]
# Within this many days of expiry, renewal replaces revocation (only the urgent reasons remain).
RENEWAL_INSTEAD_OF_REVOCATION_DAYS = env_int("RENEWAL_INSTEAD_OF_REVOCATION_DAYS", 30)

# Certificate requests: how long a code e-mailed to confirm the request's address is valid (seconds).
REQUEST_EMAIL_CODE_SECONDS = env_int("REQUEST_EMAIL_CODE_SECONDS", 30 * 60)
# Certificate requests: seconds before another code may be sent for the same request.
REQUEST_EMAIL_RESEND_SECONDS = env_int("REQUEST_EMAIL_RESEND_SECONDS", 60)
# Certificate requests: codes a request may have e-mailed in a day.
REQUEST_EMAIL_DAILY_LIMIT = env_int("REQUEST_EMAIL_DAILY_LIMIT", 5)
# Certificate requests: codes one address may receive in a day, from all requests (no mailbox is flooded).
REQUEST_EMAIL_ADDRESS_DAILY_LIMIT = env_int("REQUEST_EMAIL_ADDRESS_DAILY_LIMIT", 10)
# Certificate requests: wrong entries of one code before it is void.
REQUEST_EMAIL_MAX_ATTEMPTS = env_int("REQUEST_EMAIL_MAX_ATTEMPTS", 5)

# --- Registration office desk (docs/reference/desk.md) --------------------------------------
# The applicant's token at the clerk's workstation: the backend, its PKCS#11 module (per office
# code if offices differ: "TEH01=/usr/lib/libeTPkcs11.so,ISF01=..."), the SO PIN the office sets
# on the tokens it initialises, and the key type generated on the token per certificate profile.
def _env_pairs(name: str) -> dict[str, str]:
    pairs = {}
    for item in env_list(name, []):
        key, sep, value = item.partition("=")
        if not (sep and key.strip() and value.strip()):
            raise ImproperlyConfigured(f"{name}: {item!r} is not KEY=VALUE")
        pairs[key.strip()] = value.strip()
    return pairs


# Where the applicant's token is reached: in-process, or ramis.desk.agent.AgentTokens (the workstation's token agent).
OFFICE_TOKEN_BACKEND = env_str("OFFICE_TOKEN_BACKEND", "ramis.desk.workstation.InProcessTokens")
# The workstation's token driver (PKCS#11 module) for offices not in OFFICE_PKCS11_MODULES.
OFFICE_PKCS11_MODULE = env_str("OFFICE_PKCS11_MODULE", PKCS11_MODULE)
# The token driver per office code: TEH01=/usr/lib/libeTPkcs11.so,ISF01=….
OFFICE_PKCS11_MODULES = _env_pairs("OFFICE_PKCS11_MODULES")
# The SO PIN each office sets on the tokens it initialises, per office code ("TEH01=…,ISF01=…"):
# an office's workstations and agents are given only their own office's. OFFICE_TOKEN_SO_PIN is a
# development fallback for offices not listed; production never uses it (deploy check desk.E001).
OFFICE_TOKEN_SO_PINS = _env_pairs("OFFICE_TOKEN_SO_PINS")
# Development fallback SO PIN for offices not in OFFICE_TOKEN_SO_PINS (refused in production: desk.E001).
OFFICE_TOKEN_SO_PIN = env_str("OFFICE_TOKEN_SO_PIN", "" if PRODUCTION else "12345678")
# Key generated on the applicant's token per profile: signature=rsa2048,seal=rsa2048 (ec-p256 allowed).
OFFICE_KEY_TYPES = {"signature": "rsa2048", "seal": "rsa2048"} | _env_pairs("OFFICE_KEY_TYPES")
# Shortest PIN the applicant may set on a new token.
OFFICE_TOKEN_PIN_MIN_LENGTH = env_int("OFFICE_TOKEN_PIN_MIN_LENGTH", 6)
# A clerk's issuance that has not finished after this long is taken as abandoned (crashed process).
OFFICE_ISSUANCE_TIMEOUT_SECONDS = env_int("OFFICE_ISSUANCE_TIMEOUT_SECONDS", 600)
# Rows per page of the clerk's queue.
OFFICE_QUEUE_PAGE_SIZE = env_int("OFFICE_QUEUE_PAGE_SIZE", 25)
# The CA signs an office's issuance on the `signing` queue; the clerk's page waits this long.
OFFICE_SIGNING_TIMEOUT_SECONDS = env_int("OFFICE_SIGNING_TIMEOUT_SECONDS", 60)
# Fault drills only (0, off, in production): seconds the signing worker waits after the CA signed and
# before it records the outcome, so `make prod-check` can kill it mid-issuance.
OFFICE_SIGNING_DRILL_DELAY_SECONDS = env_int("OFFICE_SIGNING_DRILL_DELAY_SECONDS", 0)
# The token agents on the offices' workstations (OFFICE_TOKEN_BACKEND=ramis.desk.agent.AgentTokens):
# each is a `Workstation` row (URL, sealed secret); the PEM bundle their TLS certificates are
# checked against; the key their secrets are sealed with (default: derived from SECRET_KEY).
# PEM bundle the agents' TLS certificates are checked against (empty: the system's CAs).
OFFICE_AGENT_CA_FILE = env_str("OFFICE_AGENT_CA_FILE", "")
# Timeout of each call to a token agent (an RSA key generation on a smart card takes seconds).
OFFICE_AGENT_TIMEOUT_SECONDS = env_int("OFFICE_AGENT_TIMEOUT_SECONDS", 60)
# Timeout of the issue page's health check of the chosen workstation's agent.
OFFICE_AGENT_PING_TIMEOUT_SECONDS = env_int("OFFICE_AGENT_PING_TIMEOUT_SECONDS", 3)
# Key material the workstations' agent secrets are sealed under (empty: derived from SECRET_KEY).
OFFICE_AGENT_SEALING_KEY = env_str("OFFICE_AGENT_SEALING_KEY", "")
CELERY_TASK_ROUTES["ramis.desk.tasks.ca_sign"] = CELERY_TASK_ROUTES["ramis.ca.tasks.*"]  # CA_SIGNING_QUEUE

# --- e-Namad (trust seal) -----------------------------------------------------------------
# In ramis/settings_enamad.py (each file under the rooms' 800 lines), every name of it read here.
from .settings_enamad import *  # noqa: E402, F403
from .settings_enamad import ENAMAD_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE.update(ENAMAD_BEAT_SCHEDULE)

# --- Security -----------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "ramis.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    # Production: redirect plain HTTP to HTTPS (except /ca/, /healthz, /readyz and /metrics).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Production: the HSTS max-age, in seconds.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^ca/", r"^healthz$", r"^readyz$", r"^metrics$"]  # OCSP/CRL are fetched over plain HTTP

# --- Jalali dates in the admin (django-jalali-date; ramis/common/admin_jalali.py) -------------
# Read-only dates on admin change forms: the full Jalali year, as every other page shows them
# (the list columns use ramis.common.jalali). A constant, not an env setting.
JALALI_DATE_DEFAULTS = {
    "LIST_DISPLAY_AUTO_CONVERT": False,  # admin_jalali's own columns (Persian digits, Tehran time)
    "Strftime": {"date": "%Y/%m/%d", "datetime": "%Y/%m/%d %H:%M"},
}

# --- Content-Security-Policy (django-csp 4; docs/operator/behind-a-proxy.md) -----------------
# Every page: scripts, styles, fonts and images only from the portal (no inline script or style in
# templates/, tested), no plugins, never framed, forms sent only to the portal (ramis/common/csp.py).
# Responses with a policy of their own keep it: the seal logo (enamad/seals/views.py), private files.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "ramis.common.csp.PortalCSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Where browsers report Content-Security-Policy violations (a URL; empty: not reported).
CSP_REPORT_URI = env_str("CSP_REPORT_URI", "")
if CSP_REPORT_URI:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [CSP_REPORT_URI]

# --- Behind the reverse proxy (docs/operator/behind-a-proxy.md) ----------------------------
# How many reverse proxies of ours stand in front of the web processes (1 with the nginx of
# deploy/): the client is that many entries from the right of X-Forwarded-For, and anything a
# client wrote further left is ignored. 0: no proxy, REMOTE_ADDR is the client (the header is ignored).
# Only through these proxies is the request's X-Request-ID taken (the id of its log lines and audit
# entries); otherwise the portal makes one.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT}: 0 or more")

# --- Certificate login (certauth/certificates.py, docs/operator/certificate-login.md) -----------
# The peers whose X-SSL-Client-Cert header is believed (the reverse proxy that did the TLS
# handshake; addresses or networks). Only when TRUSTED_PROXY_COUNT > 0: without a proxy the header
# is never read.
CERTAUTH_TRUSTED_PROXIES = env_list("CERTAUTH_TRUSTED_PROXIES", ["127.0.0.1", "::1"])
# Where the «ورود با گواهی الکترونیکی» button goes: the proxy's certificate-login port (e.g.
# https://ra.example.ir:8443/auth/certificate/). Empty: this site's own /auth/certificate/.
CERTAUTH_LOGIN_URL = env_str("CERTAUTH_LOGIN_URL", "")
# On: staff who issue or review (office clerks, SEO reviewers) cannot log in with a password alone.
CERTAUTH_REQUIRED_FOR_STAFF = env_bool("CERTAUTH_REQUIRED_FOR_STAFF", False)
# Certificate-login attempts per client address within LOGIN_THROTTLE_WINDOW_SECONDS.
CERTAUTH_THROTTLE_LIMIT = env_int("CERTAUTH_THROTTLE_LIMIT", 20)

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every record carries the request id (ramis/common/observability.py); LOG_FORMAT picks the formatter.
    "filters": {"request_id": {"()": "ramis.common.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    # Level of the root logger (DEBUG, INFO, WARNING, ERROR).
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
# Celery workers log through LOGGING above (so JSON lines in production) instead of their own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
