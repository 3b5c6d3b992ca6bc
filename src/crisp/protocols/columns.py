"""Columnar accumulation of points into one Arrow table per measurement.

Shared by the JSON, Prometheus text, remote-write and OTLP parsers: they all reduce
to "measurement, tags, typed fields, time" and only differ in how they read bytes.
Values go into one Python list per column and become Arrow arrays once, at the end,
so the per-value cost is a list append, not an Arrow call.

Rules every parser gets from here (as InfluxDB applies them):

* the first type seen for a field wins within one body; later points of the same
  measurement with another type are rejected, naming the conflict;
* a key cannot be both a tag and a field of one measurement;
* ``time`` is reserved for the time column, so neither a tag nor a field may use it,
  and keys must be non-empty;
* an empty tag value means "no tag" (InfluxDB and Prometheus both treat it so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from crisp.core.batch import (
    TIME_COLUMN,
    FieldType,
    MeasurementBatch,
    PointBatch,
    measurement_schema,
)

FieldValue = float | int | bool | str
TypedFields = Mapping[str, tuple[FieldType, FieldValue]]


def clip(text: str, limit: int = 60) -> str:
    """A key or name quoted in an error, cut so a huge one cannot bloat the response."""
    return text if len(text) <= limit else text[:limit] + "..."


class MeasurementColumns:
    """The points of one measurement seen so far in a body, column by column."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.times: list[int] = []
        self.tag_columns: dict[str, list[str | None]] = {}
        self.field_columns: dict[str, list[FieldValue | None]] = {}
        self.field_types: dict[str, FieldType] = {}

    def conflict(self, tags: Mapping[str, str], fields: TypedFields) -> str | None:
        """Why this point cannot join the columns (first type wins), or ``None``."""
        # Fast path, the common case: every tag key is already a tag column (so it is
        # neither "time" nor a field) and no field uses a tag key.
        tags_known = tags.keys() <= self.tag_columns.keys() and tags.keys().isdisjoint(fields)
        for key in () if tags_known else tags:
            if not key:
                return "empty tag key"
            if key == TIME_COLUMN:
                return 'tag key "time" is reserved for the timestamp'
            if key in self.field_types or key in fields:
                return f'tag key "{clip(key)}" is also a field of measurement "{clip(self.name)}"'
        for key, (field_type, _) in fields.items():
            if not key:
                return "empty field key"
            if key == TIME_COLUMN:
                return 'field key "time" is reserved for the timestamp'
            known = self.field_types.get(key)
            if known is None:
                if key in self.tag_columns:
                    return (
                        f'field key "{clip(key)}" is already a tag of measurement '
                        f'"{clip(self.name)}"'
                    )
            elif known is not field_type:
                return (
                    f'field type conflict: field "{clip(key)}" of measurement '
                    f'"{clip(self.name)}" is type {field_type.value}, '
                    f"already {known.value} in this batch"
                )
        return None

    def append(self, tags: Mapping[str, str], fields: TypedFields, time_ns: int) -> None:
        row = self.rows
        self.times.append(time_ns)
        for key, tag_value in tags.items():
            if tag_value == "":
                continue
            tag_column = self.tag_columns.get(key)
            if tag_column is None:
                tag_column = self.tag_columns[key] = []
            if len(tag_column) < row:
                # Columns are padded lazily: only when a sparse key shows up again.
                tag_column.extend([None] * (row - len(tag_column)))
            tag_column.append(tag_value)
        for key, (field_type, field_value) in fields.items():
            field_column = self.field_columns.get(key)
            if field_column is None:
                field_column = self.field_columns[key] = []
                self.field_types[key] = field_type
            if len(field_column) < row:
                field_column.extend([None] * (row - len(field_column)))
            field_column.append(field_value)
        self.rows = row + 1

    def extend(
        self,
        tags: Mapping[str, str],
        key: str,
        field_type: FieldType,
        values: Sequence[FieldValue],
        times: Sequence[int],
    ) -> None:
        """Append many points sharing one tag set and one field: a series' samples."""
        row = self.rows
        count = len(times)
        self.times.extend(times)
        for tag_key, tag_value in tags.items():
            if tag_value == "":
                continue
            tag_column = self.tag_columns.get(tag_key)
            if tag_column is None:
                tag_column = self.tag_columns[tag_key] = []
            if len(tag_column) < row:
                tag_column.extend([None] * (row - len(tag_column)))
            tag_column.extend([tag_value] * count)
        field_column = self.field_columns.get(key)
        if field_column is None:
            field_column = self.field_columns[key] = []
            self.field_types[key] = field_type
        if len(field_column) < row:
            field_column.extend([None] * (row - len(field_column)))
        field_column.extend(values)
        self.rows = row + count

    def to_batch(self) -> MeasurementBatch:
        schema = measurement_schema(list(self.tag_columns), self.field_types)
        rows = self.rows
        arrays: list[pa.Array] = [pa.array(self.times, type=pa.int64())]
        for column in schema:
            values: list[str | None] | list[FieldValue | None]
            if column.name in self.tag_columns:
                values = self.tag_columns[column.name]
            elif column.name in self.field_columns:
                values = self.field_columns[column.name]
            else:
                continue
            if len(values) < rows:
                values = [*values, *([None] * (rows - len(values)))]
            arrays.append(pa.array(values, type=column.type))
        return MeasurementBatch(self.name, pa.Table.from_arrays(arrays, schema=schema))


class PointColumns:
    """All measurements of one body, in order of first appearance."""

    def __init__(self) -> None:
        self.measurements: dict[str, MeasurementColumns] = {}

    def add(
        self, measurement: str, tags: Mapping[str, str], fields: TypedFields, time_ns: int
    ) -> str | None:
        """Append the point, or return why it conflicts with earlier points."""
        columns = self.measurements.get(measurement)
        if columns is None:
            columns = self.measurements[measurement] = MeasurementColumns(measurement)
        reason = columns.conflict(tags, fields)
        if reason is None:
            columns.append(tags, fields, time_ns)
        return reason

    def add_series(
        self,
        measurement: str,
        tags: Mapping[str, str],
        key: str,
        field_type: FieldType,
        values: Sequence[FieldValue],
        times: Sequence[int],
    ) -> str | None:
        """Append a series' points (``values[i]`` at ``times[i]``), or say why not.

        The conflict check runs once per series, not once per sample.
        """
        if len(values) != len(times):
            raise ValueError("values and times must have the same length")
        if not times:
            return None
        columns = self.measurements.get(measurement)
        if columns is None:
            columns = self.measurements[measurement] = MeasurementColumns(measurement)
        reason = columns.conflict(tags, {key: (field_type, values[0])})
        if reason is None:
            columns.extend(tags, key, field_type, values, times)
        return reason

    def to_point_batch(self) -> PointBatch:
        batch = PointBatch()
        for columns in self.measurements.values():
            if columns.rows:
                batch.add(columns.to_batch())
        return batch
