"""Confirmation where a click commits (issue 13 item 7): booking an appointment, starting a renewal
and cancelling a request first show a page saying what will happen, with one button that does it
(plain HTML: it works without JS). And the revocation message names what the revocation cancelled."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.urls import reverse

from ramis.common import jalali
from ramis.common.templatetags.jalali import rials

from .models import CertificateRequest, Invoice


def _page(request, **context):
    return render(request, "requests/confirm.html", context)


def booking_page(request, req, current, slot):
    """The slot the applicant picked (the form's datetime, or its ISO form), in words: confirm
    books it, back picks another."""
    start = dt.datetime.fromisoformat(slot) if isinstance(slot, str) else slot
    when = f"{jalali.jalali_long(start)} ساعت {jalali.jalali_datetime(start)[11:]}"
    lines = [f"زمان: {when}", f"دفتر: {req.office.name} — {req.office.address}",
             "همراه داشته باشید: اصل کارت ملی و مدارکی که بارگذاری کرده‌اید؛ خود دارنده گواهی (یا وکیل با وکالت‌نامه محضری) حاضر شود."]
    warning = ""
    if current is not None:
        warning = (f"نوبت فعلی شما ({jalali.jalali_long(current.starts_at)} ساعت "
                   f"{jalali.jalali_datetime(current.starts_at)[11:]}) آزاد می‌شود.")
    return _page(request, title="تأیید نوبت مراجعه", lines=lines, warning=warning,
                 action=reverse("requests:appointment", args=[req.pk]), hidden=[("slot", start.isoformat())],
                 button="تأیید و ثبت نوبت", back=reverse("requests:appointment", args=[req.pk]),
                 back_label="انتخاب زمان دیگر")


def renew_page(request, certificate):
    """What «تمدید» starts: a renewal request at the issuing office; the certificate stays valid."""
    lines = [
        f"درخواست تمدید در {certificate.office.name if certificate.office_id else 'دفتر صادرکننده'} ساخته می‌شود؛ "
        "مشخصات از درخواست قبلی برداشته می‌شود و پیش از ثبت نهایی می‌توانید آن را ببینید و اصلاح کنید.",
        f"گواهی فعلی تا صدور گواهی تازه (حداکثر تا {jalali.jalali_date(certificate.not_after)}) معتبر می‌ماند.",
        "پس از تأیید دفتر، هزینه تمدید را می‌پردازید.",
    ]
    return _page(request, title="تمدید گواهی", lines=lines, action=reverse("requests:renew", args=[certificate.pk]),
                 hidden=[], button="بله، درخواست تمدید ساخته شود",
                 back=reverse("requests:certificate", args=[certificate.pk]))


def cancel_page(request, req):
    """What cancelling does: the request ends; a booked appointment is freed; a payment is refunded."""
    if req.status not in CertificateRequest.CANCELLABLE:
        lines = [f"این درخواست در وضعیت «{req.get_status_display()}» است و دیگر لغو نمی‌شود."]
        return _page(request, title="لغو درخواست", lines=lines, action="", hidden=[], button="",
                     back=reverse("requests:detail", args=[req.pk]), back_label="بازگشت به درخواست",
                     no_action=True)
    lines = [f"درخواست {req.reference} لغو می‌شود و دیگر قابل ادامه نیست."]
    if req.status in CertificateRequest.PAID:
        invoice = Invoice.objects.filter(request=req).first()
        amount = f" ({rials(invoice.total_rials)} ریال)" if invoice is not None else ""
        lines += ["نوبت مراجعه شما آزاد می‌شود.", f"مبلغ پرداخت‌شده{amount} به حساب شما بازگردانده می‌شود."]
    return _page(request, title="لغو درخواست", lines=lines, action=reverse("requests:cancel", args=[req.pk]),
                 hidden=[], button="بله، درخواست لغو شود", danger=True,
                 back=reverse("requests:detail", args=[req.pk]))


def open_renewals(certificate) -> list[CertificateRequest]:
    return list(certificate.renewals.open())


def revocation_message(outcome, renewals) -> str:
    """Everything the revocation did: revoked now or waiting, and the renewal it cancelled."""
    if outcome.immediate:
        text = "گواهی همین حالا ابطال شد."
        cancelled = [r.reference for r in renewals
                     if CertificateRequest.objects.filter(pk=r.pk, status=CertificateRequest.Status.CANCELLED).exists()]
        if cancelled:
            text += " درخواست تمدید " + "، ".join(cancelled) + " هم لغو شد."
        return text
    text = "درخواست ابطال ثبت شد و پس از تأیید دفتر ثبت‌نام انجام می‌شود."
    if renewals:
        text += " با ابطال، درخواست تمدید " + "، ".join(r.reference for r in renewals) + " هم لغو می‌شود."
    return text
