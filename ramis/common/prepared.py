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

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import connections, models, router, transaction
from django.db.models import signals
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
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
        fields = _fields(model)
        returning = len(objs) == 1 and connection.features.can_return_columns_from_insert
        sql, _params = _insert_sql(model, objs, fields, alias, update_conflicts, returning=returning)
        plan = _INSERTS[key] = (sql, fields, returning)
    sql, fields, returning = plan
    params = _row_params(fields, objs, connection)
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


# --------------------------------------------------------------------------
# A row and the rows that point to it, in one statement (PostgreSQL)
# --------------------------------------------------------------------------
#
# An issuance writes the certificate, its OCSP answers (which point to it) and its audit entry
# (whose target_id is its id as text). On PostgreSQL each statement is a round trip, and in a
# transaction of their own five (BEGIN, three INSERTs, COMMIT). PostgreSQL runs data-modifying
# statements inside WITH: the parent's INSERT … RETURNING id is one, each group of dependents
# another whose link column reads that id, and the whole is one statement, atomic by itself.
# SQLite has no data-modifying WITH: ``insert_linked`` answers False there, and ``write_linked``
# (what callers use) writes the rows one INSERT each, in a transaction.

_LINKED: dict[tuple, tuple[str, list] | None] = {}
_PARENT_CTE = "ramis_parent"


class Link(NamedTuple):
    """A group of new rows of one model that point to the parent: ``field`` (a foreign key to it,
    or, ``as_text``, a text column holding its id) and, as for :func:`insert`, ``update_conflicts``."""

    objs: Sequence[models.Model]
    field: str
    as_text: bool = False
    update_conflicts: tuple[Sequence[str], Sequence[str]] | None = None


def _row_params(fields: list, objs: Sequence[models.Model], connection, skip=None) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, True), connection=connection)
            for obj in objs for f in fields if f is not skip]


def _insert_sql(model, objs, fields, alias, update_conflicts, link_field=None, link_sql=None, returning=False):
    """Django's own SQL for these rows (and its parameters); ``link_field``'s value ``link_sql``."""
    opts = model._meta
    if update_conflicts is None:
        query = InsertQuery(model)
    else:
        unique, update = update_conflicts
        query = InsertQuery(model, on_conflict=OnConflict.UPDATE, unique_fields=[opts.get_field(n) for n in unique],
                            update_fields=[opts.get_field(n) for n in update])
    saved = [getattr(obj, link_field.attname) for obj in objs] if link_field is not None else []
    try:
        if link_field is not None:
            for obj in objs:
                setattr(obj, link_field.attname, RawSQL(link_sql, ()))  # noqa: S611 - quoted names from the models, no value
        query.insert_values(fields, list(objs))
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = [opts.pk] if returning else None
        (sql, params), = compiler.as_sql()
    finally:
        for obj, value in zip(objs, saved, strict=False):
            setattr(obj, link_field.attname, value)
    return sql, list(params)


def insert_linked(parent: models.Model, links: Sequence[Link]) -> bool:
    """On PostgreSQL, INSERT ``parent`` (a new instance) and every group of ``links`` in one
    statement; set ``parent.pk`` and each linked row's link to it (the linked rows' own primary
    keys are not read back, as for a bulk :func:`insert`). True when written; False — nothing
    written — where it does not apply (another database; a model with ``pre_save``/``post_save``
    receivers, which must go through the ORM): :func:`write_linked` then writes them with
    :func:`insert`, in a transaction. The SQL is Django's for each INSERT, written once per
    process, and checked then: the parameters given later are those Django gave for the same rows,
    or no plan is kept."""
    model = type(parent)
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql" or _listened(model) or any(_listened(type(link.objs[0])) for link in links):
        return False
    key = (model, alias, tuple((type(link.objs[0]), len(link.objs), link.field, link.as_text,
                                tuple(tuple(x) for x in link.update_conflicts or ())) for link in links))
    plan = _LINKED.get(key, False)
    if plan is False:
        plan = _LINKED[key] = _linked_plan(parent, links, connection, alias)
    if plan is None:
        return False
    sql, layout = plan
    params = _row_params(layout[0][0], [parent], connection)
    for (fields, link_field), link in zip(layout[1:], links, strict=True):
        params += _row_params(fields, link.objs, connection, skip=link_field)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    parent.pk = model._meta.pk.to_python(pk)
    for obj in (parent, *(o for link in links for o in link.objs)):
        obj._state.adding = False
        obj._state.db = alias
    for (_fields, link_field), link in zip(layout[1:], links, strict=True):
        _point(link.objs, link_field, link.as_text, parent)
    return True


def _point(objs: Sequence[models.Model], field, as_text: bool, parent: models.Model) -> None:
    """Each of ``objs``' ``field`` to ``parent``: its id as text, or the related object as Django
    sets it (the id, and the object itself without a query when read)."""
    for obj in objs:
        if as_text:
            setattr(obj, field.attname, str(parent.pk))
        else:
            setattr(obj, field.name, parent)


def write_linked(parent: models.Model, links: Sequence[Link]) -> None:
    """INSERT ``parent`` and every group of ``links``, all or nothing, each linked row pointing to
    it: in one statement where :func:`insert_linked` applies (PostgreSQL, outside a transaction),
    else one :func:`insert` each in a transaction (a savepoint inside the caller's)."""
    alias = router.db_for_write(type(parent))
    if not connections[alias].in_atomic_block and insert_linked(parent, links):
        return
    with transaction.atomic(using=alias):
        insert([parent])
        for link in links:
            _point(link.objs, type(link.objs[0])._meta.get_field(link.field), link.as_text, parent)
            insert(link.objs, update_conflicts=link.update_conflicts)


def _fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.generated and not (f.primary_key and f.auto_created)]


def _comparable(params: list) -> list:
    """Parameters compared by value: psycopg's wrappers (``Jsonb``, ``Binary``) by their type and
    object, a time by its type (an ``auto_now_add`` field's ``pre_save`` gives the time of each call)."""
    return [(type(p), p.obj) if hasattr(p, "obj")
            else type(p) if isinstance(p, dt.datetime) else p for p in params]


def _linked_plan(parent, links, connection, alias) -> tuple[str, list] | None:
    model = type(parent)
    fields = _fields(model)
    parent_sql, parent_params = _insert_sql(model, [parent], fields, alias, None, returning=True)
    if _comparable(parent_params) != _comparable(_row_params(fields, [parent], connection)):
        return None
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    parts = [f'"{_PARENT_CTE}" AS ({parent_sql})']
    layout = [(fields, None)]
    for i, link in enumerate(links):
        linked = type(link.objs[0])
        linked_fields = _fields(linked)
        link_field = linked._meta.get_field(link.field)
        cast = "::text" if link.as_text else ""
        sql, params = _insert_sql(linked, link.objs, linked_fields, alias, link.update_conflicts,
                                  link_field, f'(SELECT {pk_column}{cast} FROM "{_PARENT_CTE}")')  # noqa: S608 - names only
        if _comparable(params) != _comparable(_row_params(linked_fields, link.objs, connection, skip=link_field)):
            return None
        parts.append(f'"ramis_linked_{i}" AS ({sql})')
        layout.append((linked_fields, link_field))
    return f'WITH {", ".join(parts)} SELECT {pk_column} FROM "{_PARENT_CTE}"', layout  # noqa: S608 - Django's SQL, names
