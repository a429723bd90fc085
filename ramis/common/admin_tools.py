"""Admin helpers every room uses: an object's audit trail shown on its page, and its FSM
transitions offered as buttons — only those the user may take, each calling the room's service
(the same write path as the staff views; STYLE 1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django_fsm import can_proceed, has_transition_perm

from .jalali import jalali_datetime
from .models import AuditEntry


class AuditTrailMixin:
    """Adds a read-only "audit trail" field listing the object's audit entries, oldest first."""

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "audit_trail")

    @staticmethod
    def _audit_entries(obj):
        return AuditEntry.objects.for_object(obj).select_related("actor").order_by("id")

    def audit_trail(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>", (
            (jalali_datetime(e.created_at), e.event, e.actor_repr, e.old or "·", e.new or "·", e.reason)
            for e in self._audit_entries(obj)
        ))
        return format_html(
            '<table class="audit-trail"><thead><tr><th>زمان</th><th>رویداد</th><th>کاربر</th><th>وضعیت</th>'
            "<th>دلیل</th></tr></thead><tbody>{}</tbody></table>", rows or mark_safe("<tr><td colspan=5>—</td></tr>"),  # noqa: S308 - a constant
        )

    audit_trail.short_description = "رد ممیزی"


def private_file_link(field: str, kind_field: str, url_name: str, description: str):
    """An admin display of a private upload: a link to the permission-checked view ``url_name``
    (taking the object's pk) that serves it, never the storage URL (nothing serves that; X8).
    Use as ``power_link = private_file_link("power_file", "power_file_kind", "desk:…", "…")`` with
    the file fields excluded and ``power_link`` in ``readonly_fields``."""

    @admin.display(description=description)
    def link(self, obj):
        if not getattr(obj, field):
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">دریافت ({})</a>',
                           reverse(url_name, args=[obj.pk]), getattr(obj, kind_field).upper())

    return link


class ReasonForm(forms.Form):
    reason = forms.CharField(label="دلیل", widget=forms.Textarea(attrs={"rows": 3}))


@dataclass(frozen=True)
class TransitionButton:
    """An FSM transition offered on the object's admin page.

    ``service(obj, user, data, request)`` calls the room's service; ``form`` (optional) is asked
    first and its ``cleaned_data`` passed as ``data``; ``allowed(obj, user)`` replaces the
    transition's own ``permission`` check when the service authorises by something else."""

    name: str
    label: str
    service: Callable[[Any, Any, dict, Any], Any]
    form: type[forms.Form] | None = None
    allowed: Callable[[Any, Any], bool] | None = None
    field: str | None = None  # the FSM field, when the model has several


class TransitionButtonsMixin:
    transition_buttons: tuple[TransitionButton, ...] = ()
    change_form_template = "admin/fsm_change_form.html"

    def available_transitions(self, request, obj) -> list[TransitionButton]:
        if obj is None:
            return []
        out = []
        for button in self.transition_buttons:
            method = getattr(obj, button.name)
            if not can_proceed(method):
                continue
            ok = button.allowed(obj, request.user) if button.allowed else has_transition_perm(method, request.user)
            if ok:
                out.append(button)
        return out

    def get_urls(self):
        opts = self.model._meta
        return [
            path("<path:object_id>/transition/<str:name>/", self.admin_site.admin_view(self.transition_view),
                 name=f"{opts.app_label}_{opts.model_name}_transition"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        opts = self.model._meta
        buttons = [
            (b, reverse(f"admin:{opts.app_label}_{opts.model_name}_transition", args=[obj.pk, b.name]))
            for b in self.available_transitions(request, obj)
        ] if obj is not None else []
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), "transition_buttons": buttons})

    def transition_view(self, request, object_id, name):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        button = next((b for b in self.available_transitions(request, obj) if b.name == name), None)
        if button is None:
            raise PermissionDenied
        opts = self.model._meta
        back = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        form = button.form(request.POST or None) if button.form else None
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                button.service(obj, request.user, form.cleaned_data if form else {}, request)
            except PermissionDenied:
                self.message_user(request, "اجازه این کار را ندارید.", messages.ERROR)
            except Exception as exc:
                if not hasattr(exc, "message"):
                    raise
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"«{button.label}» انجام شد.", messages.SUCCESS)
            return redirect(back)
        return TemplateResponse(request, "admin/fsm_transition.html", {
            **self.admin_site.each_context(request), "title": button.label, "object": obj, "form": form,
            "opts": opts, "back": back, "button": button,
        })
