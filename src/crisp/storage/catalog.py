"""In-memory schema index: measurements, tag keys/values, field types, series sets.

Rebuilt on open from the Parquet files and WAL replay (the data is the source of
truth, so the index can never disagree with it after a crash), then kept up to date
by writes. A write is checked against it *before* the WAL append (field type
conflicts, series limits), so a refused write leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pyarrow as pa

from crisp.core.batch import KIND_FIELD, KIND_TAG, FieldType, column_kind
from crisp.storage.api import FieldTypeConflict, LimitExceeded, StorageError

# Re-exported: the summary lived here before it had its own module.
from crisp.storage.series_summary import SeriesSummary as SeriesSummary
from crisp.storage.series_summary import TagNames as TagNames
from crisp.storage.series_summary import TagRow as TagRow
from crisp.storage.series_summary import int64_array
from crisp.storage.series_summary import summarize as summarize
from crisp.storage.series_summary import summarize_and_encode as summarize_and_encode

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
    # Raw tag rows already in ``series``, per tag-column set. Writes check their
    # distinct rows against this with one set difference instead of building a
    # SeriesKey per distinct row: building them was most of a write's catalog cost
    # (steady state: every series of a write is already known).
    _known_rows: dict[TagNames, dict[TagRow, TagRow]] = field(default_factory=dict)
    # One shared object per distinct (key, value) pair and tag value: a series then
    # costs its own tuple only (with 4,000 hosts × 16 endpoints most pairs repeat
    # across tens of thousands of series; unshared, they were ~60% of the index).
    _pairs: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _strings: dict[str, str] = field(default_factory=dict)

    def shared_series(self, series: SeriesKey) -> SeriesKey:
        pairs = self._pairs
        return tuple(pairs.setdefault(pair, pair) for pair in series)

    def shared_row(self, row: TagRow) -> TagRow:
        strings = self._strings
        return tuple(None if v is None else strings.setdefault(v, v) for v in row)

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
    tag_names: TagNames = ()
    new_rows: set[TagRow] = field(default_factory=set)
    # The summary's rows as the index's shared row objects (None: not known before
    # this write), looked up once here and reused by ``shared_summary``.
    resolved: list[TagRow | None] | None = None


@dataclass
class CatalogDelta:
    """What a write adds to the catalog; computed and checked before it is applied."""

    database: str
    measurements: list[_MeasurementDelta]

    def resolved_rows(self, measurement: str) -> list[TagRow | None] | None:
        """For ``Catalog.shared_summary``: the measurement's summary rows ``plan``
        found in the index (None per row it did not), or None if it did not look."""
        for delta in self.measurements:
            if delta.measurement == measurement:
                return delta.resolved
        return None


def distinct_tag_rows(table: pa.Table) -> tuple[TagNames, set[TagRow]]:
    """Sorted tag names and the distinct rows of their values (group-by in Arrow)."""
    tags = tuple(sorted(f.name for f in table.schema if column_kind(f) == KIND_TAG))
    if not tags:
        return tags, {()}
    distinct = table.select(list(tags)).group_by(list(tags), use_threads=False).aggregate([])
    columns = [distinct.column(t).to_pylist() for t in tags]
    return tags, set(zip(*columns, strict=True))


def series_key(tags: TagNames, values: TagRow) -> SeriesKey:
    return tuple((k, v) for k, v in zip(tags, values, strict=True) if v is not None)


def series_keys(tags: TagNames, rows: Iterable[TagRow]) -> set[SeriesKey]:
    return {series_key(tags, values) for values in rows}


def table_series(table: pa.Table) -> set[SeriesKey]:
    """Distinct series of a measurement table (group-by in Arrow, not per row in Python)."""
    return series_keys(*distinct_tag_rows(table))


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
        summaries: Mapping[str, SeriesSummary] | None = None,
    ) -> CatalogDelta:
        """Check a write; raise FieldTypeConflict / LimitExceeded, or return its delta.

        ``summaries`` (per measurement) saves recomputing the distinct series when the
        caller already has them.
        """
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
            summary = summaries.get(name) if summaries is not None else None
            resolved: list[TagRow | None] | None = None
            if summary is not None:
                tag_names = summary.tag_names
                known = index._known_rows.get(tag_names) if index is not None else None
                if known is None:
                    rows = set(summary.rows)
                else:
                    # One lookup per row (the steady state finds them all).
                    get = known.get
                    resolved = [get(row) for row in summary.rows]
                    rows = (
                        {r for r, k in zip(summary.rows, resolved, strict=True) if k is None}
                        if None in resolved
                        else set()
                    )
            else:
                tag_names, rows = distinct_tag_rows(table)
                if index is not None:
                    rows -= index._known_rows.get(tag_names, {}).keys()
            series = series_keys(tag_names, rows)
            if index is not None:
                # A row unknown for this column set may still be a known series
                # (same non-null tags written with another set of tag columns).
                series -= index.series
            have = len(index.series) if index else 0
            if have + len(series) > max_series_per_measurement:
                raise LimitExceeded(
                    f"max-series-per-measurement limit exceeded: measurement \"{name}\" "
                    f"has {have} series, this write adds {len(series)}, limit "
                    f"{max_series_per_measurement}"
                )
            added_to_db += len(series)
            deltas.append(_MeasurementDelta(name, new_fields, series, tag_names, rows, resolved))
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
            if m.new_rows:
                known = index._known_rows.setdefault(m.tag_names, {})
                for row in m.new_rows:
                    shared = index.shared_row(row)
                    known[shared] = shared
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
        index.series.update(index.shared_series(series) for series in new)
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

    def shared_summary(
        self,
        database: str,
        measurement: str,
        summary: SeriesSummary,
        resolved: list[TagRow | None] | None = None,
    ) -> SeriesSummary:
        """``summary`` holding the index's own row objects and compact time arrays.

        The buffer keeps every write's summary until its flush (the duplicate proof is
        lazy): as fresh tuples of fresh strings, 4,000 hosts × 10 tags cost ~1 KB per
        series per write, several hundred MB between flushes. ``resolved`` is what
        ``plan`` already found (its ``CatalogDelta.resolved_rows``): only the rows it
        did not know are looked up again.
        """
        index = self.index(database, measurement)
        known = index._known_rows.get(summary.tag_names) if index is not None else None
        if known is None:
            rows = summary.rows
        elif resolved is None:
            rows = [known.get(r, r) for r in summary.rows]
        elif None in resolved:
            rows = [
                k if k is not None else known.get(r, r)
                for r, k in zip(summary.rows, resolved, strict=True)
            ]
        else:
            rows = resolved  # type: ignore[assignment]  # no None left
        return replace(
            summary,
            rows=rows,
            min_time=int64_array(summary.min_time),
            max_time=int64_array(summary.max_time),
        )

    def database_series(self, database: str) -> int:
        return self._db_series.get(database, 0)

    def series_count(self, database: str, measurement: str) -> int:
        index = self.index(database, measurement)
        return len(index.series) if index else 0
