"""Tunables of the embedded storage engine, with InfluxDB-like defaults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import CollectorRegistry

from crisp.core.batch import ParseResult

FsyncPolicy = Literal["always", "interval"]
# (body, precision, default time in ns) → points and rejected lines. Injected so the
# engine can log line protocol before parsing it without depending on a parser.
LinesParser = Callable[[bytes, str, int], ParseResult]


def wall_clock_ns() -> int:
    return time.time_ns()


@dataclass(frozen=True)
class EngineOptions:
    """How the engine trades durability, memory and latency.

    ``clock`` is injectable so tests drive retention without sleeping; it returns
    nanoseconds since the epoch like ``time.time_ns``.
    """

    wal_fsync: FsyncPolicy = "always"
    # Only for "interval": how often the background thread fsyncs the open segment.
    wal_fsync_interval_s: float = 1.0
    # A segment is closed and a new one started past this size, so persisted data can be
    # reclaimed segment by segment.
    wal_segment_max_bytes: int = 64 * 1024 * 1024
    buffer_max_rows: int = 500_000
    buffer_max_age_s: float = 60.0
    max_series_per_measurement: int = 1_000_000
    max_series_per_database: int = 10_000_000
    # Compaction merges this many files of one size tier (crisp.storage.compaction);
    # tier 0 is files below buffer_max_rows rows.
    compaction_min_files: int = 4
    # A shard group no flush has landed in for this long is merged into one file.
    compaction_cold_after_s: float = 300.0
    # Period of the maintenance thread (age flush, compaction, retention).
    maintenance_interval_s: float = 1.0
    # False disables the background threads; tests then call Engine.flush() and
    # Engine.run_maintenance() themselves.
    background: bool = True
    duckdb_threads: int = 2
    duckdb_memory_limit: str = "1GB"
    clock: Callable[[], int] = wall_clock_ns
    # Enables Engine.write_lines (and replay of its WAL records).
    parse_lines: LinesParser | None = None
    # Logged-but-unparsed bodies held in memory past this make writers parse some
    # themselves, so a parser that falls behind slows acknowledgements, not memory.
    unapplied_lines_max_bytes: int = 8 * 1024 * 1024
    registry: CollectorRegistry | None = field(default=None, compare=False)
