"""The accounts room's pages (N2–N5): sign-up and activation, login and logout, the profile,
identity documents and phone checks, and getting back in (issue 13, item 8: password reset by
e-mail on Django's views with our templates and outbox, and «resend activation»; the same
answer whatever was typed). They parse input, call a service, render the result."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from certauth.lockouts import add_captcha, password_login_guard
from certauth.selectors import certificate_login_url
from enamad.common import Throttled, error_text
from ramis.common import audit
from ramis.common.context import audit_context
from ramis.common.errors import InvalidTransition
from ramis.common.uploads import serve_private

from . import recovery
from . import services as account_services
from .decorators import account_required
from .forms import (
    GOVERNMENT_FIELDS,
    LEGAL_FIELDS,
    DocumentForm,
    LoginForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    ProfileForm,
    ResendActivationForm,
    SignupForm,
)
from .models import DocumentKind, IdentityDocument, Persona, PhoneChallenge


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
                messages.error(request, error_text(exc))
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
            messages.error(request, error_text(exc) if isinstance(exc, ValidationError) else exc.message)
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


# --- getting back in (issue 13, item 8) ------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "enamad/password_reset.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("enamad:password_reset_done")

    def form_valid(self, form):
        try:
            form.save(request=self.request)
        except Throttled as exc:
            form.add_error("email", exc.message)  # next to the field, the same whether the address has an account
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super(auth_views.PasswordResetView, self).form_valid(form)  # FormView: the redirect


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "enamad/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "enamad/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("enamad:password_reset_complete")

    def get_user(self, uidb64):
        """Only an active e-Namad account's link works here (never a staff member's)."""
        user = super().get_user(uidb64)
        if user is None or user.is_staff or not user.is_active or not hasattr(user, "enamad_account"):
            return None
        return user

    def form_valid(self, form):
        response = super().form_valid(form)
        recovery.password_reset_done(user=form.user, ctx=audit_context(self.request))
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "enamad/password_reset_complete.html"


def resend_activation(request):
    form = ResendActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recovery.activation_resend(identifier=form.cleaned_data["identifier"], ctx=audit_context(request))
        except Throttled as exc:
            form.add_error("identifier", exc.message)
            return render(request, "enamad/resend_activation.html", {"form": form}, status=429)
        return render(request, "enamad/resend_activation_done.html")
    return render(request, "enamad/resend_activation.html", {"form": form})
