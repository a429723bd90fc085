"""django-fsm-2 helpers shared by every room."""

from __future__ import annotations

from django.db import models
from django_fsm import FSMField, FSMFieldMixin


class ProtectedFSMModel(models.Model):
    """Base for models with ``FSMField(protected=True)``.

    A protected field refuses assignment once loaded, which also breaks Django's
    ``refresh_from_db()``; this drops the loaded value first so a refresh reads the row again.
    Transitions remain the only way to change the state in code.
    """

    class Meta:
        abstract = True

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        for field in self._meta.concrete_fields:
            if isinstance(field, FSMFieldMixin) and field.protected and (fields is None or field.attname in fields):
                self.__dict__.pop(field.attname, None)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class StateField(FSMField):
    """django-fsm-2's ``FSMField``, which migrations see as the ``CharField`` it is in the database.

    Every ``FSMField`` connects a receiver to ``class_prepared`` when it joins a model, and the
    historical models that ``migrate`` renders for each migration are models too: their receivers
    pile up, and every later model class asks each of them. On a fresh database that was about a
    quarter of ``manage.py migrate`` (7.5 → 5.6 s on a 2-core machine, 2026-12-07; 474,726 receiver
    calls, 83,561 after). The migrations' historical models need no transitions, so they get a
    plain ``CharField``: same column, same choices and default.
    """

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("protected", None)
        return name, "django.db.models.CharField", args, kwargs
