"""Admin helpers every room uses: an object's audit trail shown on its page, admin edits of
catalogue data audited, private uploads linked through their permission-checked views, and FSM
transitions offered as buttons — only those the user may take, each calling the room's service
(the same write path as the staff views; STYLE 1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django_fsm import can_proceed, has_transition_perm

from . import audit, event_words
from .context import audit_context
from .jalali import jalali_datetime
from .models import AuditEntry


class AuditTrailMixin:
    """Adds a read-only "audit trail" field listing the object's audit entries, oldest first. Where
    each entry came from (address, request id, User-Agent) is shown only to those who may read the
    audit itself (:func:`may_read_audit`); others who may open the object see the trail without it."""

    def get_readonly_fields(self, request, obj=None):
        # e-Namad's managers read the origins of e-Namad's entries only: on e-Namad's objects
        whole = request.user.has_perm("common.view_auditentry") or self.model._meta.app_label == "enamad"
        trail = "audit_trail" if whole and may_read_audit(request) else "audit_trail_without_origin"
        return (*super().get_readonly_fields(request, obj), trail)

    @staticmethod
    def _audit_entries(obj):
        return AuditEntry.objects.for_object(obj).select_related("actor").order_by("id")

    def _trail(self, obj, *, origin: bool):
        if obj is None or obj.pk is None:
            return "—"
        row = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td>" + ("<td>{}</td>" if origin else "") + "</tr>"
        rows = format_html_join("", row, (
            (jalali_datetime(e.created_at), format_html("{} <code>{}</code>", event_words.phrase(e.event, e.target_type), e.event),
             e.actor_repr, event_words.status_word(e.target_type, e.old) or "—",
             event_words.status_word(e.target_type, e.new) or "—", e.reason, *((audit_origin(e),) if origin else ()))
            for e in self._audit_entries(obj)
        ))
        head = mark_safe("<th>از کجا</th>" if origin else "")  # noqa: S308 - a constant
        return format_html(
            '<table class="audit-trail"><thead><tr><th>زمان</th><th>رویداد</th><th>کاربر</th><th>وضعیت</th>'
            "<th>دلیل</th>{}</tr></thead><tbody>{}</tbody></table>", head,
            rows or format_html("<tr><td colspan={}>—</td></tr>", 6 if origin else 5),
        )

    def audit_trail(self, obj):
        return self._trail(obj, origin=True)

    def audit_trail_without_origin(self, obj):
        return self._trail(obj, origin=False)

    audit_trail.short_description = audit_trail_without_origin.short_description = "رد ممیزی"


def request_entries_link(request_id: str, *, full: bool = False):
    """The request id of an audit entry as a link to every entry that request wrote (the audit list
    filtered on it, through the column's index); ``full`` adds the words."""
    if not request_id:
        return "—"
    url = f"{reverse('admin:common_auditentry_changelist')}?{urlencode({'request_id': request_id})}"
    if full:
        return format_html('<code>{}</code> — <a href="{}">همهٔ رویدادهای این درخواست</a>', request_id, url)
    return format_html('<a href="{}"><code>{}</code></a>', url, request_id)


def audit_origin(entry: AuditEntry):
    """Where an entry came from, for staff: the address, the request id (a link to the request's other
    entries) and the User-Agent (its title); a dash for the system."""
    if not (entry.ip or entry.request_id or entry.user_agent):
        return "—"
    return format_html('<span class="audit-origin" title="{}"><bdi>{}</bdi> {}</span>', entry.user_agent or "",
                       entry.ip or "", request_entries_link(entry.request_id))


def may_read_audit(request, entry: AuditEntry | None = None) -> bool:
    """Whether ``request``'s user may read the audit trail (``entry``: that entry of it): asked of the
    admin itself (its site's rule, active verified staff, and the audit list's view permission, which
    for e-Namad's managers covers e-Namad's entries only), so pages outside the admin that show where
    entries came from never show them to more people than the admin does."""
    site = admin.site
    model_admin = site.get_model_admin(AuditEntry)
    return bool(site.has_permission(request) and model_admin.has_view_permission(request, entry))


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


def _plain(value):
    """A form or model value as JSON for the audit trail (a related object as its pk)."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, (list, tuple, set, QuerySet)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _snapshot(obj) -> dict:
    return {f.name: _plain(f.value_from_object(obj)) for f in obj._meta.concrete_fields}


class AuditedAdminMixin:
    """Admin edits of data that decide what people may do (offices, clerks, tariffs, the token
    catalogue, holidays, working hours, document requirements) go into the audit trail (X2), not
    only Django's admin log: ``<model>.added`` / ``.changed`` / ``.deleted`` on the object, with
    each changed field's old and new value (``extra["changes"]``) or, on deletion, what the row
    held. Inline rows are audited the same way, on their own object. Making a user a clerk grants
    access to an office's data (X7): ``clerk.added`` names the user and the office."""

    def _record(self, request, obj, event: str, extra: dict) -> None:
        audit.record(actor=request.user, target=obj, event=f"{obj._meta.model_name}.{event}", ctx=audit_context(request),
                     extra={"admin": True, **extra})

    def _record_form(self, request, form, change: bool) -> None:
        obj = form.instance
        if change:
            changes = {name: [_plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))]
                       for name in form.changed_data}
            changes = {name: values for name, values in changes.items() if values[0] != values[1]}
            if changes:
                self._record(request, obj, "changed", {"changes": changes})
        else:
            self._record(request, obj, "added", {"changes": {k: [None, v] for k, v in _snapshot(obj).items()}})

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._record_form(request, form, change)

    def delete_model(self, request, obj):
        self._record(request, obj, "deleted", {"values": _snapshot(obj)})  # before: the row still has its pk
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._record(request, obj, "deleted", {"values": _snapshot(obj), "bulk": True})
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk is not None:
                self._record(request, inline_form.instance, "deleted", {"values": _snapshot(inline_form.instance)})
        super().save_formset(request, form, formset, change)
        deleted = set(formset.deleted_forms)
        for inline_form in formset.forms:
            if inline_form in deleted or not inline_form.has_changed() or inline_form.instance.pk is None:
                continue
            self._record_form(request, inline_form, change=inline_form in formset.initial_forms)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="دلیل", widget=forms.Textarea(attrs={"rows": 3}))


@dataclass(frozen=True)
class TransitionButton:
    """An FSM transition offered on the object's admin page.

    ``service(obj, user, data, ctx)`` (``ctx``: the request's ``AuditContext``) calls the room's service; ``form`` (optional) is asked
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
                button.service(obj, request.user, form.cleaned_data if form else {}, audit_context(request))
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
