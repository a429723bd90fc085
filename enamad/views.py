"""Pages of the e-Namad room: they parse input, call a service, render the result."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from certauth.lockouts import add_captcha, password_login_guard
from certauth.selectors import certificate_login_url
from ramis.common import audit, inbox
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.paging import page_of
from ramis.common.uploads import serve_private

from . import lifecycle
from .accounts import selectors as account_selectors
from .accounts import services as account_services
from .businesses import selectors as business_selectors
from .businesses import services as business_services
from .businesses.presentation import next_step
from .common import Throttled
from .decorators import account_required
from .domains import control_email_address
from .forms import (
    GOVERNMENT_FIELDS,
    LEGAL_FIELDS,
    ActivityForm,
    AddressCodeForm,
    BusinessForm,
    DocumentForm,
    DomainCodeForm,
    LoginForm,
    ProfileForm,
    ServicesForm,
    SignupForm,
    SurveyForm,
)
from .models import (
    OPTIONAL_DOCUMENTS,
    REQUIRED_DOCUMENTS,
    BusinessStatus,
    ChecklistItem,
    Complaint,
    ComplaintStatus,
    DocumentKind,
    IdentityDocument,
    Persona,
    PhoneChallenge,
    TicketStatus,
    VerificationMethod,
)
from .seals import control as seal_control
from .seals import selectors as seal_selectors
from .seals import services as seal_services

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

BUSINESS_STEPS = [
    ("details", "مشخصات"), ("technical", "تأییدیه فنی"), ("services", "خدمات و مجوزها"),
    ("survey", "نظرسنجی"), ("contacts", "احراز اطلاعات"), ("send", "ارسال به کارشناس"),
]


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


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


# --- account (N2–N5) ---------------------------------------------------------------------------


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_services.account_signup(
                persona=data["persona"], username=data["username"], password=data["password1"], email=data["email"],
                first_name=data["first_name"], last_name=data["last_name"], national_code=data["national_code"],
                mobile=data["mobile"], ctx=audit_context(request),
                **{name: data.get(name, "") for name in LEGAL_FIELDS + GOVERNMENT_FIELDS},
            )
        except IntegrityError:
            form.add_error("username", "این نام کاربری پیش‌تر ثبت شده است.")
        else:
            messages.success(request, "ثبت‌نام با موفقیت انجام شد. پیوند فعال‌سازی به رایانامه شما فرستاده شد.")
            return redirect("enamad:signup_done")
    return render(request, "enamad/signup.html", {
        "form": form,
        "groups": [
            ("", [form[n] for n in SignupForm.common_fields]),
            (Persona.LEGAL, [form[n] for n in LEGAL_FIELDS]),
            (Persona.GOVERNMENT, [form[n] for n in GOVERNMENT_FIELDS]),
            ("", [form[n] for n in SignupForm.account_fields]),
        ],
    })


def signup_done(request):
    return render(request, "enamad/signup_done.html")


def activate(request, token):
    """The e-mailed link shows a page; only its button (a POST) activates, once."""
    try:
        if request.method != "POST":
            account = account_services.account_activation_check(token=token)
            return render(request, "enamad/activate.html", {"account": account})
        account_services.account_activate(token=token, ctx=audit_context(request))
    except account_services.ActivationError as exc:
        return render(request, "enamad/activation_failed.html", {"message": exc.message}, status=400)
    messages.success(request, "حساب شما فعال شد؛ اکنون با نام کاربری و گذرواژه وارد شوید.")
    return redirect("enamad:login")


def login_view(request):
    locked, captcha = password_login_guard(request)  # certauth.lockouts: per (name, address), captcha beyond
    if locked:
        return render(request, "certauth/locked.html", status=429)
    form = LoginForm(request.POST or None)
    if captcha:
        add_captcha(form)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["username"], password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            return render(request, "certauth/locked.html", status=429)
        if user is not None and hasattr(user, "enamad_account"):
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            audit.record(actor=user, target=user.enamad_account, event="enamad.account.logged_in", ctx=audit_context(request))
            return redirect("enamad:panel")
        form.add_error(None, "نام کاربری یا گذرواژه درست نیست، یا حساب هنوز با پیوند رایانامه فعال نشده است.")
    return render(request, "enamad/login.html", {"form": form, "certificate_url": certificate_login_url("enamad")})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "از سامانه اینماد خارج شدید.")
    return redirect("enamad:home")


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


@account_required
def profile(request):
    account = request.account
    locked = account.identity_locked()
    if locked and request.method == "POST":
        messages.error(request, account_services.IDENTITY_LOCKED_MESSAGE)
        return redirect("enamad:profile")
    initial = {name: getattr(account, name) for name in account_services.PROFILE_FIELDS}
    form = ProfileForm(request.POST or None, initial=initial, persona=account.persona)
    for field in form.fields.values():
        field.disabled = locked
    if request.method == "POST" and form.is_valid():
        try:
            account_services.account_update_profile(account_id=account.pk, actor=request.user, data=form.cleaned_data,
                                            ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:profile")
        messages.success(request, "ثبت اطلاعات با موفقیت انجام شد.")
        return redirect("enamad:panel")
    return render(request, "enamad/profile.html", {"form": form, "account": account, "locked": locked,
                                                    "locked_message": account_services.IDENTITY_LOCKED_MESSAGE})


@account_required
def documents(request):
    account = request.account
    allowed = account.required_documents() + account.optional_documents()
    form = None
    locked = account.identity_locked()
    if request.method == "POST" and locked:
        messages.error(request, account_services.IDENTITY_LOCKED_MESSAGE)
        return redirect("enamad:documents")
    if request.method == "POST":
        form = DocumentForm(request.POST, request.FILES, allowed_kinds=allowed)
        if form.is_valid():
            try:
                account_services.account_upload_document(account_id=account.pk, actor=request.user,
                                                  kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"],
                                                  ctx=audit_context(request))
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            except InvalidTransition as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"فایل «{DocumentKind(form.cleaned_data['kind']).label}» با موفقیت بارگذاری شد.")
                return redirect("enamad:documents")
        else:
            errors = [e for field_errors in form.errors.values() for e in field_errors]
            messages.error(request, " ".join(errors))
    uploaded = {d.kind: d for d in account.documents.all()}
    rows = [(DocumentKind(kind), kind in account.required_documents(), uploaded.get(kind)) for kind in allowed]
    return render(request, "enamad/documents.html", {"rows": rows, "account": account, "locked": locked,
                                                      "locked_message": account_services.IDENTITY_LOCKED_MESSAGE})


@account_required
def document_file(request, pk):
    document = IdentityDocument.objects.filter(pk=pk, account=request.account).first()
    if document is None:
        raise Http404
    return serve_private(document.file)


@account_required
def identity(request):
    """N5: reverse SMS for the mobile, then the IVR call for the landline."""
    account = request.account
    if request.method == "POST":
        purpose = request.POST.get("purpose")
        if purpose not in {PhoneChallenge.Purpose.MOBILE, PhoneChallenge.Purpose.LANDLINE}:
            raise Http404
        try:
            account_services.phone_challenge_start(account_id=account.pk, actor=request.user, purpose=purpose)
        except (ValidationError, Throttled) as exc:
            messages.error(request, _error_text(exc) if isinstance(exc, ValidationError) else exc.message)
        return redirect("enamad:identity")
    mobile = landline = None
    if account.mobile_verified_at is None:
        mobile = account_services.phone_challenge_start(account_id=account.pk, actor=request.user,
                                                purpose=PhoneChallenge.Purpose.MOBILE)
    elif account.landline_verified_at is None and account.landline:
        landline = account_services.phone_challenge_start(account_id=account.pk, actor=request.user,
                                                  purpose=PhoneChallenge.Purpose.LANDLINE)
    return render(request, "enamad/identity.html", {
        "account": account, "mobile_challenge": mobile, "landline_challenge": landline,
        "sms_number": settings.ENAMAD_REVERSE_SMS_NUMBER, "ivr_number": settings.ENAMAD_IVR_NUMBER,
        "minutes": settings.ENAMAD_PHONE_CODE_SECONDS // 60,
    })


# --- businesses (N6–N16) -----------------------------------------------------------------------


def _business_steps(business):
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


def _own(request, pk):
    return business_selectors.get_business_for_account(request.account, pk)


@account_required
def business_new(request):
    form = BusinessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            business = business_services.business_create(account_id=request.account.pk, actor=request.user,
                                                data=form.cleaned_data, ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error("domain", exc)
        else:
            messages.success(request, "ثبت دامنه با موفقیت انجام شد.")
            return redirect("enamad:technical", business.pk)
    return render(request, "enamad/business_form.html", {"form": form, "title": "افزودن کسب‌وکار"})


@account_required
def business_detail(request, pk):
    business = _own(request, pk)
    review = business.reviews.prefetch_related("items__item").first()
    return render(request, "enamad/business.html", {
        "business": business, "review": review, "missing": business.missing_for_send(),
        "next_step": next_step(business), **_business_steps(business),
        "seal": getattr(business, "seal", None), "BusinessStatus": BusinessStatus,
        "can_renew": seal_services.renewal_allowed(business, getattr(business, "seal", None)),
    })


@account_required
def business_edit(request, pk):
    business = _own(request, pk)
    if not business.editable:
        messages.error(request, "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
        return redirect("enamad:business", pk)
    initial = {name: business.requested(name) for name in business_services.BUSINESS_FIELDS}
    form = BusinessForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            business_services.business_update(business_id=business.pk, actor=request.user, data=form.cleaned_data,
                                     ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error("domain", exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:business", pk)
        else:
            messages.success(request, "مشخصات کسب‌وکار ذخیره شد.")
            return redirect("enamad:business", pk)
    return render(request, "enamad/business_form.html", {"form": form, "title": "ویرایش مشخصات کسب‌وکار",
                                                         "business": business})


@account_required
def technical(request, pk):
    """N7, N22: the marks on the site are checked by a task ("بررسی کن"); the code e-mailed to
    info@ the domain is sent and entered here."""
    business = _own(request, pk)
    code_form = DomainCodeForm()
    if request.method == "POST":
        action = request.POST.get("action", "check")
        try:
            if action == "email_code":
                code = seal_control.business_send_domain_code(business_id=business.pk, actor=request.user,
                                                          ctx=audit_context(request))
                messages.success(request, f"کد تأییدیه فنی به {code.address} فرستاده شد.")
            elif action == "email_confirm":
                code_form = DomainCodeForm(request.POST)
                if code_form.is_valid():
                    try:
                        seal_control.business_confirm_domain_code(business_id=business.pk, actor=request.user,
                                                              code=code_form.cleaned_data["code"], ctx=audit_context(request))
                    except ValidationError as exc:
                        code_form.add_error("code", exc)
                    else:
                        messages.success(request, "تأییدیه فنی دامنه با کد رایانامه‌ای انجام شد.")
                        return redirect("enamad:technical", pk)
            elif action == "check":
                _request_domain_check(request, business)
            else:
                raise Http404
        except Throttled as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        if action != "email_confirm" or code_form.is_valid():
            return redirect("enamad:technical", pk)
    seal = getattr(business, "seal", None)
    return render(request, "enamad/technical.html", {
        "business": business, "VerificationMethod": VerificationMethod, "code_form": code_form,
        "email_address": control_email_address(business.domain), "email_code": business.domain_email_codes.first(),
        "proof_days": settings.ENAMAD_DOMAIN_EMAIL_PROOF_DAYS,
        "reconfirm": bool(seal and seal.domain_failing_since
                          and business.domain_verified_method == VerificationMethod.EMAIL),
        **_business_steps(business),
    })


def _request_domain_check(request, business) -> None:
    business_services.business_request_domain_check(business_id=business.pk, actor=request.user, ctx=audit_context(request))
    business.refresh_from_db()
    if business.domain_verified_at:
        messages.success(request, "تأییدیه فنی دامنه انجام شد.")
    elif business.domain_check_error:
        # what the check found is on the page itself (technical.html, #technical-error): said once
        messages.warning(request, "تأییدیه فنی هنوز انجام نشده است؛ آنچه بررسی یافت، در همین صفحه آمده است.")
    else:
        messages.info(request, "بررسی دامنه در صف است؛ چند دقیقه دیگر این صفحه را دوباره ببینید.")


@account_required
def service_details(request, pk):
    business = _own(request, pk)
    service = getattr(business, "service", None)
    # In a renewal the page shows the corrections waiting for final approval.
    initial = business.requested_service() if service else {}
    form = ServicesForm(request.POST or None, request.FILES or None, initial=initial,
                        has_licence_file=bool(initial.get("licence_file")))
    if request.method == "POST" and form.is_valid():
        try:
            business_services.business_save_services(business_id=business.pk, actor=request.user, data=form.cleaned_data,
                                            licence_file=form.cleaned_data.get("licence_file"), ctx=audit_context(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:business", pk)
        else:
            messages.success(request, "خدمت موردنظر با موفقیت ثبت شد.")
            return redirect("enamad:business", pk)
    categories = [(c.pk, c.requires_licence, c.authority) for c in form.fields["category"].queryset]
    return render(request, "enamad/services.html", {"form": form, "business": business, "categories": categories,
                                                     **_business_steps(business)})


@account_required
def survey(request, pk):
    business = _own(request, pk)
    if not business.editable:
        messages.error(request, "پس از ارسال پرونده، امکان ویرایش وجود ندارد.")
        return redirect("enamad:business", pk)
    form = SurveyForm(request.POST or None, instance=getattr(business, "survey", None))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in SurveyForm.Meta.fields}
        try:
            business_services.business_save_survey(business_id=business.pk, actor=request.user, data=data, ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:business", pk)
        messages.success(request, "نظرسنجی با موفقیت ثبت شد.")
        return redirect("enamad:business", pk)
    return render(request, "enamad/survey.html", {"form": form, "business": business, **_business_steps(business)})


@account_required
def contacts(request, pk):
    """N10: e-mail by link, phone by IVR code, address by a code posted on paper."""
    business = _own(request, pk)
    code_form = AddressCodeForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "email":
                business_services.business_send_email_link(business_id=business.pk, actor=request.user, ctx=audit_context(request))
                messages.success(request, f"پیوند تأیید به {business.requested('email')} فرستاده شد.")
            elif action == "phone":
                account_services.phone_challenge_start(account_id=request.account.pk, actor=request.user,
                                               purpose=PhoneChallenge.Purpose.BUSINESS_PHONE, business_id=business.pk)
            elif action == "letter":
                business_services.business_send_address_letter(business_id=business.pk, actor=request.user, ctx=audit_context(request))
                messages.success(request, "نامه حاوی کد احراز به نشانی کسب‌وکار پست می‌شود.")
            elif action == "address_code":
                code_form = AddressCodeForm(request.POST)
                if code_form.is_valid():
                    if business_services.business_confirm_address(business_id=business.pk, actor=request.user,
                                                         code=code_form.cleaned_data["code"], ctx=audit_context(request)):
                        messages.success(request, "نشانی کسب‌وکار احراز شد.")
                        return redirect("enamad:contacts", pk)
                    code_form.add_error("code", "کد درست نیست.")
            else:
                raise Http404
        except Throttled as exc:
            messages.error(request, exc.message)
        if action != "address_code" or code_form.is_valid():
            return redirect("enamad:contacts", pk)
    phone_challenge = None
    if business.phone_verified_at is None:
        phone_challenge = (PhoneChallenge.objects.filter(business=business, phone=business.requested("phone"),
                                                         verified_at__isnull=True).first())
        if phone_challenge and not phone_challenge.is_live:
            phone_challenge = None
    return render(request, "enamad/contacts.html", {
        "business": business, "code_form": code_form, "phone_challenge": phone_challenge,
        "ivr_number": settings.ENAMAD_IVR_NUMBER, **_business_steps(business),
    })


def confirm_email(request, token):
    """The e-mailed link shows a page (mail scanners pre-fetch links); only its button (a POST)
    confirms the business e-mail, once."""
    try:
        if request.method != "POST":
            business = business_services.business_email_link_check(token=token)
            template = "enamad/email_confirmed.html" if business.email_verified_at else "enamad/confirm_email.html"
            return render(request, template, {"business": business})
        business = business_services.business_confirm_email(token=token, ctx=audit_context(request))
    except account_services.ActivationError as exc:
        return render(request, "enamad/activation_failed.html", {"message": exc.message}, status=400)
    return render(request, "enamad/email_confirmed.html", {"business": business})


@account_required
def send(request, pk):
    """N11/N12: the checklist shown before sending, then send (or resend after a deficiency)."""
    business = _own(request, pk)
    if request.method == "POST":
        try:
            if business.status == BusinessStatus.DEFICIENT:
                replies = {int(k[6:]): v for k, v in request.POST.items()
                           if k.startswith("reply_") and re.fullmatch(r"[0-9]{1,12}", k[6:])}
                business_services.business_resend(business_id=business.pk, actor=request.user, replies=replies, ctx=audit_context(request))
            else:
                business_services.business_send(business_id=business.pk, actor=request.user, ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("enamad:send", pk)
        messages.success(request, "پرونده برای بررسی کارشناس ارسال شد. وضعیت: در حال بررسی.")
        return redirect("enamad:business", pk)
    review = business.reviews.prefetch_related("items__item").first() if business.status == BusinessStatus.DEFICIENT else None
    items = ChecklistItem.objects.filter(active=True) if business.status == BusinessStatus.DRAFT else []
    return render(request, "enamad/send.html", {
        "business": business, "items": items, "review": review, "missing": business.missing_for_send(),
        **_business_steps(business),
    })


@account_required
def activity(request, pk):
    business = _own(request, pk)
    form = ActivityForm(request.POST or None, initial={"activity_type": business.activity_type})
    if request.method == "POST" and form.is_valid():
        try:
            business_services.business_change_activity(business_id=business.pk, actor=request.user,
                                              activity_type=form.cleaned_data["activity_type"], ctx=audit_context(request))
        except InvalidTransition as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "نوع فعالیت تغییر کرد.")
        return redirect("enamad:business", pk)
    return render(request, "enamad/activity.html", {"form": form, "business": business})


@account_required
@require_POST
def resend_documents(request, pk):
    business = _own(request, pk)
    try:
        business_services.business_resend_documents(business_id=business.pk, actor=request.user, ctx=audit_context(request))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "ارسال دوباره مدارک ثبت شد.")
    return redirect("enamad:business", pk)


@account_required
def seal_code(request, pk):
    """N16: the snippet to paste on the home page."""
    business = _own(request, pk)
    seal = getattr(business, "seal", None)
    if seal is None or business.status != BusinessStatus.APPROVED:
        raise Http404
    base = settings.PUBLIC_BASE_URL
    page = f"{base}{reverse('seal:page')}?id={seal.number}&Code={seal.code}"
    logo = f"{base}{reverse('seal:logo')}?id={seal.number}&Code={seal.code}"
    snippet = (f"<a referrerpolicy='origin' target='_blank' href='{page}'>"
               f"<img referrerpolicy='origin' src='{logo}' alt='نماد اعتماد الکترونیکی' style='cursor:pointer' "
               f"code='{seal.code}'></a>")
    return render(request, "enamad/seal_code.html", {"business": business, "seal": seal, "snippet": snippet})
