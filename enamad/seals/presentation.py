"""The words the holder reads about their seal's periodic check (N18, N21): one line per
monitor event, filled in with the domain, the method and the deadline. The services only
choose the events; the status e-mail and SMS read the lines here. And the page a wrong seal
link shows (the seal pages and the complaint form share it)."""

from django.http import HttpResponse
from django.shortcuts import render

MONITOR_LINES = {
    "enamad.seal.unreachable": "سایت {domain} در بررسی دوره‌ای در دسترس نبود.",
    "enamad.seal.reachable": "سایت {domain} دوباره در دسترس است.",
    "enamad.seal.tls_lapsed": "گواهی TLS سایت {domain} معتبر نیست (یا منقضی شده است)؛ نماد از دو ستاره به یک ستاره "
                              "کاهش یافت. با نصب گواهی معتبر، ستاره دوم خودکار بازمی‌گردد.",
    "enamad.seal.tls_restored": "گواهی TLS سایت {domain} معتبر است؛ نماد دوباره دو ستاره شد.",
    "enamad.seal.domain_lapsed": "نشانه تأییدیه فنی {domain} به روشی که انتخاب کرده‌اید ({method}) یافت نشد. آن را "
                                 "تا {deadline} برگردانید؛ در غیر این صورت نماد تعلیق می‌شود.",
    "enamad.seal.domain_restored": "تأییدیه فنی {domain} دوباره برقرار شد.",
    # A seal verified by the e-mailed code (N22) whose proof is older than ENAMAD_DOMAIN_EMAIL_PROOF_DAYS.
    "enamad.seal.domain_lapsed.email": "تأییدیه فنی {domain} با کد رایانامه‌ای باید تازه شود: کد تازه‌ای به {address} "
                                       "فرستادیم. آن را تا {deadline} در صفحه تأییدیه فنی وارد کنید (یا یک نشانه ماندگار "
                                       "مانند برچسب meta بگذارید)؛ در غیر این صورت نماد تعلیق می‌شود.",
}


def invalid_seal(request) -> HttpResponse:
    """A wrong, forged or withdrawn seal link: a plain Persian page (status 404) that says this
    seal is not valid and names no business, so a forger learns nothing from it."""
    return render(request, "enamad/seal_invalid.html", status=404)
