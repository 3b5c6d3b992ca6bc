"""The in-memory write buffer: Arrow chunks per (db, rp, measurement, shard group).

Rows land here once their WAL record is durable and are queryable right away. Every
row carries ``__seq``, the write's sequence number (one per row, increasing in
acknowledgement order), which is how reads and persistence decide "last write wins"
without depending on the order chunks are kept in. A flush swaps the active chunks
out to ``persisting`` (still readable) and drops them once their Parquet files are
committed in the manifest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import TIME_COLUMN
from crisp.storage.retention import shard_group_start

SEQ_COLUMN = "__seq"


class PartitionKey(NamedTuple):
    database: str
    rp: str
    measurement: str
    shard_start_ns: int
    shard_end_ns: int


@dataclass
class Partition:
    chunks: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    min_time_ns: int = 2**63 - 1
    max_time_ns: int = -(2**63)

    def add(self, table: pa.Table, min_time: int, max_time: int) -> None:
        self.chunks.append(table)
        self.rows += table.num_rows
        self.min_time_ns = min(self.min_time_ns, min_time)
        self.max_time_ns = max(self.max_time_ns, max_time)


def with_seq(table: pa.Table, first_seq: int) -> pa.Table:
    seqs = pa.array(range(first_seq, first_seq + table.num_rows), pa.int64())
    return table.append_column(pa.field(SEQ_COLUMN, pa.int64(), nullable=False), seqs)


def split_by_shard_group(
    table: pa.Table, shard_group_duration_ns: int
) -> list[tuple[int, pa.Table, int, int]]:
    """(shard start, rows, min time, max time) per shard group the table touches."""
    times = table.column(TIME_COLUMN)
    bounds = pc.min_max(times)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    first = shard_group_start(lo, shard_group_duration_ns)
    if shard_group_start(hi, shard_group_duration_ns) == first:
        return [(first, table, lo, hi)]
    # Shift so every value is ≥ 0: Arrow's integer division then equals floor division.
    offsets = pc.divide(pc.subtract_checked(times, first), shard_group_duration_ns)
    out = []
    for slot in pc.unique(offsets).to_pylist():
        part = table.filter(pc.equal(offsets, slot))
        part_bounds = pc.min_max(part.column(TIME_COLUMN))
        start = first + slot * shard_group_duration_ns
        out.append((start, part, part_bounds["min"].as_py(), part_bounds["max"].as_py()))
    return out


class Buffer:
    """Thread-safe; readers get immutable chunk lists, never a half-applied write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[PartitionKey, Partition] = {}
        self._persisting: dict[PartitionKey, Partition] = {}
        self._active_rows = 0
        self._oldest_monotonic: float | None = None

    def add(self, parts: list[tuple[PartitionKey, pa.Table, int, int]]) -> None:
        with self._lock:
            for key, table, lo, hi in parts:
                self._active.setdefault(key, Partition()).add(table, lo, hi)
                self._active_rows += table.num_rows
            if self._oldest_monotonic is None:
                self._oldest_monotonic = time.monotonic()

    @property
    def active_rows(self) -> int:
        return self._active_rows

    @property
    def total_rows(self) -> int:
        with self._lock:
            return self._active_rows + sum(p.rows for p in self._persisting.values())

    def age_s(self) -> float:
        oldest = self._oldest_monotonic
        return 0.0 if oldest is None else time.monotonic() - oldest

    def swap(self) -> dict[PartitionKey, Partition]:
        """Move the active partitions to ``persisting`` and return all of ``persisting``.

        Partitions left in ``persisting`` by a failed flush are merged in, so the next
        flush retries them.
        """
        with self._lock:
            for key, part in self._active.items():
                target = self._persisting.setdefault(key, Partition())
                for chunk in part.chunks:
                    target.add(chunk, part.min_time_ns, part.max_time_ns)
            self._active = {}
            self._active_rows = 0
            self._oldest_monotonic = None
            return dict(self._persisting)

    def persisted(self) -> None:
        with self._lock:
            self._persisting = {}

    def chunks_for(
        self, database: str, rp: str, measurement: str, lo: int | None, hi: int | None
    ) -> list[tuple[PartitionKey, Partition]]:
        """Partitions (snapshots of their chunk lists) overlapping [lo, hi)."""
        out = []
        with self._lock:
            for source in (self._persisting, self._active):
                for key, part in source.items():
                    if (key.database, key.rp, key.measurement) != (database, rp, measurement):
                        continue
                    if lo is not None and part.max_time_ns < lo:
                        continue
                    if hi is not None and part.min_time_ns >= hi:
                        continue
                    copy = Partition(list(part.chunks), part.rows, part.min_time_ns,
                                     part.max_time_ns)
                    out.append((key, copy))
        return out

    def is_empty(self) -> bool:
        with self._lock:
            return not self._active and not self._persisting

    def chunks_for_all(self) -> list[PartitionKey]:
        """Keys of every buffered partition (retention looks for expired shard groups)."""
        with self._lock:
            return list(self._active) + list(self._persisting)
