"""django-ca's side of bench/pki.py's issuance comparison; runs inside the throwaway virtualenv.

    <venv>/bin/python bench/djangoca_child.py CONFIG_JSON

Started by bench/djangoca.py (never by hand), with SOFTHSM2_CONF pointing at a token of its own.
CONFIG_JSON: {"databases": Django's DATABASES, "module": the PKCS#11 library, "token": its label,
"pin": the user PIN}. It configures a minimal Django project with django-ca, migrates the database,
initialises an RSA-2048 CA with django-ca's HSM key backend (the key generated on the token), issues
one certificate to warm up, prints one JSON line ``{"ready": …}`` and then, for every line ``N``
read on stdin, makes N EC P-256 CSRs (untimed) and times N calls of
``Certificate.objects.create_cert(ca, key_backend_options, csr, profile=profiles["client"],
subject=…)`` — each with its PEM CSR parsed first, as our service parses its — printing one JSON
line ``{"n": N, "rate": certificates per second, "cpu_ms": CPU ms per certificate}``. An empty line
or end of input ends it. With ``"ocsp": true`` in CONFIG_JSON (bench/pki.py's OCSP part) it
first gives the CA its OCSP responder key (django-ca's ``db`` OCSP key backend), then pre-signs an
OCSP answer for every certificate, and each line ``N`` makes N certificates (one in ten revoked)
and prints them (ocsp_certificates); bench/djangoca_wsgi.py then serves them. With ``"scale": S``
in CONFIG_JSON (bench/pki_scaling.py, several such children at once) it migrates nothing and
creates no CA: it takes the CA another child made in the same database (its key on a copy of that
child's token: bench/djangoca.py's token_copy), makes its CSRs
and issues one certificate (untimed), prints ``{"ready": …}``, waits for a line ("go"), issues for
S seconds and prints ``{"n": certificates, "seconds": wall, "cpu": CPU seconds}``. It imports nothing
from the project: it runs in django-ca's environment.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

PRESIGNED_SECONDS = 86400  # how long django-ca's pre-signed OCSP answers are valid (CA_OCSP_RESPONSE_CACHE_EXPIRES)
CA_NAME = "bench"
CSRS_PER_SECOND = 400  # as bench/pki_scaling.py's processes of ours: more than one process ever issued per second


def setup(config: dict) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only-not-secret",  # noqa: S106 - a throwaway process, never served
        USE_TZ=True,
        ALLOWED_HOSTS=["127.0.0.1"],
        DATABASES=config["databases"],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.admin",
                        "django.contrib.messages", "django.contrib.sessions", "django_object_actions",
                        "django_ca"],
        ROOT_URLCONF=config.get("urlconf", "__main__"),  # this script: urlpatterns below, set once Django is set up
        # Django's startproject middleware (what a django-ca project's settings start from), for its OCSP view
        MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                    "django.contrib.sessions.middleware.SessionMiddleware",
                    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.contrib.messages.middleware.MessageMiddleware",
                    "django.middleware.clickjacking.XFrameOptionsMiddleware"],
        # pre-signed OCSP answers (served from the cache, then the database): for its OCSP view under gunicorn
        # (bench/djangoca_wsgi.py) only; the child's OCSP mode turns it on once its CA exists (below)
        **({"CA_OCSP_RESPONSE_CACHE_EXPIRES": PRESIGNED_SECONDS} if config.get("presigned") else {}),
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        LOGGING_CONFIG=None,
        CA_DEFAULT_HOSTNAME="ca.example.com",  # so the CA and certificates carry CRL and OCSP URLs, as ours do
        CA_USE_CELERY=False,
        # its OCSP responder keys in the database (the default backend wants a file storage configured)
        CA_OCSP_KEY_BACKENDS={"default": {"BACKEND": "django_ca.key_backends.db.ocsp_backend.DBOCSPBackend",
                                          "OPTIONS": {}}},
        CA_KEY_BACKENDS={"default": {
            "BACKEND": "django_ca.key_backends.hsm.HSMBackend",
            "OPTIONS": {"library_path": config["module"], "token": config["token"], "user_pin": config["pin"]},
        }},
    )
    django.setup()


def make_csrs(n: int) -> list[bytes]:
    """n PEM CSRs, each with an EC P-256 key of its own."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    return [x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
            .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM) for _ in range(n)]


def issuer(ca, use):
    """``issue(pem)``: PEM parse + ``create_cert`` with the ``client`` profile, as every round times it."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from django_ca.models import Certificate
    from django_ca.profiles import profiles

    profile = profiles["client"]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "شرکت نمونه"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "شرکت نمونه")])

    def issue(pem: bytes):
        return Certificate.objects.create_cert(ca, use, x509.load_pem_x509_csr(pem), profile=profile, subject=subject)

    return issue


def scale(seconds: float) -> None:
    """Scale mode: one of several processes at once on the CA another child set up (see the docstring)."""
    import django_ca
    from django_ca.key_backends import key_backends
    from django_ca.key_backends.hsm.models import HSMUsePrivateKeyOptions
    from django_ca.models import CertificateAuthority

    ca = CertificateAuthority.objects.get(name=CA_NAME)
    use = HSMUsePrivateKeyOptions.model_validate({}, context={"backend": key_backends["default"]})
    issue = issuer(ca, use)
    batch = make_csrs(int(seconds * CSRS_PER_SECOND))
    issue(batch.pop())  # warm up: its token session, the profile, the database connection
    print(json.dumps({"ready": {"django_ca": django_ca.__version__}}), flush=True)
    if not sys.stdin.readline().strip():
        return
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds and batch:
        issue(batch.pop())
        n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"n": n, "seconds": wall, "cpu": cpu}), flush=True)


def main() -> None:
    config = json.loads(sys.argv[1])
    setup(config)
    from django.urls import include, path

    globals()["urlpatterns"] = [path("django_ca/", include("django_ca.urls"))]  # its CRL and OCSP URLs
    if config.get("scale"):
        scale(float(config["scale"]))
        return
    import django
    import django_ca
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from django.core.management import call_command
    from django_ca.key_backends import key_backends
    from django_ca.key_backends.hsm.models import HSMCreatePrivateKeyOptions, HSMUsePrivateKeyOptions
    from django_ca.models import CertificateAuthority

    call_command("migrate", verbosity=0)
    backend = key_backends["default"]
    context = {"backend": backend}
    ca = CertificateAuthority.objects.init(
        name=CA_NAME,
        key_backend=backend,
        key_backend_options=HSMCreatePrivateKeyOptions.model_validate(
            {"key_label": "bench-ca", "key_type": "RSA", "key_size": 2048, "elliptic_curve": None},
            context=context),
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "django-ca bench")]),
        not_after=datetime.now(tz=UTC) + timedelta(days=3650),
        key_type="RSA",
        path_length=0,
    )
    use = HSMUsePrivateKeyOptions.model_validate({}, context=context)
    if config.get("ocsp"):  # its responder key and certificate first: each create_cert then pre-signs an answer
        # django-ca reads its settings again on the signal override_settings sends
        from django.test import override_settings

        ca.generate_ocsp_key(use)  # before pre-signing: neither a root CA nor its own responder gets an answer
        ca.refresh_from_db()
        override_settings(CA_OCSP_RESPONSE_CACHE_EXPIRES=PRESIGNED_SECONDS).enable()
    issue, csrs = issuer(ca, use), make_csrs
    warm = issue(csrs(1)[0])
    print(json.dumps({"ready": {"django_ca": django_ca.__version__, "django": django.get_version(),
                                "ca_key": f"{ca.key_type} {ca.pub.loaded.public_key().key_size}",
                                "certificate_key": type(warm.pub.loaded.public_key()).__name__}}), flush=True)
    if config.get("ocsp"):
        ocsp_certificates(ca, issue, csrs)
    for raw in sys.stdin:
        if not raw.strip():
            break
        batch = csrs(int(raw))
        t0, c0 = time.perf_counter(), time.process_time()
        for pem in batch:
            issue(pem)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(json.dumps({"n": len(batch), "rate": len(batch) / wall, "cpu_ms": cpu / len(batch) * 1000}), flush=True)


def ocsp_certificates(ca, issue, csrs) -> None:
    """For bench/pki.py's OCSP part (the CA's OCSP responder key made at start, django-ca's ``db``
    OCSP key backend): per line ``N`` on stdin, N certificates each with its pre-signed OCSP answer
    (one in ten revoked, its answer signed again), printed as one JSON line
    ``{"ca_serial": …, "ca": base64 DER, "certificates": [base64 DER, …], "revoked": [serial, …]}``."""
    import base64

    for raw in sys.stdin:
        if not raw.strip():
            break
        made = [issue(pem) for pem in csrs(int(raw))]
        revoked = []
        for i, cert in enumerate(made):
            if i % 10 == 0:
                cert.revoke()
                revoked.append(cert.pub.loaded.serial_number)
            cert.generate_ocsp_response()
        print(json.dumps({"ca_serial": ca.serial, "revoked": revoked,
                          "certificates": [base64.b64encode(c.pub.der).decode() for c in made],
                          "ca": base64.b64encode(ca.pub.der).decode()}), flush=True)


if __name__ == "__main__":
    main()
