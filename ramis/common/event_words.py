"""Audit events as staff read them (issue 13 item 5): one phrase map for every staff timeline
(the desk's review, e-Namad's business, complaint and ticket pages, the admin's audit trail),
so nobody reads ``enamad.business.sent (draft → under_review)``.

The common room holds the map and the words for the events it and the rooms below it record;
rooms above add theirs with ``register`` from their AppConfig.ready (``ramis.requests`` its
request timeline's labels, ``enamad`` its own, in ``enamad/event_words.py``). A status value is
read through the target model's ``status`` field choices (``Business.Status`` and the like),
found by the entry's ``target_type``, so no room's labels are repeated here. An event nobody
named yet still reads as Persian: ``<model>.added/changed/deleted`` (admin edits) by the model's
own name, anything else as «رویداد ثبت‌شده در سامانه» (tests/common/test_event_words.py keeps
every event the code records named)."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

PHRASES: dict[str, str] = {
    "applicant.account_created": "ساخت حساب متقاضی",
    "applicant.logged_in": "ورود متقاضی",
    "applicant.logged_out": "خروج متقاضی",
    "applicant.sso_failed": "ورود ناموفق از پنجره ملی",
    "staff.logged_in": "ورود کارمند",
    "certauth.certificate_login": "ورود با گواهی الکترونیکی",
    "certauth.certificate_refused": "ورود با گواهی الکترونیکی رد شد",
    "certauth.password_refused": "ورود با گذرواژه رد شد (گواهی الکترونیکی لازم است)",
    "person.edited": "ویرایش مشخصات شخص",
    "role.approved": "تأیید سمت",
    "role.edited": "ویرایش سمت",
    "role.ended": "پایان سمت",
    "role.rejected": "رد سمت",
    "ca.created": "ایجاد مرکز صدور",
    "ca.reissued": "صدور دوباره گواهی مرکز",
    "ca.ocsp_responder_certified": "صدور گواهی پاسخ‌گوی وضعیت (OCSP)",
    "tsa.certified": "صدور گواهی مهر زمانی",
    "crl.published": "انتشار فهرست ابطال",
    "audit.key_created": "ساخت کلید امضای رد ممیزی",
    "certificate.issued": "صدور گواهی",
    "certificate.expired": "پایان اعتبار گواهی",
    "certificate.expiry_reminded": "یادآوری پایان اعتبار",
    "certificate.revoked": "ابطال گواهی",
    "certificate.office_revoked": "ابطال گواهی به دست دفتر",
    "certificate.held": "تعلیق گواهی",
    "certificate.released": "رفع تعلیق گواهی",
    "certificate.superseded": "جایگزینی گواهی",
    "revocation.requested": "درخواست ابطال",
    "revocation.confirmed": "تأیید ابطال",
    "revocation.rejected": "رد درخواست ابطال",
    "revocation.cancelled": "لغو درخواست ابطال",
    "issuance.started": "آغاز صدور روی توکن",
    "issuance.completed": "پایان صدور روی توکن",
    "issuance.failed": "خطا در صدور روی توکن",
    "issuance.refused": "خودداری از صدور",
    "issuance.abandoned": "رها شدن صدور",
    "issuance.late_certificate_revoked": "ابطال گواهی دیررسیده",
    "issuance.superseded_removed": "پاک شدن کلید جایگزین‌شده از توکن",
    "issuance.token_reinitialised": "آماده‌سازی دوباره توکن",
    "payment.started": "آغاز پرداخت",
    "payment.paid": "پرداخت موفق",
    "payment.failed": "پرداخت ناموفق",
    "payment.duplicate": "پرداخت تکراری",
    "refund.requested": "درخواست بازپرداخت",
    "refund.paid": "بازپرداخت انجام شد",
    "workstation.added": "افزودن باجه",
    "workstation.chosen": "انتخاب باجه",
    "workstation.health": "بررسی سلامت باجه",
    "workstation.secret_rotated": "تعویض رمز مشترک باجه",
    "workstation.disabled": "غیرفعال شدن باجه",
    "workstation.changed": "ویرایش باجه",
    # a request the applicant's ended role took with it (not in the applicant's own timeline labels)
    "request.withdrawn": "کنار رفتن درخواست با پایان سمت",
}
# Admin edits recorded as ``<model>.<action>`` (ramis/common/admin_tools.py).
ADMIN_ACTIONS = {"added": "افزودن", "changed": "ویرایش", "deleted": "حذف"}
UNNAMED = "رویداد ثبت‌شده در سامانه"


def register(mapping: dict[str, str]) -> None:
    """A room's events and their phrases (called from its AppConfig.ready)."""
    PHRASES.update(mapping)


def _model(target_type: str):
    try:
        return apps.get_model(target_type) if "." in (target_type or "") else None
    except (LookupError, ValueError):
        return None


def phrase(event: str, target_type: str = "") -> str:
    """The event as a person reads it."""
    if event in PHRASES:
        return PHRASES[event]
    name, _, action = (event or "").rpartition(".")
    model = _model(target_type)
    if action in ADMIN_ACTIONS and model is not None and name == model._meta.model_name:
        return f"{ADMIN_ACTIONS[action]} {model._meta.verbose_name} (مدیریت)"
    return UNNAMED


def status_word(target_type: str, value: str) -> str:
    """A status value in the target model's own words (its ``status`` field's choices)."""
    model = _model(target_type)
    if model is not None and value:
        try:
            choices = dict(model._meta.get_field("status").flatchoices)
        except FieldDoesNotExist:
            choices = {}
        if value in choices:
            return str(choices[value])
    return value


def change(entry) -> str:
    """``پیش‌نویس ← در حال بررسی`` for an entry that moved a status, else empty."""
    if not entry.new:
        return ""
    old = status_word(entry.target_type, entry.old) or "—"
    return f"{old} ← {status_word(entry.target_type, entry.new)}"


def describe(entry) -> str:
    """The whole line's words: the phrase and, when the status moved, from what to what."""
    moved = change(entry)
    text = phrase(entry.event, entry.target_type)
    return f"{text} ({moved})" if moved else text
