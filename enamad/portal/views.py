"""The portal's pages that span the rooms: the public home, registry, rules and requirements
(N1, N17), and the holder's panel and messages. They read the rooms' selectors and render."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from enamad.accounts import selectors as account_selectors
from enamad.accounts.decorators import account_required
from enamad.accounts.models import OPTIONAL_DOCUMENTS, REQUIRED_DOCUMENTS, DocumentKind, Persona
from enamad.businesses import lifecycle
from enamad.businesses.models import ChecklistItem
from enamad.complaints.models import Complaint, ComplaintStatus
from enamad.seals import selectors as seal_selectors
from enamad.support.models import TicketStatus
from ramis.common import inbox
from ramis.common.paging import page_of

FAQ = [
    ("نماد اعتماد الکترونیکی چیست؟",
     "نشانی است که پس از بررسی وب‌سایت و احراز هویت مالک به فروشگاه‌های اینترنتی معتبر داده می‌شود و یک سال اعتبار دارد."),
    ("تفاوت نماد یک‌ستاره و دوستاره چیست؟",
     "شرایط هر دو یکسان است؛ نماد دوستاره به سایتی داده می‌شود که گواهی TLS (SSL) معتبر برای دامنه خود دارد."),
    ("آیا با نشانی IP می‌توان نماد گرفت؟", "خیر؛ نماد فقط به دامنه ثبت‌شده داده می‌شود."),
    ("تأییدیه فنی چیست؟",
     "نشان می‌دهد که شما به وب‌سایت دسترسی مجاز دارید: یک برچسب meta در صفحه اول، عنوان موقت صفحه اول، یک فایل متنی در "
     "ریشه سایت، یک رکورد TXT در DNS، یا کدی که به رایانامه info دامنه فرستاده می‌شود."),
    ("چگونه از اعتبار نماد یک سایت مطمئن شوم؟",
     "روی نماد کلیک کنید: صفحه نماد باید در همین سامانه باز شود و دامنه آن همان سایتی باشد که در آن هستید. تصویر نمادی که قابل کلیک نیست جعلی است."),
    ("تغییر نوع شخصیت یا اطلاعات هویتی چگونه است؟", "از طریق پشتیبانی و ارسال تیکت همراه با مدارک لازم."),
]
RULES = [
    "فقط وب‌سایت‌هایی که فروشنده کالا یا خدمات هستند نماد دریافت می‌کنند.",
    "دامنه باید ثبت‌شده باشد و متقاضی دسترسی مجاز به آن را در «تأییدیه فنی» نشان دهد.",
    "خدماتی که به مجوز مرجع ذی‌صلاح نیاز دارند (مانند فروش بلیت هواپیما) بدون بارگذاری مجوز پذیرفته نمی‌شوند.",
    "نماد یک سال اعتبار دارد و پس از آن باید تمدید شود.",
    "استفاده از تصویر نماد بدون پیوند آن به صفحه نماد تخلف است.",
    "نماد فقط برای دامنه ثبت‌شده (و زیردامنه‌های آن) معتبر است.",
]


# --- public (N1, N17) --------------------------------------------------------------------------


def home(request):
    return render(request, "enamad/home.html", {"account": account_selectors.account_for_user(request.user)})


def registry(request):
    query = request.GET.get("q", "")[:100]
    page = Paginator(seal_selectors.registry_search(query), 20).get_page(request.GET.get("page"))
    return render(request, "enamad/registry.html", {"page": page, "q": query})


def rules(request):
    return render(request, "enamad/rules.html", {"rules": RULES, "faq": FAQ})


def requirements(request):
    documents = [
        (label, [(DocumentKind(k).label, True) for k in REQUIRED_DOCUMENTS[value]]
         + [(DocumentKind(k).label, False) for k in OPTIONAL_DOCUMENTS[value]])
        for value, label in Persona.choices
    ]
    return render(request, "enamad/requirements.html", {
        "items": ChecklistItem.objects.filter(active=True), "documents": documents,
    })


# --- the holder's panel ------------------------------------------------------------------------


def _identity_steps(account):
    uploaded = set(account.documents.values_list("kind", flat=True))
    return [
        ("profile", "تکمیل اطلاعات", account.profile_completed_at is not None, "enamad:profile"),
        ("documents", "بارگذاری مدارک", not account.missing_documents(uploaded), "enamad:documents"),
        ("mobile", "احراز تلفن همراه", account.mobile_verified_at is not None, "enamad:identity"),
        ("landline", "احراز تلفن ثابت", account.landline_verified_at is not None, "enamad:identity"),
    ]


@account_required
def panel(request):
    account = request.account
    steps = _identity_steps(account)
    businesses = account.businesses.select_related("seal").order_by("-id")
    complaints_to_answer = Complaint.objects.filter(
        business__account=account, status__in=[ComplaintStatus.AWAITING_ANSWER, ComplaintStatus.OVERDUE]).count()
    text, url_name, arg = lifecycle.owner_next_step(identity_steps=steps, businesses=list(businesses),
                                                    complaints_to_answer=complaints_to_answer)
    return render(request, "enamad/panel.html", {
        "next_step": text, "next_url": (reverse(url_name, args=[arg]) if arg else reverse(url_name)) if text else "",
        "complaints_to_answer": complaints_to_answer,
        "open_tickets": account.tickets.exclude(status=TicketStatus.CLOSED).count(),
        "account": account, "steps": steps, "businesses": businesses,
        "stepper": [(k, label) for k, label, _, _ in steps], "done": [k for k, _, ok, _ in steps if ok],
        "current": next((k for k, _, ok, _ in steps if not ok), ""),
    })


MESSAGES_PER_PAGE = 20


@account_required
def messages_page(request):
    """The SMS and e-mails the owner was sent (issue 13, item 10): the same cards as RAMIS's panel."""
    mobiles, emails = account_selectors.message_addresses(request.account)
    page, pager_query = page_of(request, inbox.messages_to(mobiles=mobiles, emails=emails), MESSAGES_PER_PAGE)
    return render(request, "enamad/messages.html", {
        "page": page, "pager_query": pager_query, "message_cards": inbox.cards(page.object_list),
        "inbox_note": "" if request.account.mobile_verified_at else
        "پیامک‌ها پس از احراز تلفن همراه در این فهرست می‌آیند.",
    })
