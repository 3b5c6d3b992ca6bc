"""The in-memory write buffer: Arrow chunks per (db, rp, measurement, shard group).

Rows land here once their WAL record is durable and are queryable right away. Every
row carries ``__seq``, the write's sequence number (one per row, increasing in
acknowledgement order), which is how reads and persistence decide "last write wins"
without depending on the order chunks are kept in. A flush swaps the active chunks
out to ``persisting`` (still readable) and drops them once their Parquet files are
committed in the manifest.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import TIME_COLUMN
from crisp.storage.catalog import SeriesSummary
from crisp.storage.retention import shard_group_start

SEQ_COLUMN = "__seq"
# Past this many tracked (series, time range) pairs a partition stops proving it has
# no duplicates and reads deduplicate it as before: the proof is a read-time saving
# and must not cost unbounded memory at high cardinality. Time-ordered writes keep one
# range per series, however many writes a partition takes.
MAX_TRACKED_RANGES = 250_000

# A series independent of which tag columns a table had: names and values of its
# non-null tags.
_SeriesId = tuple[tuple[str, ...], tuple[str, ...]]


class PartitionKey(NamedTuple):
    database: str
    rp: str
    measurement: str
    shard_start_ns: int
    shard_end_ns: int


# Runs of this many chunks under SMALL_CHUNK_ROWS rows are coalesced into one
# (``Partition._coalesce_tail``).
COALESCE_CHUNKS = 16
SMALL_CHUNK_ROWS = 8_192


@dataclass
class Partition:
    chunks: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    min_time_ns: int = 2**63 - 1
    max_time_ns: int = -(2**63)
    # Per chunk, its series and their time ranges (None: unknown). Reads skip the
    # costly per-field dedupe when no two rows can share a series and time; that is
    # proved lazily, chunk by chunk, by ``duplicate_free`` (so writers never pay for it
    # under the WAL lock), keeping per series the disjoint time ranges of its chunks.
    # The proof has its own lock, never taken with the buffer's: a reader proving a
    # thousand new chunks must not hold up writers' appends.
    summaries: list[SeriesSummary | None] = field(default_factory=list)
    _proof_lock: threading.Lock = field(default_factory=threading.Lock)
    _checked: int = 0
    _duplicate_free: bool = True
    _ranges: dict[_SeriesId, list[tuple[int, int]]] = field(default_factory=dict)
    _tracked: int = 0
    _small_tail: int = 0  # small chunks at the end of ``chunks``, not coalesced yet

    def add(
        self,
        table: pa.Table,
        min_time: int,
        max_time: int,
        summary: SeriesSummary | None = None,
    ) -> None:
        self.chunks.append(table)
        self.summaries.append(summary)
        self.rows += table.num_rows
        self.min_time_ns = min(self.min_time_ns, min_time)
        self.max_time_ns = max(self.max_time_ns, max_time)
        if table.num_rows < SMALL_CHUNK_ROWS:
            self._small_tail += 1
            if self._small_tail >= COALESCE_CHUNKS:
                self._coalesce_tail()
        else:
            self._small_tail = 0

    def _coalesce_tail(self) -> None:
        """Make the run of small chunks at the end one chunk.

        Reads scan the buffer as a registered Arrow table, and DuckDB pays for every
        record batch: 200 chunks of 500 rows scanned in 5 ms what one chunk of the same
        100 k rows scanned in 2. Writers of small bodies (500 lines) would leave
        thousands. The copy is small (at most COALESCE_CHUNKS small chunks) and the old
        chunks are freed once no snapshot holds them. ``summaries`` stays one per
        written chunk: the duplicate proof counts written chunks, not these.
        """
        tail = self.chunks[-self._small_tail :]
        merged = pa.concat_tables(tail, promote_options="default").combine_chunks()
        self.chunks[-self._small_tail :] = [merged]
        self._small_tail = 0

    def duplicate_free(self, chunks: int | None = None) -> bool:
        """True if no (series, time) is in two of the first ``chunks`` chunks' rows (all
        chunks if None); False means "maybe". Safe while writers append chunks."""
        upto = len(self.summaries) if chunks is None else chunks
        with self._proof_lock:
            while self._duplicate_free and self._checked < upto:
                summary = self.summaries[self._checked]
                self._checked += 1
                if summary is None or not summary.distinct_times or not self._track(summary):
                    self._duplicate_free = False
                    self._ranges = {}
            return self._duplicate_free

    def _track(self, summary: SeriesSummary) -> bool:
        """Record a chunk's per-series ranges; False if one overlaps an earlier chunk's."""
        names = summary.tag_names
        ranges = self._ranges
        for row, lo, hi in zip(summary.rows, summary.min_time, summary.max_time, strict=True):
            if None in row:
                kept = [(k, v) for k, v in zip(names, row, strict=True) if v is not None]
                key: _SeriesId = (tuple(k for k, _ in kept), tuple(str(v) for _, v in kept))
            else:
                key = (names, row)  # type: ignore[assignment]  # no None: all str
            spans = ranges.get(key)
            if spans is None:
                ranges[key] = [(lo, hi)]
                self._tracked += 1
            elif spans[-1][1] < lo:
                # The in-order case: after everything so far. Widening the last span
                # over the gap keeps one span per series for time-ordered writes; a
                # later write into the gap then merely counts as a possible overlap.
                spans[-1] = (spans[-1][0], hi)
            else:
                at = bisect.bisect_left(spans, (lo, lo))
                if (at < len(spans) and spans[at][0] <= hi) or (at and spans[at - 1][1] >= lo):
                    return False
                spans.insert(at, (lo, hi))
                self._tracked += 1
        return self._tracked <= MAX_TRACKED_RANGES


# What a write adds to one partition: its rows, their time range and series summary.
BufferChunk = tuple[PartitionKey, pa.Table, int, int, SeriesSummary | None]


def with_seq(table: pa.Table, first_seq: int) -> pa.Table:
    # From NumPy, not range(): no Python int per row.
    seqs = pa.array(np.arange(first_seq, first_seq + table.num_rows, dtype=np.int64))
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

    def add(self, parts: list[BufferChunk]) -> None:
        with self._lock:
            for key, table, lo, hi, summary in parts:
                self._active.setdefault(key, Partition()).add(table, lo, hi, summary)
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
                target = self._persisting.get(key)
                if target is None:
                    self._persisting[key] = part  # the usual case: keeps its proof
                    continue
                # Left over from a failed flush: merged without summaries, so reads
                # of it deduplicate (rare, and always correct).
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
    ) -> list[tuple[PartitionKey, Partition, Callable[[], bool]]]:
        """Partitions (snapshots of their chunk lists) overlapping [lo, hi), each with
        a call telling whether that snapshot is provably free of duplicate (series,
        time) rows; make it after releasing other locks (it may take a while)."""
        out: list[tuple[PartitionKey, Partition, Callable[[], bool]]] = []
        with self._lock:
            for source in (self._persisting, self._active):
                for key, part in source.items():
                    if (key.database, key.rp, key.measurement) != (database, rp, measurement):
                        continue
                    if lo is not None and part.max_time_ns < lo:
                        continue
                    if hi is not None and part.min_time_ns >= hi:
                        continue
                    copy = Partition(
                        list(part.chunks), part.rows, part.min_time_ns, part.max_time_ns
                    )
                    # Proved by written chunks (summaries), which coalescing keeps.
                    proved = partial(part.duplicate_free, len(part.summaries))
                    out.append((key, copy, proved))
        return out

    def is_empty(self) -> bool:
        with self._lock:
            return not self._active and not self._persisting

    def chunks_for_all(self) -> list[PartitionKey]:
        """Keys of every buffered partition (retention looks for expired shard groups)."""
        with self._lock:
            return list(self._active) + list(self._persisting)
