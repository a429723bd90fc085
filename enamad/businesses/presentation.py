"""The words the holder reads about their file: what happened and what to do next (STYLE 15).

Kept out of the services, which only choose the key; the status page and the status SMS/e-mail read them here.
"""

from __future__ import annotations

from enamad.businesses.models import BusinessStatus

# Words for the holder: what happened and what to do next (STYLE 15).
NEXT_STEP = {
    BusinessStatus.UNDER_REVIEW: "پرونده شما در صف بررسی کارشناس است؛ منتظر نتیجه بمانید.",
    BusinessStatus.DEFICIENT: "کارشناس نقص اعلام کرده است: در «وضعیت چک‌لیست» موارد تأییدنشده را رفع کنید و دوباره ارسال کنید.",
    BusinessStatus.PHYSICAL_DOCUMENTS: "تعهدنامه را دریافت کنید، در دفترخانه گواهی امضا کنید و با کپی برابر اصل مجوزها پست کنید.",
    BusinessStatus.DOCUMENTS_REJECTED: "مدارک فیزیکی تأیید نشد؛ نقص را رفع کنید و مدارک را دوباره بفرستید.",
    BusinessStatus.MANAGER_REVIEW: "مدارک تأیید شد؛ پرونده در حال بررسی توسط مدیر است.",
    BusinessStatus.APPROVED: "نماد شما صادر شد: «دریافت کد نماد» را بزنید و کد را در صفحه اول سایت قرار دهید.",
    BusinessStatus.SUSPENDED: "نماد شما تعلیق شد؛ برای رفع تعلیق با پشتیبانی تماس بگیرید.",
    BusinessStatus.EXPIRED: "اعتبار نماد شما به پایان رسید؛ برای تمدید اقدام کنید.",
    BusinessStatus.REVOKED: "نماد شما ابطال شد.",
}

# The physical-documents step once the documents are in (the posted ones recorded by the officer,
# or a commitment letter signed with a RAMIS certificate accepted): nothing more to post.
DOCUMENTS_RECEIVED = "مدارک شما دریافت شد و نیازی به ارسال دوباره آن نیست؛ کارشناس مدارک پرونده را بررسی می‌کند."


def next_step(business) -> str:
    """What the holder does next about this file, as the business page says it."""
    if business.status == BusinessStatus.PHYSICAL_DOCUMENTS and business.documents_received_at:
        return DOCUMENTS_RECEIVED
    return NEXT_STEP.get(business.status, "")


# Transitions whose plain words ("the file is now «approved»" and the approved next step, "your
# seal was issued, get the seal code") would read wrong: (headline, e-mail subject, next step).
STATUS_WORDS = {
    "enamad.seal.reinstated": (
        "اینماد: تعلیق نماد {domain} (شماره پرونده {reference}) برداشته شد.", "رفع تعلیق نماد",
        "نماد شما دوباره معتبر است و در سایت شما نمایش داده می‌شود. کد نماد همان کد قبلی است؛ اگر آن را از "
        "صفحه اول سایت برنداشته‌اید کاری لازم نیست."),
    "enamad.seal.suspension_taken_over": (
        "اینماد: تعلیق نماد {domain} (شماره پرونده {reference}) اکنون به تصمیم کارشناس اینماد است.", "ادامه تعلیق نماد",
        "این تعلیق با برگشتن تأییدیه فنی خودکار برداشته نمی‌شود؛ برای رفع تعلیق با پشتیبانی تماس بگیرید."),
    "renewal_rejected": (
        "اینماد: درخواست تمدید نماد {domain} (شماره پرونده {reference}) پذیرفته نشد.", "رد درخواست تمدید",
        "نماد شما تا تاریخ انقضای کنونی معتبر می‌ماند و کد آن تغییری نکرده است؛ تغییرات درخواستی تمدید اعمال "
        "نشد. پس از رفع دلیل بالا می‌توانید از صفحه کسب‌وکار دوباره درخواست تمدید بدهید."),
    "renewal_rejected_expired": (
        "اینماد: درخواست تمدید نماد {domain} (شماره پرونده {reference}) پذیرفته نشد.", "رد درخواست تمدید",
        "اعتبار نماد شما به پایان رسیده است و تغییرات درخواستی تمدید اعمال نشد. پس از رفع دلیل بالا می‌توانید "
        "از صفحه کسب‌وکار دوباره درخواست تمدید بدهید."),
    "renewed": (
        "اینماد: نماد {domain} (شماره پرونده {reference}) تمدید شد.", "تمدید نماد",
        "نماد شما تا تاریخ تازه معتبر است. کد نماد تغییری نکرده است؛ لازم نیست آن را دوباره در سایت بگذارید."),
}


# The holder's steps through a new file (the stepper on the file's pages).
BUSINESS_STEPS = [
    ("details", "مشخصات"), ("technical", "تأییدیه فنی"), ("services", "خدمات و مجوزها"),
    ("survey", "نظرسنجی"), ("contacts", "احراز اطلاعات"), ("send", "ارسال به کارشناس"),
]


def business_steps(business) -> dict:
    """The holder's stepper over a file's pages: the steps, those done and the current one."""
    done = ["details"]
    if business.domain_verified_at:
        done.append("technical")
    if business.services_complete():
        done.append("services")
    if business.survey_done_at:
        done.append("survey")
    if business.contacts_verified_count:
        done.append("contacts")
    if business.status != BusinessStatus.DRAFT:
        done.append("send")
    current = next((k for k, _ in BUSINESS_STEPS if k not in done), "")
    return {"steps": BUSINESS_STEPS, "done": done, "current": current, "BusinessStatus": BusinessStatus}
