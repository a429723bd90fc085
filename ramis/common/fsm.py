"""django-fsm-2 helpers shared by every room."""

from __future__ import annotations

from django.db import models
from django_fsm import FSMFieldMixin


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
