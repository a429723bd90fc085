"""Pages of the commitment letter (N14, issue 14): the letter as issued, its upload signed with a
RAMIS certificate, and the signed file for the documents officer. They parse input and call
``enamad.signed_letter``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from ramis.ca import signing
from ramis.common.context import audit_context
from ramis.common.uploads import serve_private, validate_upload

from . import signed_letter
from .businesses import selectors as business_selectors
from .businesses.models import SignedLetter
from .decorators import account_required, enamad_staff_required
from .models import BusinessStatus

LETTER_STATES = {BusinessStatus.PHYSICAL_DOCUMENTS, BusinessStatus.DOCUMENTS_REJECTED, BusinessStatus.MANAGER_REVIEW,
                 BusinessStatus.APPROVED}


class SignedLetterForm(forms.Form):
    file = forms.FileField(label="تعهدنامه امضاشده (PDF)",
                           help_text="همان فایلی که از این صفحه دریافت کردید، با امضای PAdES و مهر زمانی رمیس.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload(upload, kinds=("pdf",))
        return upload


@account_required
def commitment_pdf(request, pk):
    """N14: the letter issued for this business, the same bytes every time (its fingerprint is
    what a signed upload is checked against)."""
    business = business_selectors.get_business_for_account(request.account, pk)
    if business.status not in LETTER_STATES:
        raise Http404
    letter = signed_letter.issue_letter(business)
    with letter.file.open("rb") as fh:
        response = HttpResponse(fh.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="enamad-commitment-{business.reference}.pdf"'
    return response


@account_required
def sign_letter(request, pk):
    """How to sign, and the upload: a valid letter ends the postal step; a refusal says why."""
    business = business_selectors.get_business_for_account(request.account, pk)
    if business.status not in LETTER_STATES:
        raise Http404
    form = SignedLetterForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if business.status != BusinessStatus.PHYSICAL_DOCUMENTS:
            form.add_error(None, signed_letter.REASONS["wrong_state"])
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            upload.seek(0)
            try:
                signed_letter.signed_letter_upload(business_id=business.pk, actor=request.user, data=upload.read(),
                                                   ctx=audit_context(request))
            except signed_letter.LetterRefused as exc:
                form.add_error("file", ValidationError(exc.message, code=exc.code))
            else:
                messages.success(request, "تعهدنامه امضاشده پذیرفته شد؛ نیازی به ارسال پستی آن نیست. "
                                          "کارشناس مدارک پرونده را بررسی می‌کند.")
                return redirect("enamad:business", pk)
        status = 400
    base = signing.public_url().rstrip("/")  # where the certificates send relying parties (plain HTTP /ca/)
    response = render(request, "enamad/sign_letter.html", {
        "business": business, "form": form, "signed": business.signed_letters.first(),
        "tsa_url": base + reverse("ca:tsa"),
        "root_url": signing.urls("root").ca_issuers, "issuing_url": signing.urls("issuing").ca_issuers,
        "agent_port": settings.ENAMAD_LETTER_AGENT_PORT,
        "can_upload": business.status == BusinessStatus.PHYSICAL_DOCUMENTS,
    }, status=status)
    # django-csp's per-response update (what its csp_update decorator sets): the page may reach
    # the agent's one loopback origin, nothing else
    response._csp_update = {"connect-src": [f"http://127.0.0.1:{settings.ENAMAD_LETTER_AGENT_PORT}"]}
    return response


@enamad_staff_required(role="files")
def staff_signed_letter(request, pk):
    """The signed file itself, for the documents officer (its report is on the file's page)."""
    return serve_private(get_object_or_404(SignedLetter, pk=pk).file, inline=False)
