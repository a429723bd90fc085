"""Staff desk for e-Namad experts, document officers and managers (N12, N14, N15): the review
with a verdict per checklist item, which the Django admin would make clumsy."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from ramis.common.uploads import serve_private

from . import selectors, services
from .forms import RejectForm, ReviewForm
from .models import Business, BusinessStatus, ChecklistItem, IdentityDocument
from .views import enamad_staff_required

QUEUE_LABELS = [("review", "بررسی کارشناس"), ("documents", "مدارک فیزیکی"), ("manager", "بررسی مدیر"),
                ("sealed", "نمادها")]


@enamad_staff_required
def queue(request):
    name = request.GET.get("q", "review")
    if name not in selectors.STAFF_QUEUES:
        name = "review"
    businesses = selectors.staff_queue(name)[:200]
    return render(request, "enamad/staff/queue.html", {"businesses": businesses, "queue": name,
                                                        "queues": QUEUE_LABELS})


def _business(pk: int) -> Business:
    return get_object_or_404(Business.objects.select_related("account__user", "service__category", "survey"), pk=pk)


@enamad_staff_required
def business(request, pk):
    obj = _business(pk)
    items = list(ChecklistItem.objects.filter(active=True))
    review_form = ReviewForm(items=items)
    return render(request, "enamad/staff/business.html", _context(request, obj, review_form))


def _context(request, obj, review_form, reject_form=None):
    user = request.user
    return {
        "business": obj, "account": obj.account, "review_form": review_form, "reject_form": reject_form or RejectForm(),
        "documents": obj.account.documents.all(), "reviews": obj.reviews.prefetch_related("items__item"),
        "audit": AuditEntry.objects.for_object(obj).order_by("-id")[:30], "seal": getattr(obj, "seal", None),
        "can_review": user.has_perm("enamad.review_business") and obj.status == BusinessStatus.UNDER_REVIEW,
        "can_documents": user.has_perm("enamad.review_documents") and obj.status == BusinessStatus.PHYSICAL_DOCUMENTS,
        "can_manage": user.has_perm("enamad.approve_business"),
        "BusinessStatus": BusinessStatus,
    }


@enamad_staff_required
@require_POST
def review(request, pk):
    obj = _business(pk)
    items = list(ChecklistItem.objects.filter(active=True))
    form = ReviewForm(request.POST, items=items)
    if form.is_valid():
        try:
            result = services.business_review(
                business_id=obj.pk, actor=request.user, results=form.results(), note=form.cleaned_data["note"],
                ask_activity_change=form.cleaned_data["ask_activity_change"], request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:staff_business", pk)
        else:
            if result.outcome == result.Outcome.APPROVED:
                messages.success(request, "وب‌سایت تأیید شد؛ پرونده به مرحله بررسی مدارک فیزیکی رفت.")
            else:
                messages.warning(request, "نقص اعلام شد و پرونده به متقاضی بازگشت.")
            return redirect("enamad:staff_business", pk)
    return render(request, "enamad/staff/business.html", _context(request, obj, form), status=400)


ACTIONS = {
    "documents_received": (services.business_documents_received, False, "دریافت مدارک ثبت شد."),
    "accept_documents": (services.business_accept_documents, False, "مدارک فیزیکی تأیید شد؛ پرونده نزد مدیر است."),
    "reject_documents": (services.business_reject_documents, True, "عدم تأیید مدارک فیزیکی ثبت شد."),
    "final_approve": (services.business_final_approve, False, "تأیید نهایی انجام شد و نماد صادر شد."),
    "return_to_expert": (services.business_return_to_expert, True, "پرونده به کارشناس بازگشت."),
    "suspend": (services.business_suspend, True, "نماد تعلیق شد."),
    "reinstate": (services.business_reinstate, False, "تعلیق نماد برداشته شد."),
    "revoke": (services.business_revoke, True, "نماد ابطال شد."),
    "release_domain": (services.business_release_domain, True, "تأییدیه فنی دامنه آزاد شد و به متقاضی خبر داده شد."),
}


@enamad_staff_required
@require_POST
def action(request, pk, name):
    if name not in ACTIONS:
        raise Http404
    service, needs_reason, done = ACTIONS[name]
    obj = _business(pk)
    kwargs = {}
    if needs_reason:
        form = RejectForm(request.POST)
        if not form.is_valid():
            messages.error(request, "دلیل را بنویسید.")
            return redirect("enamad:staff_business", pk)
        kwargs["reason"] = form.cleaned_data["reason"]
    try:
        service(business_id=obj.pk, actor=request.user, request=request, **kwargs)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        messages.error(request, "اجازه این کار را ندارید.")
        return redirect("enamad:staff_business", pk)
    else:
        messages.success(request, done)
    return redirect("enamad:staff_business", pk)


@enamad_staff_required
def document(request, pk):
    doc = get_object_or_404(IdentityDocument, pk=pk)
    return serve_private(doc.file)


@enamad_staff_required
def licence(request, pk):
    obj = _business(pk)
    service = getattr(obj, "service", None)
    if not (service and service.licence_file):
        raise Http404
    return serve_private(service.licence_file)
