"""The staff desk's complaints (N23): the queues, a complaint with its file's counts, and the
decision."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from enamad.accounts.decorators import enamad_staff_required
from enamad.businesses.models import BusinessStatus
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.common.paging import page_of
from ramis.common.uploads import serve_private

from . import selectors as complaint_selectors
from . import services as complaint_services
from .forms import ComplaintDecisionForm
from .models import OPEN_COMPLAINT_STATES, Complaint, ComplaintAttachment


def _staff_complaint(pk: int) -> Complaint:
    return get_object_or_404(Complaint.objects.select_related("business__account", "decided_by"), pk=pk)


@enamad_staff_required(role="complaints")
def complaints(request):
    name = request.GET.get("q", "overdue")
    if name not in complaint_selectors.STAFF_COMPLAINT_QUEUES:
        name = "overdue"
    business_id = request.GET.get("business")
    business_id = int(business_id) if business_id and business_id.isdigit() else None
    page, pager_query = page_of(request, complaint_selectors.staff_complaints(name, business_id),
                                settings.ENAMAD_STAFF_PAGE_SIZE)
    return render(request, "enamad/staff/complaints.html", {
        "complaints": page.object_list, "page": page, "pager_query": pager_query, "queue": name,
        "business_id": business_id,
        "queues": [(key, label) for key, (label, _) in complaint_selectors.STAFF_COMPLAINT_QUEUES.items()],
    })


def _complaint_context(request, obj, form=None):
    return {
        "complaint": obj, "business": obj.business, "attachments": obj.attachments.all(),
        "form": form or ComplaintDecisionForm(),
        "can_decide": request.user.has_perm("enamad.handle_complaint") and obj.status in OPEN_COMPLAINT_STATES,
        "counts": complaint_selectors.complaint_counts(obj.business), "BusinessStatus": BusinessStatus,
        "audit": AuditEntry.objects.for_object(obj).order_by("-id")[:20],
    }


@enamad_staff_required(role="complaints")
def complaint(request, pk):
    obj = _staff_complaint(pk)
    if request.method == "POST":
        form = ComplaintDecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint_services.complaint_decide(complaint_id=obj.pk, actor=request.user,
                                          upheld=data["outcome"] == "upheld", note=data["note"],
                                          suspend_seal=data["suspend_seal"], ctx=audit_context(request))
            except InvalidTransition as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            except PermissionDenied:
                messages.error(request, "اجازه رسیدگی به شکایت‌ها را ندارید.")
            else:
                messages.success(request, "نتیجه رسیدگی ثبت و به خریدار و فروشنده اعلام شد.")
                return redirect("enamad:staff_complaint", pk)
        return render(request, "enamad/staff/complaint.html", _complaint_context(request, obj, form), status=400)
    return render(request, "enamad/staff/complaint.html", _complaint_context(request, obj))


@enamad_staff_required(role="complaints")
def complaint_attachment(request, pk):
    return serve_private(get_object_or_404(ComplaintAttachment, pk=pk).file)
