"""Certificate login, the person half: ``/auth/certificate/?for=ramis|enamad|staff``.

The reverse proxy's certificate-login port asks the browser for a certificate (the holder picks it
and enters the token's PIN there) and passes it on; :mod:`certauth.certificates` checks it. Then
the national code of its ``PNOIR-`` serialNumber names the account, by the login page the button
was on: an applicant with an approved role (RAMIS), the e-Namad account with that national code, or
an active staff user with that ``national_code``. Success and every refusal are audited; the
attempts are throttled per address like the other logins; a refusal is a Persian message on the
login page the holder came from (never a 500).

A GET logs in: the certificate is the credential and only its holder can present it, so a
cross-site request can at most log the holder in as themselves.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db import DatabaseError, transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from django_otp import login as otp_login

from ramis.ca.models import CertificateAuthority, IssuedCertificate
from ramis.common import audit, throttle
from ramis.common.client_ip import client_ip
from ramis.common.context import audit_context
from ramis.registry.models import Person, Role

from . import certificates
from .models import CertificateDevice, User
from .selectors import staff_landing
from .services import applicant_user_for_person

log = logging.getLogger(__name__)

TARGETS = {"ramis": "certauth:login", "enamad": "enamad:login", "staff": "certauth:staff_login"}
THROTTLED = "تعداد تلاش‌ها برای ورود با گواهی بیش از حد مجاز است؛ چند دقیقه بعد دوباره تلاش کنید."


def _audit_refusal(request, exc: certificates.Refused, target: str, pem_cert=None) -> None:
    serial = format(pem_cert.serial_number, "x") if pem_cert is not None else ""
    row = IssuedCertificate.objects.filter(serial_hex=serial).first() if serial else None
    row = row or CertificateAuthority.objects.filter(parent__isnull=False).order_by("id").first()
    if row is None:  # no CA yet: nothing of ours the attempt can be recorded against
        log.warning("certificate login refused (%s) before the CA exists", exc.code)
        return
    audit.record(actor=None, target=row, event="certauth.certificate_refused", reason=exc.code,
                 extra={"for": target, "serial": serial, "detail": exc.detail[:300]}, ctx=audit_context(request))


def _account(target: str, national_code: str):
    """The user the national code names for ``target``, with where they land; or None."""
    if target == "ramis":
        person = (Person.objects.filter(national_code=national_code, roles__status=Role.Status.APPROVED)
                  .select_related("user").first())
        if person is None or (person.user is not None and not person.user.is_active):
            return None
        return applicant_user_for_person(person=person), "certauth.backends.ApplicantOTPBackend"
    if target == "enamad":
        user = (User.objects.filter(enamad_account__national_code=national_code, is_active=True)
                .order_by("id").first())
        return (user, "django.contrib.auth.backends.ModelBackend") if user else None
    user = User.objects.filter(national_code=national_code, is_staff=True, is_active=True).order_by("id").first()
    return (user, "django.contrib.auth.backends.ModelBackend") if user else None


def _landing(request, target: str, user) -> str:
    next_url = request.GET.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        return next_url
    if target == "ramis":
        return reverse(settings.LOGIN_REDIRECT_URL)
    if target == "enamad":
        return reverse("enamad:panel")
    return staff_landing(user)


def _refuse(request, target: str, message: str):
    messages.error(request, message)
    return redirect(TARGETS[target])


@require_GET
def certificate_login(request):
    target = request.GET.get("for", "ramis")
    if target not in TARGETS:
        target = "ramis"
    ip = client_ip(request) or "unknown"
    try:
        if not throttle.hit(f"cert-login-ip:{ip}", limit=settings.CERTAUTH_THROTTLE_LIMIT,
                            window=settings.LOGIN_THROTTLE_WINDOW_SECONDS):
            return _refuse(request, target, THROTTLED)
    except throttle.Unavailable as exc:
        return _refuse(request, target, exc.message)
    cert = None
    try:
        pem = certificates.presented_pem(request)
        if pem:
            try:
                from cryptography import x509

                cert = x509.load_pem_x509_certificate(pem.encode())
            except ValueError:
                cert = None
        checked = certificates.check(pem)
        found = _account(target, checked.national_code)
        if found is None:
            raise certificates.Refused("unknown_person", checked.national_code)
    except certificates.Refused as exc:
        try:
            with transaction.atomic():
                _audit_refusal(request, exc, target, cert)
        except DatabaseError:
            log.warning("could not audit a refused certificate login", exc_info=True)
        return _refuse(request, target, exc.message)
    user, backend = found
    with transaction.atomic():
        device, _ = CertificateDevice.objects.get_or_create(user=user, name="certificate",
                                                            defaults={"confirmed": True})
        login(request, user, backend=backend)
        otp_login(request, device)
        audit.record(actor=user, target=user, event="certauth.certificate_login",
                     extra={"for": target, "serial": checked.serial_hex, "sha256": checked.sha256},
                     ctx=audit_context(request))
    return redirect(_landing(request, target, user))
