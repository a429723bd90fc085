"""Statements whose SQL Django writes once per process: the issuance's hot path.

Django's compiler writes a statement's SQL anew each time it runs. On the issuance path (the CA
row, the certificate, its two OCSP answers, the audit entry) that cost about 1 ms of a 5.3 ms
issuance on SQLite, where the database's own work for those four statements is under 0.1 ms
(measured 2026-12-07 with ``time.process_time`` around each statement: the ORM's ``get`` of the CA
row 0.22–0.31 ms against 0.02 ms for the same SQL on a cursor; see docs/developer/benchmarks.md).

These helpers keep Django's own SQL: its compiler writes it the first time, for one model, field
list, row count, conflict clause and database alias, and later calls only supply the values,
prepared by the very field methods Django's insert uses (``pre_save`` with ``add=True``: the
``auto_now_add`` times; ``get_db_prep_save``), or, for a lookup, by ``get_db_prep_value``. What
differs from ``Model.save()`` / ``bulk_create()``, on purpose:

* no ``pre_save``/``post_save`` signals are sent — a model that has receivers for them is written
  through the ORM instead (checked at each call), so nothing that listens is ever skipped;
* the model's own ``save()`` is not called: callers use :func:`insert` only for rows that are
  new by construction (a fresh certificate, its answers, an audit entry, whose ``save`` only
  refuses updates).

``tests/common/test_prepared.py`` checks the rows and instances against the ORM's on the
database the suite runs on (SQLite and PostgreSQL in CI).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import signals
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

_INSERTS: dict[tuple, tuple[str, list, bool]] = {}
_SELECTS: dict[tuple, tuple[str, list, Any, list[str]]] = {}


def _listened(model: type[models.Model]) -> bool:
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)


def insert(
    objs: Sequence[models.Model],
    *,
    update_conflicts: tuple[Sequence[str], Sequence[str]] | None = None,
) -> None:
    """INSERT ``objs`` (new instances of one model) in one statement, setting their primary keys
    as ``save()`` does (only for a single row: a bulk insert sets none, as ``bulk_create`` on
    SQLite). ``update_conflicts`` = (unique field names, field names to update): an upsert, as
    ``bulk_create(update_conflicts=True, ...)``."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    if _listened(model):
        if update_conflicts is None and len(objs) == 1:
            objs[0].save(using=alias)
        else:
            unique, update = update_conflicts or ((), ())
            model._default_manager.using(alias).bulk_create(
                objs, update_conflicts=bool(update_conflicts), unique_fields=unique or None,
                update_fields=update or None)
        return
    connection = connections[alias]
    opts = model._meta
    key = (model, alias, len(objs), tuple(tuple(x) for x in update_conflicts or ()))
    plan = _INSERTS.get(key)
    if plan is None:
        fields = [f for f in opts.concrete_fields if not f.generated and not (f.primary_key and f.auto_created)]
        if update_conflicts is None:
            query = InsertQuery(model)
        else:
            unique, update = update_conflicts
            query = InsertQuery(model, on_conflict=OnConflict.UPDATE, unique_fields=[opts.get_field(n) for n in unique],
                                update_fields=[opts.get_field(n) for n in update])
        query.insert_values(fields, list(objs))
        compiler = query.get_compiler(using=alias)
        returning = len(objs) == 1 and connection.features.can_return_columns_from_insert
        compiler.returning_fields = [opts.pk] if returning else None
        (sql, _params), = compiler.as_sql()
        plan = _INSERTS[key] = (sql, fields, returning)
    sql, fields, returning = plan
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for obj in objs for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if len(objs) == 1:
            obj = objs[0]
            if returning:
                (pk,) = connection.ops.fetch_returned_insert_columns(cursor, [])
            else:
                pk = connection.ops.last_insert_id(cursor, opts.db_table, opts.pk.column)
            obj.pk = opts.pk.to_python(pk)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def get_or_none(model: type[models.Model], **exact: Any) -> models.Model | None:
    """``model.objects.filter(**exact).first()`` by primary key order — the instance Django builds
    from the row (its converters applied), or None — with the SELECT written once."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    names = tuple(sorted(exact))
    key = (model, alias, names)
    plan = _SELECTS.get(key)
    if plan is None:
        compiler = model._default_manager.using(alias).filter(**exact).order_by("pk")[:1].query.get_compiler(alias)
        sql, params = compiler.as_sql()
        if len(params) != len(names):  # a lookup that is not one plain parameter each: no plan
            return model._default_manager.using(alias).filter(**exact).order_by("pk").first()
        columns = [col for col, _, _ in compiler.select]
        converters = compiler.get_converters(columns)
        attnames = [col.target.attname for col in columns]
        plan = _SELECTS[key] = (sql, [model._meta.get_field(n) for n in names], converters, attnames)
    sql, lookup_fields, converters, attnames = plan
    params = [f.get_db_prep_value(exact[f.name], connection, prepared=False) for f in lookup_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        for pos, (convs, expression) in converters.items():
            value = row[pos]
            for converter in convs:
                value = converter(value, expression, connection)
            row = (*row[:pos], value, *row[pos + 1:])
    return model.from_db(alias, attnames, row)
