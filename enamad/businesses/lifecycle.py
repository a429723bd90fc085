"""An e-Namad file's lifecycle as a strip (issue 13): sent → the expert's review → physical
documents → the manager's review → seal, with the steps done and the current one marked."""

from __future__ import annotations

from .models import BusinessStatus

STEPS = [
    ("sent", "ارسال پرونده"),
    ("review", "بررسی کارشناس"),
    ("documents", "مدارک فیزیکی"),
    ("manager", "بررسی مدیر"),
    ("sealed", "اعطای نماد"),
]
# How many steps each status has completed, and a word on a status that waits on the owner.
_DONE = {
    BusinessStatus.DRAFT: 0, BusinessStatus.UNDER_REVIEW: 1, BusinessStatus.DEFICIENT: 1,
    BusinessStatus.PHYSICAL_DOCUMENTS: 2, BusinessStatus.DOCUMENTS_REJECTED: 2, BusinessStatus.MANAGER_REVIEW: 3,
    BusinessStatus.APPROVED: 5, BusinessStatus.SUSPENDED: 5, BusinessStatus.EXPIRED: 5, BusinessStatus.REVOKED: 5,
}
_NOTES = {
    BusinessStatus.DEFICIENT: "کارشناس نقص اعلام کرده است: موارد را اصلاح و پرونده را دوباره ارسال کنید.",
    BusinessStatus.DOCUMENTS_REJECTED: "مدارک فیزیکی تأیید نشد: مدارک را اصلاح و دوباره ارسال کنید.",
    BusinessStatus.SUSPENDED: "نماد اکنون معلق است.",
    BusinessStatus.EXPIRED: "نماد منقضی شده است.",
    BusinessStatus.REVOKED: "نماد ابطال شده است.",
}


def strip(status: str) -> dict:
    """``{"steps", "current", "done", "note"}`` for ``components/stepper.html``."""
    count = _DONE.get(BusinessStatus(status), 0)
    keys = [key for key, _ in STEPS]
    return {"steps": STEPS, "done": keys[:count], "current": keys[count] if count < len(keys) else "",
            "note": _NOTES.get(BusinessStatus(status), "")}


# What the owner does next with a file in each status (the panel's "next step").
OWNER_NEXT = {
    BusinessStatus.DRAFT: "پرونده را کامل و برای بررسی ارسال کنید.",
    BusinessStatus.DEFICIENT: "نقص اعلام‌شده را برطرف و پرونده را دوباره ارسال کنید.",
    BusinessStatus.DOCUMENTS_REJECTED: "مدارک فیزیکی را اصلاح و دوباره ارسال کنید.",
    BusinessStatus.PHYSICAL_DOCUMENTS: "مدارک فیزیکی را بفرستید؛ کارشناس آن‌ها را بررسی می‌کند.",
}


def owner_next_step(*, identity_steps, businesses, complaints_to_answer: int) -> tuple[str, str, str]:
    """(what to do, link name, link argument) for the shop owner's panel: identity first, then a
    file that waits on the owner, then complaints; empty when nothing waits on them."""
    for _key, label, ok, url in identity_steps:
        if not ok:
            return f"احراز هویت: {label}", url, ""
    if not businesses:
        return "نخستین کسب‌وکار خود را بیفزایید.", "enamad:business_new", ""
    for business in businesses:
        if business.status in OWNER_NEXT:
            return f"{business.domain}: {OWNER_NEXT[BusinessStatus(business.status)]}", "enamad:business", business.pk
    if complaints_to_answer:
        return "به شکایت‌های خریداران پاسخ دهید.", "enamad:complaints", ""
    return "", "", ""
