"""Admin edits of the catalogue and of clerks are audited (X2, X7): offices and their working
hours, clerks, tariffs, the token catalogue, holidays and document requirements, through the
real admin pages as an SEO reviewer posts them — each add, change and delete (one by one or in
bulk) leaves an audit row on the object, with the old and new value of each changed field."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ramis.common.models import AuditEntry
from ramis.offices.models import Clerk, Holiday, Tariff, TokenModel, WorkingPeriod
from ramis.requests.models import DocumentRequirement
from tests.conftest import make_staff


def _url(model, action="changelist", *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _as_posted(value):
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return "" if value is None else value


def _form_data(response) -> dict:
    """What the admin's add or change page posts back untouched: its form and its inline formsets."""
    def fields(form, prefix=None):
        out = {}
        for name in form.fields:
            value = form[name].value()
            if value is not False:  # an unticked box is not posted
                out[form.add_prefix(name) if prefix is None else f"{prefix}-{name}"] = _as_posted(value)
        return out

    data = fields(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        for form in formset.initial_forms:
            data.update(fields(form, form.prefix))
    return {k: v for k, v in data.items() if v != ""}


def _entries(obj, event):
    return AuditEntry.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk), event=event)


def test_making_a_user_a_clerk_and_moving_them_is_audited(reviewer_client, reviewer, office, other_office):
    user = make_staff("new-clerk")
    response = reviewer_client.post(_url(Clerk, "add"), {"user": user.pk, "office": office.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk = Clerk.objects.get(user=user)
    added = _entries(clerk, "clerk.added").get()
    assert added.actor_id == reviewer.pk and added.extra["admin"] is True
    assert added.extra["changes"]["user"] == [None, user.pk] and added.extra["changes"]["office"] == [None, office.pk]

    page = reviewer_client.get(_url(Clerk, "change", clerk.pk))
    response = reviewer_client.post(_url(Clerk, "change", clerk.pk), {**_form_data(page), "office": other_office.pk})
    assert response.status_code == 302
    changed = _entries(clerk, "clerk.changed").get()
    assert changed.extra["changes"] == {"office": [office.pk, other_office.pk]}  # only what changed
    # the object's admin page shows its trail
    assert "clerk.changed" in reviewer_client.get(_url(Clerk, "change", clerk.pk)).content.decode()


def test_saving_without_a_change_writes_no_row(reviewer_client, catalogue):
    tariff = Tariff.objects.first()
    page = reviewer_client.get(_url(Tariff, "change", tariff.pk))
    assert reviewer_client.post(_url(Tariff, "change", tariff.pk), _form_data(page)).status_code == 302
    assert not _entries(tariff, "tariff.changed").exists()


def test_tariff_and_token_model_changes_carry_old_and_new(reviewer_client, catalogue):
    tariff = Tariff.objects.first()
    old = tariff.treasury_rials
    page = reviewer_client.get(_url(Tariff, "change", tariff.pk))
    reviewer_client.post(_url(Tariff, "change", tariff.pk), {**_form_data(page), "treasury_rials": old + 1000})
    assert _entries(tariff, "tariff.changed").get().extra["changes"] == {"treasury_rials": [old, old + 1000]}

    token_model = TokenModel.objects.filter(is_active=True).first()
    page = reviewer_client.get(_url(TokenModel, "change", token_model.pk))
    data = _form_data(page)
    del data["is_active"]  # unticked
    reviewer_client.post(_url(TokenModel, "change", token_model.pk), data)
    assert _entries(token_model, "tokenmodel.changed").get().extra["changes"] == {"is_active": [True, False]}


def test_holidays_deleted_one_by_one_and_in_bulk_are_audited(reviewer_client, reviewer, office):
    days = [Holiday.objects.create(date=dt.date(2025, 3, 20 + i), title=f"نوروز {i}", office=office) for i in range(3)]
    response = reviewer_client.post(_url(Holiday, "delete", days[0].pk), {"post": "yes"})
    assert response.status_code == 302 and not Holiday.objects.filter(pk=days[0].pk).exists()
    entry = _entries(days[0], "holiday.deleted").get()
    assert entry.actor_id == reviewer.pk
    assert entry.extra["values"] == {"id": days[0].pk, "date": "2025-03-20", "title": "نوروز 0", "office": office.pk}

    response = reviewer_client.post(_url(Holiday), {"action": "delete_selected", "post": "yes",
                                                    "_selected_action": [days[1].pk, days[2].pk]})
    assert response.status_code == 302 and not Holiday.objects.exists()
    for day in days[1:]:
        entry = _entries(day, "holiday.deleted").get()
        assert entry.extra["bulk"] is True and entry.extra["values"]["title"] == day.title


def test_an_offices_working_hours_edited_inline_are_audited(reviewer_client, office):
    period = WorkingPeriod.objects.create(office=office, weekday=0, start=dt.time(9, 30), end=dt.time(12, 30))
    doomed = WorkingPeriod.objects.create(office=office, weekday=1, start=dt.time(9, 30), end=dt.time(12, 30))
    page = reviewer_client.get(_url(office, "change", office.pk))
    data = _form_data(page)
    forms = {data[f"working_periods-{i}-id"]: i for i in range(2)}
    changed, deleted = forms[period.pk], forms[doomed.pk]
    data.update({
        "name": "دفتر مرکزی تهران", f"working_periods-{changed}-end": "13:00:00",
        f"working_periods-{deleted}-DELETE": "on",
        "working_periods-TOTAL_FORMS": 3, "working_periods-2-office": office.pk, "working_periods-2-weekday": 2,
        "working_periods-2-start": "13:30", "working_periods-2-end": "15:00",
    })
    response = reviewer_client.post(_url(office, "change", office.pk), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert _entries(office, "registrationoffice.changed").get().extra["changes"] == {
        "name": ["دفتر تهران", "دفتر مرکزی تهران"]}
    assert _entries(period, "workingperiod.changed").get().extra["changes"] == {"end": ["12:30:00", "13:00:00"]}
    assert _entries(doomed, "workingperiod.deleted").get().extra["values"]["weekday"] == 1
    new = WorkingPeriod.objects.get(office=office, weekday=2)
    assert _entries(new, "workingperiod.added").get().extra["changes"]["start"] == [None, "13:30:00"]


def test_document_requirements_edited_in_the_list_are_audited(reviewer_client, catalogue):
    requirement = DocumentRequirement.objects.order_by("order", "pk").first()
    page = reviewer_client.get(_url(DocumentRequirement))
    formset = page.context["cl"].formset
    data = {formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()}
    for form in formset.forms:
        for name in form.fields:
            value = form[name].value()
            if value is not False:
                data[form.add_prefix(name)] = _as_posted(value)
        if form.instance.pk == requirement.pk:
            data.pop(form.add_prefix("required"), None)
    data["_save"] = "Save"
    response = reviewer_client.post(_url(DocumentRequirement), data)
    assert response.status_code == 302
    assert _entries(requirement, "documentrequirement.changed").get().extra["changes"] == {"required": [True, False]}
