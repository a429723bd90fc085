"""Getting back into an e-Namad account (issue 13, item 8): password reset by e-mail on Django's
views with our templates and outbox, and «resend activation». Same answer whatever was typed."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy

from ramis.common.context import audit_context

from .accounts import recovery
from .common import Throttled
from .forms import NewPasswordForm, PasswordResetRequestForm, ResendActivationForm


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "enamad/password_reset.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("enamad:password_reset_done")

    def form_valid(self, form):
        try:
            form.save(request=self.request)
        except Throttled as exc:
            form.add_error(None, exc.message)
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
            form.add_error(None, exc.message)
            return render(request, "enamad/resend_activation.html", {"form": form}, status=429)
        return render(request, "enamad/resend_activation_done.html")
    return render(request, "enamad/resend_activation.html", {"form": form})
