"""Columnar accumulation of one-field points whose tag sets repeat.

OTLP (and Prometheus-shaped data in general) sends many points per tag set: every
metric of one resource shares the resource's attributes. ``PointColumns`` appends
each tag of each point to its own list and checks every point against the
measurement's columns; here a point is three list appends (time, value, tag-set
id), the rules are checked once per tag set, and the tag columns of every
measurement are built together at the end, one Arrow ``take`` per tag key.

The result is exactly ``PointColumns``' for the same points: the same rules (see
``crisp.protocols.columns``: first field type wins, ``time`` and the field's own
key are refused as tag keys, empty tag keys are refused, an empty tag value means
no tag), the same error wording, measurements in order of first appearance.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from crisp.core.batch import (
    TIME_COLUMN,
    FieldType,
    MeasurementBatch,
    PointBatch,
    measurement_schema,
)
from crisp.protocols.columns import FieldValue, clip

IntArray = npt.NDArray[np.int64]


@dataclass
class _Rows:
    field_type: FieldType | None = None
    times: list[int] = field(default_factory=list)
    values: list[FieldValue] = field(default_factory=list)
    sets: list[int] = field(default_factory=list)


class TagSetColumns:
    """Points of one field (``field_key``) per measurement, tags by interned tag set."""

    def __init__(self, field_key: str = "value") -> None:
        self.field_key = field_key
        self._ids: dict[tuple[tuple[str, str], ...], int] = {}
        self._tags: list[dict[str, str]] = []  # without empty values
        self._refused: list[tuple[str, str] | None] = []  # (rule, key) a set breaks
        self._measurements: dict[str, _Rows] = {}

    def tag_set(self, tags: Mapping[str, str]) -> int:
        """The id of this tag set (equal items in equal order, equal id)."""
        key = tuple(tags.items())
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self._tags)
            self._tags.append({name: value for name, value in key if value != ""})
            self._refused.append(self._rule_broken(key))
        return found

    def _rule_broken(self, items: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
        for name, _ in items:
            if not name:
                return "empty", name
            if name == TIME_COLUMN:
                return "time", name
            if name == self.field_key:
                return "field", name
        return None

    def add(
        self, measurement: str, tag_set: int, field_type: FieldType, value: FieldValue, time_ns: int
    ) -> str | None:
        """Append the point, or return why it conflicts (as ``PointColumns.add`` words it)."""
        rows = self._measurements.get(measurement)
        if rows is None:
            rows = self._measurements[measurement] = _Rows()
        refused = self._refused[tag_set]
        if refused is not None:
            return _refusal(refused, measurement)
        if rows.field_type is None:
            rows.field_type = field_type
        elif rows.field_type is not field_type:
            return (
                f'field type conflict: field "{clip(self.field_key)}" of measurement '
                f'"{clip(measurement)}" is type {field_type.value}, '
                f"already {rows.field_type.value} in this batch"
            )
        rows.times.append(time_ns)
        rows.values.append(value)
        rows.sets.append(tag_set)
        return None

    def to_point_batch(self) -> PointBatch:
        filled = [(name, rows) for name, rows in self._measurements.items() if rows.times]
        if not filled:
            return PointBatch()
        bounds = np.zeros(len(filled) + 1, dtype=np.int64)
        np.cumsum([len(rows.times) for _, rows in filled], out=bounds[1:])
        chained = itertools.chain.from_iterable
        total = int(bounds[-1])
        sets = np.fromiter(chained(rows.sets for _, rows in filled), dtype=np.int64, count=total)
        times = np.fromiter(chained(rows.times for _, rows in filled), dtype=np.int64, count=total)
        measurements: list[tuple[str, FieldType]] = []
        values: list[pa.Array] = []
        for name, rows in filled:
            assert rows.field_type is not None  # set with the first row
            measurements.append((name, rows.field_type))
            values.append(pa.array(rows.values, type=rows.field_type.arrow_type))
        return build_batch(self.field_key, self._tags, measurements, bounds, sets, times, values)


def build_batch(
    field_key: str,
    tag_sets: Sequence[Mapping[str, str]],
    measurements: Sequence[tuple[str, FieldType]],
    bounds: IntArray,
    sets: IntArray,
    times: IntArray,
    values: Sequence[pa.Array],
) -> PointBatch:
    """One table per measurement from rows grouped by measurement.

    Measurement ``i`` (name, field type) has rows ``bounds[i]:bounds[i + 1]``; each
    row has a tag set (``tag_sets[sets[row]]``, empty values already left out) and
    a time; ``values[i]`` are its field values. Tag columns are built for all
    measurements at once, one Arrow ``take`` per tag key, and sliced.
    """
    keys = sorted({key for tags in tag_sets for key in tags})
    key_index = {key: index for index, key in enumerate(keys)}
    # Which tag set has which key, and the key's value in each set.
    has = np.zeros((len(tag_sets), len(keys)), dtype=bool)
    per_key: list[list[str | None]] = [[None] * len(tag_sets) for _ in keys]
    for set_id, tags in enumerate(tag_sets):
        for key, value in tags.items():
            has[set_id, key_index[key]] = True
            per_key[key_index[key]][set_id] = value
    present = np.logical_or.reduceat(has[sets], bounds[:-1], axis=0)
    columns = {
        index: pa.array(per_key[index], type=pa.string()).take(sets)
        for index in range(len(keys))
        if present[:, index].any()
    }
    time_column = pa.array(times, type=pa.int64())
    batch = PointBatch()
    for position, (name, field_type) in enumerate(measurements):
        start = int(bounds[position])
        count = int(bounds[position + 1]) - start
        tag_ids = np.flatnonzero(present[position]).tolist()
        schema = _schema(tuple(keys[i] for i in tag_ids), field_key, field_type)
        arrays = [time_column.slice(start, count)]
        arrays += [columns[i].slice(start, count) for i in tag_ids]
        arrays.append(values[position])
        batch.measurements[name] = MeasurementBatch(
            name, pa.Table.from_arrays(arrays, schema=schema)
        )
    return batch


def _refusal(refused: tuple[str, str], measurement: str) -> str:
    rule, key = refused
    if rule == "empty":
        return "empty tag key"
    if rule == "time":
        return 'tag key "time" is reserved for the timestamp'
    return f'tag key "{clip(key)}" is also a field of measurement "{clip(measurement)}"'


@lru_cache(maxsize=4096)
def _schema(tag_keys: tuple[str, ...], field_key: str, field_type: FieldType) -> pa.Schema:
    return measurement_schema(list(tag_keys), {field_key: field_type})
