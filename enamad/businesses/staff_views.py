"""The staff desk's file lists and files (N12, N14): the queues, an applicant's identity
document, a licence image and a signed commitment letter. The file's own page, which also shows
and acts on its seal, its tickets and complaints, is the portal's (``enamad.portal.staff_views``)."""

from __future__ import annotations

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from enamad.accounts.decorators import enamad_staff_required
from enamad.accounts.models import IdentityDocument
from ramis.common.paging import page_of
from ramis.common.uploads import serve_private

from . import selectors as business_selectors
from .models import SignedLetter

QUEUE_LABELS = [("review", "بررسی کارشناس"), ("documents", "مدارک فیزیکی"), ("manager", "بررسی مدیر"),
                ("sealed", "نمادها")]


@enamad_staff_required(role="files")
def queue(request):
    name = request.GET.get("q") or business_selectors.default_queue(request.user)
    if name not in business_selectors.STAFF_QUEUES:
        name = business_selectors.default_queue(request.user)
    page, pager_query = page_of(request, business_selectors.staff_queue(name), settings.ENAMAD_STAFF_PAGE_SIZE)
    counts = business_selectors.staff_queue_counts()
    return render(request, "enamad/staff/queue.html", {
        "businesses": page.object_list, "page": page, "pager_query": pager_query, "queue": name,
        "queues": [(k, label, counts[k]) for k, label in QUEUE_LABELS]})


@enamad_staff_required(role="files")
def document(request, pk):
    return serve_private(get_object_or_404(IdentityDocument, pk=pk).file)


@enamad_staff_required(role="files")
def licence(request, pk):
    obj = business_selectors.get_business_for_staff(pk)
    service = getattr(obj, "service", None)
    if service is not None and request.GET.get("requested"):  # the image a renewal waits to put on file
        name = obj.pending_changes.get("service", {}).get("licence_file")
        if not name:
            raise Http404
        return serve_private(FieldFile(service, service.licence_file.field, name))
    if not (service and service.licence_file):
        raise Http404
    return serve_private(service.licence_file)


@enamad_staff_required(role="files")
def staff_signed_letter(request, pk):
    """The signed file itself, for the documents officer (its report is on the file's page)."""
    return serve_private(get_object_or_404(SignedLetter, pk=pk).file, inline=False)
