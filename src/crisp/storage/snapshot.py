"""Reads: the locked-down DuckDB database, file pins and the ``points`` view.

One in-process DuckDB database serves every snapshot; each snapshot gets its own
cursor (its own connection to that database), so snapshots run in parallel threads and
their temp views and registered buffer tables never collide. The database cannot
touch the file system outside the data directory and its configuration is locked, so
no query text can read /etc/passwd, install extensions or lift those limits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from crisp.core.batch import TIME_COLUMN, FieldType
from crisp.storage.buffer import SEQ_COLUMN
from crisp.storage.persist import dedupe_sql, ident, literal, read_parquet_sql

DUCKDB_TYPES = {
    FieldType.FLOAT: "DOUBLE",
    FieldType.INTEGER: "BIGINT",
    FieldType.UNSIGNED: "UBIGINT",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.STRING: "VARCHAR",
}
BUFFER_TABLE = "__crisp_buffer"


# Snapshots reading at most this many rows run on a single-threaded DuckDB database:
# for small queries (an alert rule's last minutes, a drill-down of one service) a second
# thread costs more CPU than it saves time (measured on the alert benchmark's mix: 6.1-7.3
# against 8.0-8.4 ms of CPU per query, the same latency).
SMALL_QUERY_ROWS = 500_000


class ReadDatabase:
    """The engine's query-side DuckDB databases, restricted to ``data_dir``: one with
    ``threads`` for large reads, one with a single thread for small ones."""

    def __init__(self, data_dir: Path, *, threads: int, memory_limit: str) -> None:
        self._lock = threading.Lock()
        self._con = _locked_database(data_dir, threads, memory_limit)
        self._small = (
            _locked_database(data_dir, 1, memory_limit) if threads > 1 else self._con
        )

    def cursor(self, *, rows: int | None = None) -> Any:
        """A cursor on the database suited to reading about ``rows`` rows (None: many)."""
        small = rows is not None and rows <= SMALL_QUERY_ROWS
        with self._lock:
            return (self._small if small else self._con).cursor()

    def close(self) -> None:
        with self._lock:
            self._con.close()
            if self._small is not self._con:
                self._small.close()


def _locked_database(data_dir: Path, threads: int, memory_limit: str) -> Any:
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = {literal(memory_limit)}")
    allowed = str(data_dir.resolve()) + "/"
    # Data files are immutable (a new id for every write), so their footers can be
    # cached: saves re-reading them on every snapshot.
    con.execute("SET parquet_metadata_cache = true")
    con.execute(f"SET allowed_directories = [{literal(allowed)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")
    return con


class FilePins:
    """Reference counts on files read by open snapshots; deletion waits for zero."""

    def __init__(self, delete: Callable[[Path], None]) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Path, int] = {}
        self._retired: set[Path] = set()
        self._delete = delete

    def pin(self, paths: list[Path]) -> None:
        with self._lock:
            for p in paths:
                self._counts[p] = self._counts.get(p, 0) + 1

    def unpin(self, paths: list[Path]) -> None:
        doomed = []
        with self._lock:
            for p in paths:
                left = self._counts[p] - 1
                if left:
                    self._counts[p] = left
                else:
                    del self._counts[p]
                    if p in self._retired:
                        self._retired.discard(p)
                        doomed.append(p)
        for p in doomed:
            self._delete(p)

    def retire(self, paths: list[Path]) -> None:
        """Delete now, or when the last snapshot reading the file closes."""
        doomed = []
        with self._lock:
            for p in paths:
                if p in self._counts:
                    self._retired.add(p)
                else:
                    doomed.append(p)
        for p in doomed:
            self._delete(p)

    def pinned(self) -> set[Path]:
        with self._lock:
            return set(self._counts)


@dataclass
class EngineSnapshot:
    """What ``Engine.snapshot`` yields (implements ``crisp.storage.api.Snapshot``)."""

    _connection: Any
    _schema: pa.Schema

    @property
    def connection(self) -> Any:
        return self._connection

    @property
    def schema(self) -> pa.Schema:
        return self._schema


# Beyond this many separate ranges to deduplicate, neighbours are merged (a superset,
# so still correct): each range is a term of the view's filter.
MAX_DEDUPE_RANGES = 32

Source = tuple[int, int, bool] | tuple[int, int, bool, bool]
"""min time, max time, known free of duplicates[, a file proved to share no row with
other such files (``FileEntry.disjoint``)]."""


def dedupe_ranges(sources: list[Source]) -> list[tuple[int, int]]:
    """The time ranges (inclusive, sorted, disjoint) in which reads must merge rows of
    the same series and time; empty when no source can share a row with another.

    Files are deduped on write; a buffer partition is known duplicate-free or not.
    Two sources can share a row only where their time ranges overlap, and flushes of
    time-ordered writes overlap only at their boundary timestamps: limiting the merge
    (a GROUP BY over every tag) to those ranges leaves the other rows a plain scan.
    Two files both proved disjoint need no merge where they overlap: the merge's scan
    cannot skip row groups by time (files are sorted by series), so at 4,000 hosts it
    read a million rows to keep a boundary timestamp's 16 k.
    """
    needed: list[tuple[int, int]] = [(s[0], s[1]) for s in sources if not s[2]]
    reach: int | None = None  # the furthest end of the earlier sources
    reach_open: int | None = None  # … of the earlier sources not proved disjoint
    for source in sorted(sources):
        lo, hi = source[0], source[1]
        proved = len(source) > 3 and bool(source[3])
        # A proved file overlapping only proved files shares no row with them.
        limit = reach_open if proved else reach
        if limit is not None and lo <= limit:
            # A superset of this source's overlap with the earlier ones: enough.
            needed.append((lo, min(hi, limit)))
        reach = hi if reach is None else max(reach, hi)
        if not proved:
            reach_open = hi if reach_open is None else max(reach_open, hi)
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(needed):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    while len(merged) > MAX_DEDUPE_RANGES:
        gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
        i = gaps.index(min(gaps))
        merged[i : i + 2] = [(merged[i][0], merged[i + 1][1])]
    return merged


def create_points_view(
    cursor: Any,
    *,
    tags: list[str],
    fields: dict[str, FieldType],
    files: list[Path],
    buffer: pa.Table | None,
    dedupe: list[tuple[int, int]],
    start_ns: int | None,
    end_ns: int | None,
    complete: bool = False,
) -> None:
    """CREATE TEMP VIEW points: files ∪ buffer, every schema column, range-filtered.

    ``complete`` says every file and the buffer have every column: the typed
    zero-row source and its UNION are then left out, which halves the time DuckDB
    takes to bind the view and lets the one-source case scan the file directly
    (measured: Q1 of the TSBS set 3.6 → 2.3 ms of DuckDB time). ``dedupe`` lists the
    time ranges whose rows are merged per series and time (``dedupe_ranges``).
    """
    field_names = sorted(fields)
    sources = []
    if not complete or not (files or (buffer is not None and buffer.num_rows)):
        # A typed zero-row source first, so every column exists with its type even
        # when no file or buffer chunk has it.
        typed = [f"NULL::BIGINT AS {ident(TIME_COLUMN)}"]
        typed += [f"NULL::VARCHAR AS {ident(t)}" for t in tags]
        typed += [f"NULL::{DUCKDB_TYPES[fields[f]]} AS {ident(f)}" for f in field_names]
        typed.append(f"NULL::BIGINT AS {SEQ_COLUMN}")
        sources.append(f"SELECT {', '.join(typed)} WHERE false")
    if files:
        sources.append(read_parquet_sql(files))
    if buffer is not None and buffer.num_rows:
        cursor.register(BUFFER_TABLE, buffer)
        sources.append(f"SELECT * FROM {BUFFER_TABLE}")
    union = sources[0] if len(sources) == 1 else " UNION ALL BY NAME ".join(
        f"({s})" for s in sources
    )
    conditions = []
    if start_ns is not None:
        conditions.append(f"{ident(TIME_COLUMN)} >= {int(start_ns)}")
    if end_ns is not None:
        conditions.append(f"{ident(TIME_COLUMN)} < {int(end_ns)}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else " WHERE true"
    filtered = f"SELECT * FROM ({union}){where}"
    columns = [ident(c) for c in [TIME_COLUMN, *tags, *field_names]]
    if dedupe:
        time = ident(TIME_COLUMN)
        overlap = " OR ".join(f"{time} BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in dedupe)
        merged = dedupe_sql(f"{filtered} AND ({overlap})", tags, field_names, keep_seq=False)
        plain = f"{filtered} AND NOT ({overlap})"
        cursor.execute(
            f"CREATE TEMP VIEW points AS SELECT {', '.join(columns)} FROM ({plain}) "
            f"UNION ALL SELECT {', '.join(columns)} FROM ({merged})"
        )
    else:
        cursor.execute(
            f"CREATE TEMP VIEW points AS SELECT {', '.join(columns)} FROM ({union}){where}"
        )
