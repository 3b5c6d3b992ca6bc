"""The columnar point batch every protocol parser produces and every sink consumes.

A batch holds one Arrow table per measurement, never one Python object per value.
Each table has the same shape InfluxDB 3 uses for a measurement:

* ``time``: int64 nanoseconds since the epoch, never null;
* one ``string`` column per tag key (null where a point lacks that tag);
* one column per field key, typed by the field's InfluxDB type (null where a point
  lacks that field).

Which column is a tag and which a field is recorded in the Arrow field metadata
(``crisp.kind``), so a table travels through IPC, the WAL and Parquet without a
side channel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

TIME_COLUMN = "time"
KIND_KEY = b"crisp.kind"
KIND_TAG = b"tag"
KIND_FIELD = b"field"
KIND_TIME = b"time"


class FieldType(StrEnum):
    """InfluxDB field types, named as ``SHOW FIELD KEYS`` names them."""

    FLOAT = "float"
    INTEGER = "integer"
    UNSIGNED = "unsigned"
    BOOLEAN = "boolean"
    STRING = "string"

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self]

    @classmethod
    def from_arrow(cls, arrow_type: pa.DataType) -> FieldType:
        for field_type, candidate in _ARROW_TYPES.items():
            if candidate == arrow_type:
                return field_type
        raise ValueError(f"no InfluxDB field type for Arrow type {arrow_type}")


_ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.FLOAT: pa.float64(),
    FieldType.INTEGER: pa.int64(),
    FieldType.UNSIGNED: pa.uint64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.STRING: pa.string(),
}


def time_field() -> pa.Field:
    return pa.field(TIME_COLUMN, pa.int64(), nullable=False, metadata={KIND_KEY: KIND_TIME})


def tag_field(key: str) -> pa.Field:
    return pa.field(key, pa.string(), nullable=True, metadata={KIND_KEY: KIND_TAG})


def value_field(key: str, field_type: FieldType) -> pa.Field:
    return pa.field(key, field_type.arrow_type, nullable=True, metadata={KIND_KEY: KIND_FIELD})


def measurement_schema(tag_keys: list[str], fields: Mapping[str, FieldType]) -> pa.Schema:
    """Schema with ``time`` first, then tags sorted, then fields sorted."""
    columns = [time_field()]
    columns += [tag_field(key) for key in sorted(tag_keys)]
    columns += [value_field(key, fields[key]) for key in sorted(fields)]
    return pa.schema(columns)


def column_kind(column: pa.Field) -> bytes:
    metadata = column.metadata or {}
    return bytes(metadata.get(KIND_KEY, b""))


@dataclass(frozen=True)
class MeasurementBatch:
    """The points of one measurement, as one Arrow table (see module docstring)."""

    measurement: str
    table: pa.Table

    @property
    def tag_keys(self) -> list[str]:
        return [f.name for f in self.table.schema if column_kind(f) == KIND_TAG]

    @property
    def field_types(self) -> dict[str, FieldType]:
        return {
            f.name: FieldType.from_arrow(f.type)
            for f in self.table.schema
            if column_kind(f) == KIND_FIELD
        }

    @property
    def num_points(self) -> int:
        return int(self.table.num_rows)

    @property
    def num_values(self) -> int:
        """Non-null field values: what "values/s" counts in benchmarks."""
        columns = (
            self.table.column(f.name) for f in self.table.schema if column_kind(f) == KIND_FIELD
        )
        return sum(len(column) - column.null_count for column in columns)


@dataclass
class PointBatch:
    """Points grouped by measurement; the unit that moves from protocol to storage."""

    measurements: dict[str, MeasurementBatch] = field(default_factory=dict)

    def __iter__(self) -> Iterator[MeasurementBatch]:
        return iter(self.measurements.values())

    def __len__(self) -> int:
        return self.num_points

    @property
    def num_points(self) -> int:
        return sum(m.num_points for m in self.measurements.values())

    @property
    def num_values(self) -> int:
        return sum(m.num_values for m in self.measurements.values())

    def add(self, batch: MeasurementBatch) -> None:
        """Append a measurement's points, unifying schemas when it is already present."""
        existing = self.measurements.get(batch.measurement)
        if existing is None:
            self.measurements[batch.measurement] = batch
            return
        merged = pa.concat_tables([existing.table, batch.table], promote_options="default")
        self.measurements[batch.measurement] = MeasurementBatch(batch.measurement, merged)


@dataclass(frozen=True)
class LineError:
    """One rejected input line: 1-based line number, the line (shortened) and why."""

    line_number: int
    line: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason} ({self.line!r})"


@dataclass
class ParseResult:
    """What a protocol parser returns: the good points and the rejected lines.

    InfluxDB 1.x keeps the good lines of a partly bad body and answers 400 naming the
    first bad one; Crisp does the same, so callers write ``batch`` and then report
    ``errors``.
    """

    batch: PointBatch
    errors: list[LineError] = field(default_factory=list)
