"""The staff desk's pages that span the rooms (N12, N14, N15): a file's page (the review with a
verdict per checklist item, which the Django admin would make clumsy; the physical documents;
the manager's approval; the seal's suspension, reinstatement, revocation and renewal; its
tickets and complaints) and the dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_fsm import can_proceed, has_transition_perm

from enamad.accounts.decorators import enamad_staff_required
from enamad.businesses import selectors as business_selectors
from enamad.businesses import services as business_services
from enamad.businesses.forms import RejectForm, ReviewForm
from enamad.businesses.models import BusinessStatus, ChecklistItem
from enamad.common import take_step
from enamad.complaints import selectors as complaint_selectors
from enamad.seals import services as seal_services
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry

from . import charts
from .dashboard import DEFICIENCY_WINDOW_DAYS
from .dashboard import dashboard as dashboard_figures


@enamad_staff_required(role="files")
def business(request, pk):
    obj = business_selectors.get_business_for_staff(pk)
    items = list(ChecklistItem.objects.filter(active=True))
    review_form = ReviewForm(items=items)
    return render(request, "enamad/staff/business.html", _context(request, obj, review_form))


def _may(obj, name: str, user) -> bool:
    """The transition's own source, conditions and permission decide which buttons show."""
    method = getattr(obj, name)
    return can_proceed(method) and has_transition_perm(method, user)


def _context(request, obj, review_form, reject_form=None):
    user = request.user
    return {
        "business": obj, "account": obj.account, "review_form": review_form, "reject_form": reject_form or RejectForm(),
        "documents": obj.account.documents.all(), "reviews": obj.reviews.prefetch_related("items__item"),
        "audit": AuditEntry.objects.for_object(obj).order_by("-id")[:30], "seal": getattr(obj, "seal", None),
        "can_review": user.has_perm("enamad.review_business") and obj.status == BusinessStatus.UNDER_REVIEW,
        "can_documents": user.has_perm("enamad.review_documents") and obj.status == BusinessStatus.PHYSICAL_DOCUMENTS,
        "can_manage": user.has_perm("enamad.approve_business"),
        # A seal that vouches may be suspended also while its renewal is under review.
        # A seal the monitor suspended may be kept suspended by staff (the monitor then leaves it).
        "can_take_over": seal_services.monitor_suspension_can_be_taken_over(obj, getattr(obj, "seal", None), user),
        "can_suspend": _may(obj, "suspend", user), "can_reinstate": _may(obj, "reinstate", user),
        "can_revoke": _may(obj, "revoke", user), "can_reject_renewal": _may(obj, "reject_renewal", user),
        "renewal_form": RejectForm(),
        "BusinessStatus": BusinessStatus,
        "complaint_counts": complaint_selectors.complaint_counts(obj),
        "tickets": obj.tickets.order_by("-last_message_at")[:10],
        "monitor_seal": getattr(obj, "seal", None),
    }


@enamad_staff_required(role="files")
@require_POST
def review(request, pk):
    obj = business_selectors.get_business_for_staff(pk)
    items = list(ChecklistItem.objects.filter(active=True))
    form = ReviewForm(request.POST, items=items)
    if form.is_valid():
        try:
            result = business_services.business_review(
                business_id=obj.pk, actor=request.user, results=form.results(), note=form.cleaned_data["note"],
                ask_activity_change=form.cleaned_data["ask_activity_change"], ctx=audit_context(request))
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
    "documents_received": (business_services.business_documents_received, False, "دریافت مدارک ثبت شد."),
    "accept_documents": (business_services.business_accept_documents, False, "مدارک فیزیکی تأیید شد؛ پرونده نزد مدیر است."),
    "reject_documents": (business_services.business_reject_documents, True, "عدم تأیید مدارک فیزیکی ثبت شد."),
    "final_approve": (seal_services.business_final_approve, False, "تأیید نهایی انجام شد و نماد صادر شد."),
    "return_to_expert": (business_services.business_return_to_expert, True, "پرونده به کارشناس بازگشت."),
    "suspend": (seal_services.business_suspend, True, "نماد تعلیق شد."),
    "reinstate": (seal_services.business_reinstate, False, "تعلیق نماد برداشته شد."),
    "revoke": (seal_services.business_revoke, True, "نماد ابطال شد."),
    "release_domain": (business_services.business_release_domain, True, "تأییدیه فنی دامنه آزاد شد و به متقاضی خبر داده شد."),
    "reject_renewal": (seal_services.business_reject_renewal, True,
                       "درخواست تمدید رد شد؛ نماد تا تاریخ انقضای خود معتبر است و به متقاضی خبر داده شد."),
}


@enamad_staff_required(role="files")
@require_POST
def action(request, pk, name):
    if name not in ACTIONS:
        raise Http404
    service, needs_reason, done = ACTIONS[name]
    obj = business_selectors.get_business_for_staff(pk)
    kwargs = {}
    if needs_reason:
        form = RejectForm(request.POST)
        if not form.is_valid():
            if name == "reject_renewal":  # its own form: the error goes next to its field
                review_form = ReviewForm(items=list(ChecklistItem.objects.filter(active=True)))
                context = {**_context(request, obj, review_form), "renewal_form": form}
                return render(request, "enamad/staff/business.html", context, status=400)
            messages.error(request, "دلیل را بنویسید.")
            return redirect("enamad:staff_business", pk)
        kwargs["reason"] = form.cleaned_data["reason"]
    take_step(request, lambda: service(business_id=obj.pk, actor=request.user, ctx=audit_context(request), **kwargs),
              done)
    return redirect("enamad:staff_business", pk)


# --- dashboard ---------------------------------------------------------------------------------


@enamad_staff_required
def dashboard(request):
    board = dashboard_figures()
    status_chart = charts.bar_chart([(label, n) for _, label, n in board.per_status], title="پرونده‌ها به تفکیک وضعیت")
    expiring_chart = charts.column_chart(board.expiring_by_month, title="نمادهایی که در ماه‌های پیش رو منقضی می‌شوند")
    stage_chart = charts.bar_chart([(s.label, s.days or 0) for s in board.stages],
                                   title="قدیمی‌ترین انتظار در هر مرحله (روز)")
    deficiency_chart = charts.donut(board.deficiency_rate, title="نرخ اعلام نقص", caption="اعلام نقص")
    return render(request, "enamad/staff/dashboard.html", {
        "board": board, "status_chart": status_chart, "expiring_chart": expiring_chart,
        "stage_chart": stage_chart, "deficiency_chart": deficiency_chart,
        "window_days": DEFICIENCY_WINDOW_DAYS, "now": timezone.now(),
    })
