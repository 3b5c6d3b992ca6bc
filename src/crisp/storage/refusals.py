"""The points a write has to drop, dropped one by one as InfluxDB 1.x drops them.

A point is refused when one of its fields has another type than the measurement
already has, when one of its keys is a tag where the measurement has a field (or the
reverse: ``points`` has one column per key), or when it belongs to a new series past a
series limit. The rest of the write goes through; the writer hears how many points
were dropped and why (``partial write: … dropped=N``).

Only called when the catalog's strict check failed, so none of this is on the hot
path of a clean write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import KIND_FIELD, KIND_TAG, column_kind
from crisp.storage.catalog import (
    Catalog,
    MeasurementIndex,
    SeriesKey,
    TagRow,
    distinct_tag_rows,
    series_key,
    table_fields,
)

# Joins a row's tag values into one comparable string; absent tags get a marker no
# line-protocol tag value can hold (NUL), so (a, absent) and (a, "") differ.
_SEPARATOR = "\x1f"
_ABSENT = "\x00"


@dataclass
class Refusals:
    tables: list[tuple[str, pa.Table]] = field(default_factory=list)
    dropped: int = 0
    reasons: list[str] = field(default_factory=list)

    def _drop(self, table: pa.Table, refused: pa.Array, reason: str) -> pa.Table:
        count = pc.sum(refused).as_py() or 0
        if not count:
            return table
        self.dropped += count
        self.reasons.append(reason)
        return table.filter(pc.invert(refused))


def drop_refused_points(
    catalog: Catalog,
    database: str,
    tables: Sequence[tuple[str, pa.Table]],
    *,
    max_series_per_measurement: int,
    max_series_per_database: int,
) -> Refusals:
    """The tables without their refused points (a table left empty is left out)."""
    out = Refusals()
    room_in_database = max_series_per_database - catalog.database_series(database)
    for name, table in tables:
        index = catalog.index(database, name)
        if index is not None:
            table = _drop_kind_clashes(out, name, table, index)
        table = _drop_type_conflicts(out, name, table, index)
        table, added = _drop_series_past_limits(
            out,
            database,
            name,
            table,
            index,
            room_in_measurement=max_series_per_measurement - (len(index.series) if index else 0),
            room_in_database=room_in_database,
            limits=(max_series_per_measurement, max_series_per_database),
        )
        room_in_database -= added
        if table.num_rows:
            out.tables.append((name, table))
    return out


def _present(table: pa.Table, column: str) -> pa.Array:
    return pc.is_valid(table.column(column))


def _drop_kind_clashes(
    out: Refusals, name: str, table: pa.Table, index: MeasurementIndex
) -> pa.Table:
    for f in list(table.schema):
        kind = column_kind(f)
        if kind == KIND_TAG and f.name in index.fields:
            clash = f'conflict: input tag "{f.name}" on measurement "{name}" is a field'
        elif kind == KIND_FIELD and f.name in index.tag_values:
            clash = f'conflict: input field "{f.name}" on measurement "{name}" is a tag'
        else:
            continue
        table = out._drop(table, _present(table, f.name), clash)
        table = table.drop_columns([f.name])
    return table


def _drop_type_conflicts(
    out: Refusals, name: str, table: pa.Table, index: MeasurementIndex | None
) -> pa.Table:
    if index is None:
        return table
    for key, ftype in table_fields(table).items():
        existing = index.fields.get(key)
        if existing is None or existing == ftype:
            continue
        reason = (
            f'field type conflict: input field "{key}" on measurement "{name}" is type '
            f"{ftype.value}, already exists as type {existing.value}"
        )
        table = out._drop(table, _present(table, key), reason)
        table = table.drop_columns([key])
    return table


def _drop_series_past_limits(
    out: Refusals,
    database: str,
    name: str,
    table: pa.Table,
    index: MeasurementIndex | None,
    *,
    room_in_measurement: int,
    room_in_database: int,
    limits: tuple[int, int],
) -> tuple[pa.Table, int]:
    """Keep the new series that fit (in key order, so a resend keeps the same ones)."""
    if not table.num_rows:
        return table, 0
    tag_names, rows = distinct_tag_rows(table)
    known = index.series if index is not None else set()
    new: dict[SeriesKey, list[TagRow]] = {}
    for row in rows:
        key = series_key(tag_names, row)
        if key not in known:
            new.setdefault(key, []).append(row)
    room = max(0, min(room_in_measurement, room_in_database))
    if len(new) <= room:
        return table, len(new)
    refused_rows = [row for key in sorted(new)[room:] for row in new[key]]
    if room_in_measurement <= room_in_database:
        reason = (
            f'max-series-per-measurement limit exceeded: measurement "{name}" '
            f"(limit {limits[0]})"
        )
    else:
        reason = (
            f'max-series-per-database limit exceeded: database "{database}" (limit {limits[1]})'
        )
    keys = [_SEPARATOR.join(_ABSENT if v is None else v for v in row) for row in refused_rows]
    refused = pc.is_in(_row_keys(table, tag_names), value_set=pa.array(keys, pa.string()))
    return out._drop(table, refused, reason), room


def _row_keys(table: pa.Table, tag_names: tuple[str, ...]) -> pa.Array:
    if not tag_names:
        return pa.array([""] * table.num_rows, pa.string())
    columns = [pc.fill_null(table.column(t), _ABSENT) for t in tag_names]
    if len(columns) == 1:
        return columns[0]
    return pc.binary_join_element_wise(*columns, _SEPARATOR)
