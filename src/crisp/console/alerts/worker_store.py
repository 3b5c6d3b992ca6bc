"""Row updates the worker makes for many rows at once, as one ``executemany`` UPDATE.

Every instance of a rule changes at each evaluation (at least its value and evaluation
time), so storing states is an UPDATE per instance. Django's ``bulk_update`` writes
those as one statement with a ``CASE WHEN pk = … THEN …`` per field and row, which the
database parses and plans anew each time; one prepared ``UPDATE … WHERE id = %s`` run
with many parameter rows costs a fraction of that on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def update_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[tuple[Any, Sequence[Any]]],
    *,
    where: Sequence[str] = (),
) -> None:
    """``UPDATE model SET fields = values WHERE pk = key [AND where = …]`` for each row.

    ``rows`` holds (primary key, values of ``fields`` then of ``where``). Values go
    through each field's own conversion (JSON, datetimes), as the ORM would.
    """
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    set_fields = [_field(model, name) for name in fields]
    where_fields = [_field(model, name) for name in where]
    assignments = ", ".join(f"{quote(_column(f))} = %s" for f in set_fields)
    conditions = " AND ".join(
        f"{quote(_column(f))} = %s" for f in [_field(model, meta.pk.name), *where_fields]
    )
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}"
    every = set_fields + where_fields
    params: list[list[Any]] = []
    for pk, values in rows:
        prepared = [f.get_db_prep_save(v, connection) for f, v in zip(every, values, strict=True)]
        params.append([*prepared[: len(set_fields)], pk, *prepared[len(set_fields) :]])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field


def _column(field: Field[Any, Any]) -> str:
    if field.column is None:
        raise TypeError(f"{field.name} has no column")
    return field.column
