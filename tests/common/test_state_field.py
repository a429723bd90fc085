"""ramis/common/fsm.py: a status is django-fsm-2's protected FSMField on the model and a plain
CharField in the migrations' historical models."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.db.models.signals import class_prepared
from django_fsm import FSMFieldMixin

from ramis.requests.models import CertificateRequest


@pytest.mark.django_db
def test_a_status_is_protected_on_the_model_and_a_charfield_in_the_migrations():
    field = CertificateRequest._meta.get_field("status")
    assert isinstance(field, FSMFieldMixin) and field.protected
    _name, path, _args, kwargs = field.deconstruct()
    assert path == "django.db.models.CharField" and "protected" not in kwargs
    assert kwargs["max_length"] == 50 and kwargs["default"] == "draft" and kwargs["choices"]

    state = MigrationExecutor(connection).loader.project_state()
    historical = state.apps.get_model("certrequests", "CertificateRequest")._meta.get_field("status")
    assert type(historical) is models.CharField
    assert historical.choices == field.choices and historical.default == field.default


@pytest.mark.django_db
def test_rendering_the_migrations_leaves_no_transition_receivers_behind():
    """Each FSMField connects a ``class_prepared`` receiver; rendered for every migration, they
    piled up and made ``migrate`` on a fresh database a third slower."""
    before = len(class_prepared.receivers)
    state = MigrationExecutor(connection).loader.project_state()
    for _ in range(3):
        state.clear_delayed_apps_cache()
        state.apps  # noqa: B018 - renders every historical model again
    assert len(class_prepared.receivers) == before


def test_a_protected_status_still_refuses_assignment():
    request = CertificateRequest(status="draft")
    with pytest.raises(AttributeError):
        request.status = "issued"
