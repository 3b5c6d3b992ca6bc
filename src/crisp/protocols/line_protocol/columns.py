"""Columnar accumulation of parsed lines into one Arrow table per measurement.

Values go into one Python list per column and become Arrow arrays once, at the end,
so the per-value cost is a list append, not an Arrow call.
"""

from __future__ import annotations

import pyarrow as pa

from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
from crisp.protocols.line_protocol.line_syntax import Fields, ParsedLine, SeriesKey
from crisp.protocols.line_protocol.values import FieldValue


class MeasurementColumns:
    """The points of one measurement seen so far in a body, column by column."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.times: list[int] = []
        self.tag_columns: dict[str, list[str | None]] = {}
        self.field_columns: dict[str, list[FieldValue | None]] = {}
        self.field_types: dict[str, FieldType] = {}
        # Series already appended once: their tag keys are known to be tag columns,
        # and a tag column can never later become a field, so they need no re-check.
        self._accepted_series: set[SeriesKey] = set()

    def conflict(self, line: ParsedLine) -> str | None:
        """Why this line cannot join the columns (first type wins), or ``None``."""
        if line.series not in self._accepted_series:
            for key, _ in line.series.tags:
                if key in self.field_types:
                    return (
                        f'tag key "{key}" is already a field of measurement '
                        f'"{self.name}" in this batch'
                    )
        for key, (field_type, _) in line.fields.items():
            known = self.field_types.get(key)
            if known is None:
                if key in self.tag_columns:
                    return (
                        f'field key "{key}" is already a tag of measurement '
                        f'"{self.name}" in this batch'
                    )
            elif known is not field_type:
                return (
                    f'field type conflict: field "{key}" is type {field_type.value}, '
                    f"already {known.value} in this batch"
                )
        return None

    def append(self, line: ParsedLine, time_ns: int) -> None:
        row = self.rows
        self.times.append(time_ns)
        self._accepted_series.add(line.series)
        for key, tag_value in line.series.tags:
            tag_column = self.tag_columns.get(key)
            if tag_column is None:
                tag_column = self.tag_columns[key] = []
            if len(tag_column) < row:
                tag_column.extend([None] * (row - len(tag_column)))
            tag_column.append(tag_value)
        self._append_fields(line.fields, row)
        self.rows = row + 1

    def _append_fields(self, fields: Fields, row: int) -> None:
        for key, (field_type, field_value) in fields.items():
            field_column = self.field_columns.get(key)
            if field_column is None:
                field_column = self.field_columns[key] = []
                self.field_types[key] = field_type
            if len(field_column) < row:
                field_column.extend([None] * (row - len(field_column)))
            field_column.append(field_value)

    def to_batch(self) -> MeasurementBatch:
        schema = measurement_schema(list(self.tag_columns), self.field_types)
        rows = self.rows
        arrays: list[pa.Array] = [pa.array(self.times, type=pa.int64())]
        for column in schema:
            if column.name in self.tag_columns:
                values: list[str | None] | list[FieldValue | None] = self.tag_columns[column.name]
            elif column.name in self.field_columns:
                values = self.field_columns[column.name]
            else:
                continue
            if len(values) < rows:
                values = [*values, *([None] * (rows - len(values)))]
            arrays.append(pa.array(values, type=column.type))
        return MeasurementBatch(self.name, pa.Table.from_arrays(arrays, schema=schema))


class BatchColumns:
    """All measurements of one body, in order of first appearance."""

    def __init__(self) -> None:
        self.measurements: dict[str, MeasurementColumns] = {}

    def add(self, line: ParsedLine, time_ns: int) -> str | None:
        """Append the line, or return why it conflicts with earlier lines."""
        name = line.series.measurement
        columns = self.measurements.get(name)
        if columns is None:
            columns = self.measurements[name] = MeasurementColumns(name)
        reason = columns.conflict(line)
        if reason is None:
            columns.append(line, time_ns)
        return reason

    def to_point_batch(self) -> PointBatch:
        batch = PointBatch()
        for columns in self.measurements.values():
            if columns.rows:
                batch.add(columns.to_batch())
        return batch
