"""The certificate page (X5, X9): what the holder, the issuing office's clerks and reviewers see
of one certificate, and what they take away (DER, PEM, the PKCS#7 chain, the certificate-details
and request-summary PDFs). Anyone else gets 404 (``selectors.get_certificate_for_user``)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import render

from ramis.ca.models import IssuedCertificate
from ramis.common.pdf import render_pdf
from ramis.offices.selectors import is_clerk_of

from . import certificate_files, selectors, services
from .models import Appointment, Certificate, CertificateRequest, Invoice, RevocationRequest

Closed = (CertificateRequest.Status.ISSUED, CertificateRequest.Status.REJECTED, CertificateRequest.Status.CANCELLED)

# (content type, file suffix) of each download.
DOWNLOADS = {
    "cer": ("application/pkix-cert", "cer"),
    "pem": ("application/x-pem-file", "pem"),
    "p7b": ("application/x-pkcs7-certificates", "p7b"),
}


def _issued(certificate: Certificate) -> IssuedCertificate:
    issued = IssuedCertificate.objects.select_related("ca", "ca__parent").filter(serial_hex=certificate.serial).first()
    if issued is None:
        raise Http404  # a record imported without the CA's copy: nothing to show or hand out
    return issued


def _status_why(certificate: Certificate) -> str:
    if certificate.status_why or certificate.superseded_why:
        return certificate.status_why or certificate.superseded_why
    if certificate.status == Certificate.Status.EXPIRED:
        return "دوره اعتبار گواهی به پایان رسیده است."
    return ""


def _context(request, certificate: Certificate) -> dict:
    issued = _issued(certificate)
    cert = certificate_files.load(issued)
    is_holder = certificate.holder.user_id == request.user.pk
    context = {
        "certificate": certificate, "issued": issued, "subject_rows": certificate_files.subject_rows(cert),
        "sha256": certificate_files.fingerprint(cert, hashes.SHA256()),
        "sha1": certificate_files.fingerprint(cert, hashes.SHA1()),  # noqa: S303 (a fingerprint, not a signature)
        "issuer": cert.issuer.rfc4514_string(), "status_why": _status_why(certificate),
        "token_model": certificate.request.token_model if certificate.request else None,
        "is_holder": is_holder, "is_clerk": is_clerk_of(request.user, certificate.office_id),
        "open_revocations": list(certificate.revocations.filter(status=RevocationRequest.Status.SUBMITTED)),
    }
    if is_holder and certificate.status == Certificate.Status.ACTIVE:
        context["open_renewal"] = certificate.renewals.exclude(status__in=Closed).first()
        context["renewal_window"] = certificate.days_left() < settings.RENEWAL_INSTEAD_OF_REVOCATION_DAYS
    return context


def _login_first(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    return None


def certificate_page(request, pk: int):
    if (response := _login_first(request)) is not None:
        return response
    certificate = selectors.get_certificate_for_user(request.user, pk)
    context = _context(request, certificate)
    context["revocable"] = certificate.revocable
    context["allowed_reasons"] = services.revocation_allowed_reasons(certificate) if certificate.revocable else []
    return render(request, "requests/certificate.html", context)


def certificate_download(request, pk: int, fmt: str):
    """The certificate as DER (.cer) or PEM, or its chain as PKCS#7 (.p7b)."""
    if (response := _login_first(request)) is not None:
        return response
    certificate = selectors.get_certificate_for_user(request.user, pk)
    if fmt not in DOWNLOADS:
        raise Http404
    issued = _issued(certificate)
    content_type, suffix = DOWNLOADS[fmt]
    body = {"cer": certificate_files.as_der, "pem": certificate_files.as_pem, "p7b": certificate_files.as_p7b}[fmt]
    response = HttpResponse(body(issued), content_type=content_type)
    name = f"certificate-{certificate.serial}" if fmt != "p7b" else f"chain-{certificate.serial}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{suffix}"'
    return response


def certificate_details_pdf(request, pk: int):
    """The certificate-details PDF (X5): what the page shows, printable."""
    if (response := _login_first(request)) is not None:
        return response
    certificate = selectors.get_certificate_for_user(request.user, pk)
    pdf = render_pdf("pdf/certificate_details.html", _context(request, certificate))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{certificate.serial}.pdf"'
    return response


def request_summary_pdf(request, pk: int):
    """The request-summary PDF (X5) of the request the certificate was issued on."""
    if (response := _login_first(request)) is not None:
        return response
    certificate = selectors.get_certificate_for_user(request.user, pk)
    req = certificate.request
    if req is None:
        raise Http404
    invoice = Invoice.objects.filter(request=req).prefetch_related("lines").first()
    timeline = [(entry, selectors.EVENT_LABELS.get(entry.event, "")) for entry in selectors.request_timeline(req)]
    pdf = render_pdf("pdf/request_summary.html", {
        "req": req, "certificate": certificate, "invoice": invoice,
        "timeline": [(entry, label) for entry, label in timeline if label],
        "appointment": Appointment.objects.filter(request=req).order_by("-is_active", "-starts_at").first(),
        "documents": req.documents.select_related("requirement"),
    })
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="request-{req.reference}.pdf"'
    return response
