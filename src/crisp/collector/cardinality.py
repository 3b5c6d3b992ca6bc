"""The cardinality guard: series limits per measurement and per database (tenant).

One bad label (a ``request_id`` tag) turns every point into a new series and can sink
storage. The collector counts the distinct series it has seen per (database,
measurement) and per database, and refuses the points of *new* series once a limit
is reached; points of series it already knows keep flowing, so the service with the
bad label loses only what the label broke. The answer is 400 naming the database, the
measurement, the limit and the setting; refused points are counted in
``crisp_collector_series_refused_points_total{limit}``.

Bounded memory, and what it costs in precision:

* Counting is exact within a **window** (``SERIES_WINDOW_SECONDS``, an hour): a series
  counts while it was seen in the current or the previous window. Series that stop
  arriving age out after one to two windows, so the limit bounds *active* series,
  which is what sinks a time-series store.
* Only series that were admitted are remembered (a 64-bit hash each, about 70 bytes in
  a Python set, twice over at most for the two windows), so memory is at most
  ``2 × max_series_per_database × 70`` bytes per database, however many series a bad
  client sends. Refused series are not remembered.
* Each collector process counts what it received: behind a load balancer the
  effective limit is per process. Storage keeps its own hard limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import KIND_TAG, MeasurementBatch, PointBatch, column_kind

SERIES_WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class Refusal:
    database: str
    measurement: str
    points: int
    scope: str  # "measurement" or "database": which limit refused them
    limit: int

    def __str__(self) -> str:
        if self.scope == "measurement":
            where = f"measurement {self.measurement!r} in database {self.database!r}"
            setting = "CRISP_COLLECTOR_MAX_SERIES_PER_MEASUREMENT"
        else:
            where = f"database {self.database!r}"
            setting = "CRISP_COLLECTOR_MAX_SERIES_PER_DATABASE"
        return (
            f"series limit reached: {where} has {self.limit} active series ({setting}); "
            f"{self.points} points of new series of {self.measurement!r} refused — is a tag "
            "carrying unbounded values (request or user ids)?"
        )


@dataclass
class Admission:
    batch: PointBatch
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def refused_points(self) -> int:
        return sum(r.points for r in self.refusals)


@dataclass
class _Generations:
    """Series hashes seen in the current and previous window; ``count`` is their union."""

    current: set[int] = field(default_factory=set)
    previous: set[int] = field(default_factory=set)
    count: int = 0

    def knows(self, series: int) -> bool:
        return series in self.current or series in self.previous

    def add(self, series: int) -> None:
        if series in self.current:
            return
        if series not in self.previous:
            self.count += 1
        self.current.add(series)

    def rotate(self) -> None:
        self.previous, self.current = self.current, set()
        self.count = len(self.previous)


@dataclass
class _Database:
    measurements: dict[str, _Generations] = field(default_factory=dict)
    count: int = 0  # distinct series over all measurements (series keys include it)


class SeriesGuard:
    """Thread-safe: handlers call :meth:`admit` from worker threads."""

    def __init__(
        self,
        max_per_measurement: int,
        max_per_database: int,
        *,
        window_seconds: float = SERIES_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_measurement = max_per_measurement
        self.max_per_database = max_per_database
        self._window = window_seconds
        self._clock = clock
        self._window_end = clock() + window_seconds
        self._databases: dict[str, _Database] = {}
        self._lock = threading.Lock()

    def admit(self, database: str, batch: PointBatch) -> Admission:
        """``batch`` without the points of new series past a limit, and why."""
        admitted = PointBatch()
        refusals: list[Refusal] = []
        series = batch_series(batch)  # hashing needs no lock
        with self._lock:
            self._maybe_rotate()
            state = self._databases.setdefault(database, _Database())
            for measurement in batch:
                keys, row_series = series[measurement.measurement]
                kept, refusal = self._admit_measurement(
                    database, state, measurement, keys, row_series
                )
                if kept is not None:
                    admitted.add(kept)
                if refusal is not None:
                    refusals.append(refusal)
        if not refusals:
            return Admission(batch)
        return Admission(admitted, refusals)

    def _admit_measurement(
        self,
        database: str,
        state: _Database,
        batch: MeasurementBatch,
        keys: list[int],
        row_series: np.ndarray,
    ) -> tuple[MeasurementBatch | None, Refusal | None]:
        generations = state.measurements.setdefault(batch.measurement, _Generations())
        # The common case in set operations: every new series fits under both limits,
        # so all are admitted, as the series-by-series loop below would.
        new = set(keys).difference(generations.current, generations.previous)
        if (
            generations.count + len(new) <= self.max_per_measurement
            and state.count + len(new) <= self.max_per_database
        ):
            generations.current.update(keys)
            generations.count += len(new)
            state.count += len(new)
            return batch, None
        refused = np.zeros(len(keys), dtype=bool)
        scope = ""
        for index, series in enumerate(keys):
            if generations.knows(series):
                generations.add(series)
                continue
            if generations.count >= self.max_per_measurement:
                refused[index], scope = True, scope or "measurement"
                continue
            if state.count >= self.max_per_database:
                refused[index], scope = True, scope or "database"
                continue
            generations.add(series)
            state.count += 1
        if not refused.any():
            return batch, None
        row_refused = refused[row_series]
        points = int(row_refused.sum())
        limit = self.max_per_measurement if scope == "measurement" else self.max_per_database
        refusal = Refusal(database, batch.measurement, points, scope, limit)
        if points == batch.num_points:
            return None, refusal
        kept = batch.table.filter(pa.array(~row_refused))
        return MeasurementBatch(batch.measurement, kept), refusal

    def _maybe_rotate(self) -> None:
        now = self._clock()
        if now < self._window_end:
            return
        self._window_end = now + self._window
        for name, state in list(self._databases.items()):
            for measurement, generations in list(state.measurements.items()):
                generations.rotate()
                if generations.count == 0:
                    del state.measurements[measurement]
            state.count = sum(g.count for g in state.measurements.values())
            if not state.measurements:
                del self._databases[name]


def series_of(batch: MeasurementBatch) -> tuple[list[int], np.ndarray]:
    """The distinct series of ``batch`` (64-bit hashes) and, per row, the index of its
    series.

    A series hash is the measurement's hash plus, modulo 2**64, the hash of each
    ``key=value`` tag it has: a sum does not depend on column order, and a null or
    empty tag adds nothing, as line protocol means "no such tag" by both; so the
    same series hashes alike whatever columns a request had. Vectorised: Python
    hashes each distinct tag value once, numpy does the rows.
    """
    table = batch.table
    row_hash = np.full(table.num_rows, _hash64(batch.measurement), dtype=np.uint64)
    for column in table.schema:
        if column_kind(column) != KIND_TAG:
            continue
        row_hash += _tag_hashes(column.name, table.column(column.name).combine_chunks())
    keys, inverse = np.unique(row_hash, return_inverse=True)
    return [int(k) for k in keys], inverse.reshape(-1)


def batch_series(batch: PointBatch) -> dict[str, tuple[list[int], np.ndarray]]:
    """``series_of`` for every measurement of ``batch``, hashed together.

    Measurements with the same tag keys (every metric of a remote-write or OTLP
    body) have their tag columns hashed in one pass, so a body of a hundred
    measurements costs a few Arrow calls per tag key, not per measurement.
    """
    groups: dict[tuple[str, ...], list[MeasurementBatch]] = {}
    for measurement in batch:
        keys = tuple(f.name for f in measurement.table.schema if column_kind(f) == KIND_TAG)
        groups.setdefault(keys, []).append(measurement)
    result: dict[str, tuple[list[int], np.ndarray]] = {}
    for tag_keys, members in groups.items():
        sizes = [m.table.num_rows for m in members]
        row_hash = np.repeat(
            np.array([_hash64(m.measurement) for m in members], dtype=np.uint64), sizes
        )
        for key in tag_keys:
            # Chunks, not ChunkedArrays: pa.chunked_array converts those slowly (~70 µs).
            chunks = [chunk for m in members for chunk in m.table.column(key).chunks]
            column = pa.concat_arrays(chunks) if chunks else pa.array([], type=pa.string())
            row_hash += _tag_hashes(key, column)
        start = 0
        for member, size in zip(members, sizes, strict=True):
            keys_of, inverse = np.unique(row_hash[start : start + size], return_inverse=True)
            result[member.measurement] = ([int(k) for k in keys_of], inverse.reshape(-1))
            start += size
    return result


def _tag_hashes(key: str, column: pa.Array) -> np.ndarray:
    """Each row's ``key=value`` hash (0 for a null or empty value)."""
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    # One extra 0 at the end: a null's code, -1, indexes it.
    hashes = [_hash64(f"{key}={v}") if v else 0 for v in values] + [0]
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    row_hashes: np.ndarray = np.array(hashes, dtype=np.uint64)[codes]
    return row_hashes


def _hash64(text: str) -> int:
    return hash(text) & 0xFFFF_FFFF_FFFF_FFFF
