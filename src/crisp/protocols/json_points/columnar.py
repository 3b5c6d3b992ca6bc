"""A fast reader for JSON points bodies whose items share a few shapes.

The item-by-item reader checks and appends every tag and field of every item in
Python, about 2 µs per value. Items of one body mostly repeat a handful of shapes
(measurement, tag keys, field keys and value types): this reader keys each item by
its shape with a few C-level calls, keeps its values as tuples, checks each shape
once, and turns each shape's rows into Arrow columns with one transpose.

It reads only bodies every item of which the item-by-item reader would accept with
the same result: items are objects with a non-empty string measurement, string tag
values, non-empty field objects of bools, ints, floats and strings, and integer or
absent timestamps; within a measurement a key keeps one role and one type, and no
key is ``time``. Anything else returns ``None`` and the caller reads the body item
by item, which also words the errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa

from crisp.core.batch import (
    TIME_COLUMN,
    FieldType,
    MeasurementBatch,
    PointBatch,
    measurement_schema,
)

_FIELD_TYPES: dict[type, FieldType] = {
    bool: FieldType.BOOLEAN,
    int: FieldType.INTEGER,
    float: FieldType.FLOAT,
    str: FieldType.STRING,
}
_NONE_TYPE = type(None)

Shape = tuple[str, tuple[str, ...], tuple[str, ...], tuple[type, ...]]


class _Decline(Exception):
    pass


@dataclass
class _Rows:
    """The items of one shape: their positions, tag values, field values and times."""

    items: list[int] = field(default_factory=list)
    tags: list[tuple[object, ...]] = field(default_factory=list)
    fields: list[tuple[object, ...]] = field(default_factory=list)
    times: list[object] = field(default_factory=list)


def read_points(items: list[object], default_time_ns: int) -> PointBatch | None:
    """The points of the decoded items, or ``None`` to decline (see module docstring)."""
    try:
        return _read(items, default_time_ns)
    except _Decline:
        return None


def _read(items: list[object], default_time_ns: int) -> PointBatch:
    shapes: dict[Shape, _Rows] = {}
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise _Decline
        measurement = item.get("measurement")
        tags = item.get("tags")
        fields = item.get("fields")
        if type(measurement) is not str or type(tags) is not dict or type(fields) is not dict:
            raise _Decline
        field_values = tuple(fields.values())
        # Tag value types are checked per column, by Arrow (strings only).
        shape = (measurement, tuple(tags), tuple(fields), tuple(map(type, field_values)))
        rows = shapes.get(shape)
        if rows is None:
            rows = shapes[shape] = _Rows()
        rows.items.append(index)
        rows.tags.append(tuple(tags.values()))
        rows.fields.append(field_values)
        rows.times.append(item.get("timestamp"))
    by_measurement: dict[str, list[tuple[Shape, _Rows]]] = {}
    for shape, rows in shapes.items():
        _check_shape(shape)
        by_measurement.setdefault(shape[0], []).append((shape, rows))
    # Measurements in order of their first item, as the item-by-item reader has them.
    ordered = sorted(by_measurement.items(), key=lambda entry: entry[1][0][1].items[0])
    batch = PointBatch()
    for measurement, groups in ordered:
        batch.measurements[measurement] = _table(measurement, groups, default_time_ns)
    return batch


def _check_shape(shape: Shape) -> None:
    measurement, tag_keys, field_keys, field_types = shape
    if not measurement or not field_keys:
        raise _Decline
    if any(kind not in _FIELD_TYPES for kind in field_types):
        raise _Decline
    keys = (*tag_keys, *field_keys)
    if "" in keys or TIME_COLUMN in keys:
        raise _Decline


def _table(
    measurement: str, groups: list[tuple[Shape, _Rows]], default_time_ns: int
) -> MeasurementBatch:
    tag_keys: set[str] = set()
    field_types: dict[str, FieldType] = {}
    for (_, keys, names, kinds), _ in groups:
        tag_keys.update(keys)
        for name, kind in zip(names, kinds, strict=True):
            if field_types.setdefault(name, _FIELD_TYPES[kind]) is not _FIELD_TYPES[kind]:
                raise _Decline  # first type wins: the item reader rejects the others
    if not tag_keys.isdisjoint(field_types):
        raise _Decline
    columns: dict[str, list[pa.Array]] = {key: [] for key in (*tag_keys, *field_types)}
    times: list[pa.Array] = []
    for (_, keys, names, _), rows in groups:
        count = len(rows.items)
        times.append(_times(rows.times, default_time_ns))
        tag_columns = dict(zip(keys, zip(*rows.tags, strict=True), strict=True)) if keys else {}
        field_columns = dict(zip(names, zip(*rows.fields, strict=True), strict=True))
        for key in tag_keys:
            values = tag_columns.get(key)
            columns[key].append(
                _tag_array(values) if values is not None else pa.nulls(count, type=pa.string())
            )
        for name, field_type in field_types.items():
            values = field_columns.get(name)
            columns[name].append(
                _field_array(values, field_type)
                if values is not None
                else pa.nulls(count, type=field_type.arrow_type)
            )
    order = _item_order(groups)
    present_tags = [key for key in tag_keys if any(a.null_count < len(a) for a in columns[key])]
    schema = _schema(tuple(sorted(present_tags)), tuple(sorted(field_types.items())))
    arrays = [_merged(times, order)]
    arrays += [_merged(columns[column.name], order) for column in list(schema)[1:]]
    return MeasurementBatch(measurement, pa.Table.from_arrays(arrays, schema=schema))


def _tag_array(values: tuple[object, ...]) -> pa.Array:
    # Strings only: a number, bool or null tag is converted (or dropped) by the
    # item reader, and would need its key checked differently.
    if None in values:
        raise _Decline
    # An empty tag value is no tag, as in the item reader.
    return _checked([value or None for value in values], pa.string())


@lru_cache(maxsize=4096)
def _schema(
    tag_keys: tuple[str, ...], field_types: tuple[tuple[str, FieldType], ...]
) -> pa.Schema:
    return measurement_schema(list(tag_keys), dict(field_types))


def _times(values: list[object], default_time_ns: int) -> pa.Array:
    if any(type(value) is not int for value in values):
        if any(value is not None and type(value) is not int for value in values):
            raise _Decline  # decimal strings and other spellings: the item reader's
        values = [default_time_ns if value is None else value for value in values]
    return _checked(values, pa.int64())


def _field_array(values: tuple[object, ...], field_type: FieldType) -> pa.Array:
    return _checked(list(values), field_type.arrow_type)


def _checked(values: list[object], arrow_type: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=arrow_type)
    except (OverflowError, pa.ArrowInvalid, pa.ArrowTypeError):
        raise _Decline from None  # an integer beyond int64: the item reader words it


def _item_order(groups: list[tuple[Shape, _Rows]]) -> np.ndarray | None:
    """How to interleave the shapes' rows back into item order (None: one shape)."""
    if len(groups) == 1:
        return None
    items = np.concatenate([np.array(rows.items, dtype=np.int64) for _, rows in groups])
    return np.argsort(items, kind="stable")


def _merged(parts: list[pa.Array], order: np.ndarray | None) -> pa.Array:
    if order is None:
        return parts[0]
    return pa.concat_arrays(parts).take(order)
