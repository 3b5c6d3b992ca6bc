"""In-memory schema index: measurements, tag keys/values, field types, series sets.

Rebuilt on open from the Parquet files and WAL replay (the data is the source of
truth, so the index can never disagree with it after a crash), then kept up to date
by writes. A write is checked against it *before* the WAL append (field type
conflicts, series limits), so a refused write leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from crisp.core.batch import KIND_FIELD, KIND_TAG, FieldType, column_kind
from crisp.storage.api import FieldTypeConflict, LimitExceeded, StorageError

# A series is its tag set: sorted (key, value) pairs of the tags a point has.
SeriesKey = tuple[tuple[str, str], ...]


@dataclass
class MeasurementIndex:
    fields: dict[str, FieldType] = field(default_factory=dict)
    tag_values: dict[str, set[str]] = field(default_factory=dict)
    series: set[SeriesKey] = field(default_factory=set)
    # Sorted views cached between changes: SHOW TAG VALUES at 100k series stays fast.
    _sorted_values: dict[str, list[str]] = field(default_factory=dict)
    _sorted_series: list[SeriesKey] | None = None

    def sorted_series(self) -> list[SeriesKey]:
        """Series in key order; the cached list is replaced, never mutated, on change."""
        if self._sorted_series is None:
            self._sorted_series = sorted(self.series)
        return self._sorted_series

    def sorted_values(self, key: str) -> list[str]:
        cached = self._sorted_values.get(key)
        if cached is None:
            cached = sorted(self.tag_values.get(key, ()))
            self._sorted_values[key] = cached
        return cached


@dataclass
class _MeasurementDelta:
    measurement: str
    new_fields: dict[str, FieldType]
    new_series: set[SeriesKey]


@dataclass
class CatalogDelta:
    """What a write adds to the catalog; computed and checked before it is applied."""

    database: str
    measurements: list[_MeasurementDelta]


def table_series(table: pa.Table) -> set[SeriesKey]:
    """Distinct series of a measurement table (group-by in Arrow, not per row in Python)."""
    tags = sorted(f.name for f in table.schema if column_kind(f) == KIND_TAG)
    if not tags:
        return {()}
    distinct = table.select(tags).group_by(tags, use_threads=False).aggregate([])
    columns = [distinct.column(t).to_pylist() for t in tags]
    out: set[SeriesKey] = set()
    for values in zip(*columns, strict=True):
        out.add(tuple((k, v) for k, v in zip(tags, values, strict=True) if v is not None))
    return out


def table_fields(table: pa.Table) -> dict[str, FieldType]:
    return {
        f.name: FieldType.from_arrow(f.type)
        for f in table.schema
        if column_kind(f) == KIND_FIELD
    }


def _check_kinds(name: str, table: pa.Table, index: MeasurementIndex) -> None:
    """A key is a tag or a field of a measurement, never both: ``points`` has one
    column per key, so a clash would make the data unreadable."""
    for f in table.schema:
        kind = column_kind(f)
        if kind == KIND_TAG and f.name in index.fields:
            raise FieldTypeConflict(
                f'conflict: input tag "{f.name}" on measurement "{name}" already exists '
                "as a field"
            )
        if kind == KIND_FIELD and f.name in index.tag_values:
            raise FieldTypeConflict(
                f'conflict: input field "{f.name}" on measurement "{name}" already exists '
                "as a tag"
            )


class Catalog:
    """Per database, per measurement index. Not thread-safe: the engine locks around it."""

    def __init__(self) -> None:
        self._dbs: dict[str, dict[str, MeasurementIndex]] = {}
        self._db_series: dict[str, int] = {}

    # -- writes ------------------------------------------------------------------------

    def plan(
        self,
        database: str,
        tables: Iterable[tuple[str, pa.Table]],
        *,
        max_series_per_measurement: int,
        max_series_per_database: int,
    ) -> CatalogDelta:
        """Check a write; raise FieldTypeConflict / LimitExceeded, or return its delta."""
        measurements = self._dbs.get(database, {})
        deltas: list[_MeasurementDelta] = []
        added_to_db = 0
        for name, table in tables:
            index = measurements.get(name)
            new_fields: dict[str, FieldType] = {}
            try:
                fields = table_fields(table)
            except ValueError as exc:
                raise StorageError(f'measurement "{name}": {exc}') from None
            if index is not None:
                _check_kinds(name, table, index)
            for key, ftype in fields.items():
                existing = index.fields.get(key) if index else None
                if existing is not None and existing != ftype:
                    raise FieldTypeConflict(
                        f'field type conflict: input field "{key}" on measurement "{name}" '
                        f"is type {ftype.value}, already exists as type {existing.value}"
                    )
                if existing is None:
                    new_fields[key] = ftype
            series = table_series(table)
            if index is not None:
                series -= index.series
            have = len(index.series) if index else 0
            if have + len(series) > max_series_per_measurement:
                raise LimitExceeded(
                    f"max-series-per-measurement limit exceeded: measurement \"{name}\" "
                    f"has {have} series, this write adds {len(series)}, limit "
                    f"{max_series_per_measurement}"
                )
            added_to_db += len(series)
            deltas.append(_MeasurementDelta(name, new_fields, series))
        have_db = self._db_series.get(database, 0)
        if have_db + added_to_db > max_series_per_database:
            raise LimitExceeded(
                f"max-series-per-database limit exceeded: database \"{database}\" has "
                f"{have_db} series, this write adds {added_to_db}, limit "
                f"{max_series_per_database}"
            )
        return CatalogDelta(database, deltas)

    def apply(self, delta: CatalogDelta) -> set[str]:
        """Apply a planned delta; return the measurements whose series count changed."""
        measurements = self._dbs.setdefault(delta.database, {})
        changed = set()
        for m in delta.measurements:
            index = measurements.setdefault(m.measurement, MeasurementIndex())
            index.fields.update(m.new_fields)
            if m.new_series:
                changed.add(m.measurement)
                self._add_series(delta.database, index, m.new_series)
        return changed

    def add_table(self, database: str, measurement: str, table: pa.Table) -> None:
        """Index data that is already stored (open-time rebuild); no limit checks."""
        index = self._dbs.setdefault(database, {}).setdefault(measurement, MeasurementIndex())
        for key, ftype in table_fields(table).items():
            index.fields.setdefault(key, ftype)
        self._add_series(database, index, table_series(table) - index.series)

    def add_fields(self, database: str, measurement: str, schema: pa.Schema) -> None:
        index = self._dbs.setdefault(database, {}).setdefault(measurement, MeasurementIndex())
        for f in schema:
            if column_kind(f) == KIND_FIELD:
                index.fields.setdefault(f.name, FieldType.from_arrow(f.type))

    def _add_series(self, database: str, index: MeasurementIndex, new: set[SeriesKey]) -> None:
        if not new:
            return
        index.series |= new
        index._sorted_series = None
        for series in new:
            for key, value in series:
                values = index.tag_values.setdefault(key, set())
                if value not in values:
                    values.add(value)
                    index._sorted_values.pop(key, None)
        self._db_series[database] = self._db_series.get(database, 0) + len(new)

    def drop_database(self, database: str) -> None:
        self._dbs.pop(database, None)
        self._db_series.pop(database, None)

    def drop_measurement(self, database: str, measurement: str) -> None:
        index = self._dbs.get(database, {}).pop(measurement, None)
        if index is not None:
            self._db_series[database] = self._db_series.get(database, 0) - len(index.series)

    # -- reads -------------------------------------------------------------------------

    def index(self, database: str, measurement: str) -> MeasurementIndex | None:
        return self._dbs.get(database, {}).get(measurement)

    def measurements(self, database: str) -> list[str]:
        return sorted(self._dbs.get(database, {}))

    def series_count(self, database: str, measurement: str) -> int:
        index = self.index(database, measurement)
        return len(index.series) if index else 0
