"""Fixed personas and shared fixtures (STYLE 16)."""

from __future__ import annotations

import atexit
import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ramis.celery import app as celery_app

# SoftHSM reads its configuration once per process: point every test at a fresh token
# directory before anything loads the module, and remove it at exit.
_HSM_DIR = Path(tempfile.mkdtemp(prefix="ramis-softhsm-"))
atexit.register(shutil.rmtree, _HSM_DIR, True)
settings.SOFTHSM_DIR = _HSM_DIR

STAFF_PASSWORD = "Correct-Horse-Battery-9"

# tests/prod/ runs against the started topology: `make prod-check` (scripts/prod_check.py) runs it.
collect_ignore = ["prod"]


_MEDIA_DIR = Path(tempfile.mkdtemp(prefix="ramis-media-"))
atexit.register(shutil.rmtree, _MEDIA_DIR, True)


@pytest.fixture(autouse=True)
def _private_media_in_a_temp_dir(settings):
    """Uploads made by tests go to a temporary directory, never the developer's var/media."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(_MEDIA_DIR), "base_url": None}}}
    settings.PRIVATE_MEDIA_ROOT = _MEDIA_DIR


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests make many users: a fast hasher keeps the suite quick. Production keeps Django's
    PBKDF2 (ramis/settings.py sets no PASSWORD_HASHERS); the e2e and prod tests, which run the
    portal in its own processes, still hash with it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_sealed_in_the_writers_hook(settings):
    """Audit entries sealed right after their commit, in the writer's own hook (no sealer thread
    holding a connection to the test database); tests/common/test_audit_delayed_seal.py turns the
    delayed sealer on for itself."""
    settings.AUDIT_SEAL_DELAY_MS = 0


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_cache(settings):
    """Tasks run in-process in tests (the Redis worker test turns this off for itself)."""
    celery_app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from enamad.seals.selectors import forget_memo  # the seal logo's per-process copy of what it read

    cache.clear()
    forget_memo()
    yield
    cache.clear()
    forget_memo()


@pytest.fixture
def seo_department(db):
    from ramis.registry.models import SEODepartment

    return SEODepartment.objects.create(name="مدیریت نظارت بر ناشران")


@pytest.fixture
def company(seo_department):
    from ramis.registry.models import Company

    return Company.objects.create(name="شرکت نمونه پارس", national_id="10380284790", seo_department=seo_department)


def make_person(national_code: str, mobile: str, **extra):
    from ramis.registry.models import Person

    data = {
        "first_name": "علی", "last_name": "رضایی", "father_name": "حسن", "birth_date": dt.date(1986, 7, 3),
        "birth_certificate_number": "12345",
    }
    data.update(extra)
    return Person.objects.create(national_code=national_code, mobile=mobile, **data)


def make_role(person, company, status="approved", **extra):
    from ramis.registry.models import Role

    return Role.objects.create(person=person, company=company, position=Role.Position.CEO, status=status, **extra)


@pytest.fixture
def applicant_person(company):
    person = make_person("0499370899", "09121234567")
    make_role(person, company, has_signing_authority=True)
    return person


@pytest.fixture
def other_applicant_person(company):
    person = make_person("0013542419", "09351112233", first_name="مریم", last_name="احمدی")
    make_role(person, company)
    return person


def make_staff(username: str, *, perms=(), superuser=False, totp=True):
    from certauth.models import User

    user = User.objects.create_user(username=username, password=STAFF_PASSWORD, is_staff=True,
                                    is_superuser=superuser)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if totp:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def totp_now(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def seo_reviewer(db):
    return make_staff("seo", perms=["registry.review_role"])


@pytest.fixture
def office(db):
    from ramis.offices.models import RegistrationOffice

    return RegistrationOffice.objects.create(code="TEH01", name="دفتر تهران", city="تهران", address="تهران",
                                             phone="02188776655", offers_on_site=True)


@pytest.fixture
def other_office(db):
    from ramis.offices.models import RegistrationOffice

    return RegistrationOffice.objects.create(code="ISF01", name="دفتر اصفهان", city="اصفهان", address="اصفهان",
                                             phone="03132221100")


@pytest.fixture
def clerk(office):
    from ramis.offices.models import Clerk

    user = make_staff("clerk")
    Clerk.objects.create(user=user, office=office)
    return user


@pytest.fixture
def other_office_clerk(other_office):
    from ramis.offices.models import Clerk

    user = make_staff("clerk2")
    Clerk.objects.create(user=user, office=other_office)
    return user


def captcha_answer(html: str) -> dict[str, str]:
    """Read the captcha's key from a rendered form and look its answer up, as a person reads it."""
    from captcha.models import CaptchaStore

    hashkey = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    return {"captcha_0": hashkey, "captcha_1": CaptchaStore.objects.get(hashkey=hashkey).response}


def last_sms(to: str | None = None):
    from ramis.common.models import OutboxMessage

    qs = OutboxMessage.objects.filter(channel="sms")
    if to:
        qs = qs.filter(to=to)
    return qs.order_by("-id").first()


def sms_code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def login_applicant(client, person):
    """Log an applicant in as the SMS-code login leaves them: authenticated, and the session's
    OTP device verified (django-otp's ``otp_device_id``)."""
    from certauth.models import SMSDevice, User

    if person.user is None:
        person.user = User.objects.create(username=f"nc-{person.national_code}", first_name=person.first_name,
                                          last_name=person.last_name)
        person.save(update_fields=["user"])
    device, _ = SMSDevice.objects.get_or_create(user=person.user,
                                                defaults={"name": "sms", "mobile": person.mobile, "confirmed": True})
    client.force_login(person.user, backend="certauth.backends.ApplicantOTPBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def login_staff(client, user):
    """A staff user logged in with a verified TOTP device."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


@pytest.fixture
def applicant_client(client, applicant_person):
    return login_applicant(client, applicant_person)


@pytest.fixture
def other_applicant_client(other_applicant_person):
    from django.test import Client

    return login_applicant(Client(), other_applicant_person)


# --- the CA, for tests of other rooms that need real issued certificates ---------------------------

TEST_SUBJECTS = {
    "signature": {"common_name": "علی رضایی", "given_name": "علی", "surname": "رضایی",
                  "national_code": "0499370899", "organization": "شرکت نمونه پارس", "title": "مدیرعامل"},
    "seal": {"common_name": "شرکت نمونه پارس", "organization": "شرکت نمونه پارس",
             "legal_national_id": "10380284790"},
}


def ca_ready():
    """Create the root and issuing CA once per test database (the keys stay on the session's
    SoftHSM tokens, so later calls only rebuild the rows)."""
    from ramis.ca import services as ca_services
    from ramis.ca.models import CertificateAuthority

    if not CertificateAuthority.objects.filter(slug="issuing").exists():
        ca_services.ca_init(actor=None)


MESSAGES_T0 = dt.datetime(2026, 3, 21, 6, 30, tzinfo=dt.UTC)  # 1405/01/01 10:00 in Tehran


def sent_message(to: str, *, minutes: int = 0, body: str = "پیام آزمایشی", **fields):
    """An outbox row (as ``notify`` leaves one), dated ``minutes`` after MESSAGES_T0."""
    from ramis.common.models import OutboxMessage

    message = OutboxMessage.objects.create(to=to, **{"channel": "sms", "body": body, "status": "sent", **fields})
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=MESSAGES_T0 + dt.timedelta(minutes=minutes))
    return message


def issue_test_certificate(profile: str = "signature", subject: dict | None = None):
    """A certificate really issued by the test CA from a CSR (the key is in memory here; at the
    office it is generated on the applicant's token)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from ramis.ca import services as ca_services

    ca_ready()
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "applicant")]))
           .sign(key, hashes.SHA256()))
    return ca_services.certificate_issue(profile=profile, csr_pem=csr.public_bytes(serialization.Encoding.PEM),
                                         subject=subject or TEST_SUBJECTS[profile], actor=None)

@pytest.fixture
def enamad_expert(db):
    """e-Namad expert: reviews sites against the checklist and the posted documents; answers
    tickets, approves change requests and handles complaints."""
    return make_staff("enamad_expert", perms=["enamad.review_business", "enamad.review_documents",
                                              "enamad.answer_ticket", "enamad.approve_change",
                                              "enamad.handle_complaint"])


@pytest.fixture
def enamad_manager(db):
    """e-Namad manager: final approval, suspension and revocation of seals."""
    return make_staff("enamad_manager", perms=["enamad.approve_business"])


def pdf_text(content: bytes) -> str:
    """A PDF as pdftotext reads it (poppler, from stdin), without the bidi marks it adds and the
    zero-width non-joiners it drops: what a person copying the text out of the PDF gets."""
    import subprocess

    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True,
                          check=True).stdout.decode()
    return "".join(ch for ch in text if ch not in "\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e")


# --- Outage drills: a Redis of the test's own behind the default cache (tests/servers.py) ---------


def production_caches(cache_url: str) -> dict:
    """``CACHES`` exactly as ramis/settings.py builds it for a deployment with ``CACHE_URL``."""
    import importlib.util
    import os
    from unittest import mock

    spec = importlib.util.spec_from_file_location("ramis._settings_probe", Path(settings.BASE_DIR) / "ramis" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ, {"CACHE_URL": cache_url}):
        spec.loader.exec_module(module)
    return module.CACHES


@pytest.fixture
def redis_cache(tmp_path, settings):
    """The default cache on a redis-server of this test's own, configured as in production; the
    test stops and starts it (``.stop()``, ``.start()``)."""
    from tests.servers import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    old = settings.CACHES
    settings.CACHES = production_caches(server.url)
    yield server
    server.stop()
    settings.CACHES = old

