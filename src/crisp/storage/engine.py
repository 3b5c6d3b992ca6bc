"""The embedded storage engine: ``Engine`` implements ``crisp.storage.api.Storage``.

Data path (InfluxDB 3 shape): write() → WAL record (group commit, fsync) → in-memory
Arrow buffer → Parquet files per database/rp/measurement/shard group, committed by an
atomic manifest swap. Reads are DuckDB views over files ∪ buffer.

Locks, always taken in this order (never the reverse):
``_rw`` (writes shared, destructive ops exclusive) → ``_flush_lock`` (one flush,
compaction or rewrite at a time) → ``Wal.io_lock`` → buffer lock; ``_state_lock``
(manifest + catalog) is held only briefly and never while waiting for I/O of others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
from prometheus_client import CollectorRegistry

from crisp.core.batch import (
    KIND_FIELD,
    TIME_COLUMN,
    FieldType,
    PointBatch,
    column_kind,
    measurement_schema,
)
from crisp.storage.api import (
    DatabaseNotFound,
    FieldTypeConflict,
    LimitExceeded,
    RetentionPolicy,
    RetentionPolicyNotFound,
    Snapshot,
    Storage,
    StorageError,
    TimeRange,
    WriteResult,
)
from crisp.storage.buffer import (
    SEQ_COLUMN,
    Buffer,
    BufferChunk,
    Partition,
    PartitionKey,
    split_by_shard_group,
    with_seq,
)
from crisp.storage.catalog import Catalog, SeriesSummary, summarize, summarize_and_encode
from crisp.storage.compaction import plan_merges
from crisp.storage.dirlock import DataDirLock
from crisp.storage.files import FileStore
from crisp.storage.locks import SharedExclusiveLock
from crisp.storage.manifest import (
    FileEntry,
    Manifest,
    load_manifest,
    save_manifest,
)
from crisp.storage.metrics import StorageMetrics
from crisp.storage.options import EngineOptions
from crisp.storage.pending import PendingLines
from crisp.storage.refusals import drop_refused_points
from crisp.storage.rejected import RejectedLines
from crisp.storage.retention import default_shard_group_duration, is_expired
from crisp.storage.shared_views import SharedView, SharedViews
from crisp.storage.snapshot import (
    EngineSnapshot,
    ReadDatabase,
    Source,
    create_points_view,
    dedupe_ranges,
)
from crisp.storage.wal import (
    Wal,
    WalLines,
    decode_record,
    encode_lines,
    encode_write,
    lines_in,
)

__all__ = ["Engine", "EngineOptions"]

log = logging.getLogger(__name__)

DEFAULT_RP = "autogen"
WAL_DIR = "wal"
# A writer flushes inline once the buffer holds this many times buffer_max_rows.
BACKPRESSURE_FACTOR = 4


# A new file overlapping more files than this in time is not checked (marked not
# disjoint): the check reads every one of them.
MAX_DISJOINT_PROOF_FILES = 16


class Engine:
    """Embedded InfluxDB-1.x-compatible storage under one data directory."""

    def __init__(
        self,
        data_dir: Path,
        options: EngineOptions | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._opts = options or EngineOptions()
        self._dir = Path(data_dir).resolve()
        self._dir.mkdir(parents=True, exist_ok=True)
        self._dir_lock = DataDirLock(self._dir)
        self.metrics = StorageMetrics(registry if registry is not None else self._opts.registry)
        self._state_lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._rw = SharedExclusiveLock()
        self._closed = False
        try:
            self._manifest: Manifest = load_manifest(self._dir)
        except BaseException:
            self._dir_lock.release()
            raise
        self._catalog = Catalog()
        self._buffer = Buffer()
        self._pending = PendingLines()
        # When a flush last added a file to each shard group: compaction merges a group
        # whole once nothing has landed in it for compaction_cold_after_s.
        self._landed: dict[tuple[str, str, str, int], float] = {}
        self._opened_at = time.monotonic()
        self._rejected = RejectedLines(self._dir, self._opts.clock)
        self._files = FileStore(self._dir, duckdb_threads=self._opts.duckdb_threads)
        self._reads = ReadDatabase(
            self._dir,
            threads=self._opts.duckdb_threads,
            memory_limit=self._opts.duckdb_memory_limit,
        )
        self._shared_views = SharedViews(self._files.pins.unpin)
        self._wal = Wal(
            self._dir / WAL_DIR,
            fsync_always=self._opts.wal_fsync == "always",
            segment_max_bytes=self._opts.wal_segment_max_bytes,
            on_fsync=self.metrics.on_fsync,
        )
        try:
            self._files.remove_garbage(self._manifest.files)
            self._files.index_files(self._catalog, self._manifest.files)
            self._replay_wal()
            self._wal.open(self._manifest.wal_first_segment)
        except BaseException:
            # Refusing to open (e.g. WAL corruption) must not leak DuckDB databases.
            self._reads.close()
            self._files.close()
            self._dir_lock.release()
            raise
        self._update_gauges()
        release_arrow_memory()  # rebuilding the index read every file's tag columns
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        if self._opts.background:
            self._start_thread("crisp-storage-maintenance", self._maintenance_loop)
            if self._opts.wal_fsync == "interval":
                self._start_thread("crisp-storage-wal-fsync", self._fsync_loop)
            if self._opts.parse_lines is not None:
                self._start_thread("crisp-storage-lines", self._lines_loop)

    # -- open / recovery ---------------------------------------------------------------

    def _replay_wal(self) -> None:
        replayed = 0
        for payload in self._wal.replay(self._manifest.wal_first_segment):
            record = decode_record(payload)
            if isinstance(record, WalLines):
                self._manifest.next_seq = max(
                    self._manifest.next_seq, record.seq + record.seq_span
                )
                if self._opts.parse_lines is None:
                    raise StorageError(
                        "the WAL holds line-protocol records but this engine was opened "
                        "without a line-protocol parser (EngineOptions.parse_lines)"
                    )
                self._apply_parsed(record, self._parse_record(record), count=False)
                replayed += 1
                continue
            rps = self._manifest.databases.get(record.database)
            rows = sum(t.num_rows for t in record.tables.values())
            self._manifest.next_seq = max(self._manifest.next_seq, record.seq + rows)
            if rps is None or record.rp not in rps:
                continue  # database or rp dropped after this write was logged
            for name, table in record.tables.items():
                self._catalog.add_table(record.database, name, table)
            tables = list(record.tables.items())
            summaries = {name: summarize(table) for name, table in tables if table.num_rows}
            self._buffer.add(
                self._partition(record.database, rps[record.rp], record.seq, tables, summaries)
            )
            replayed += 1
        if replayed:
            log.info("replayed %d WAL records (%d rows)", replayed, self._buffer.active_rows)

    # -- databases and retention policies ----------------------------------------------

    def databases(self) -> list[str]:
        with self._state_lock:
            return sorted(self._manifest.databases)

    def create_database(self, name: str) -> None:
        if not name:
            raise StorageError("database name required")
        with self._state_lock:
            if name in self._manifest.databases:
                return  # InfluxDB: CREATE DATABASE is idempotent
            rp = RetentionPolicy(DEFAULT_RP, 0, default_shard_group_duration(0), 1, True)
            self._manifest.databases[name] = {DEFAULT_RP: rp}
            save_manifest(self._dir, self._manifest)

    def drop_database(self, name: str) -> None:
        with self._state_lock:
            if name not in self._manifest.databases:
                return  # InfluxDB: DROP DATABASE of a missing database succeeds

        def ddl(manifest: Manifest) -> None:
            manifest.databases.pop(name, None)
            self._catalog.drop_database(name)
            self._forget_series_gauges(name, None)

        self._rewrite(lambda f: f.database == name, None, ddl)

    def retention_policies(self, database: str) -> list[RetentionPolicy]:
        with self._state_lock:
            return sorted(self._rps(database).values(), key=lambda rp: rp.name)

    def create_retention_policy(self, database: str, rp: RetentionPolicy) -> None:
        if not rp.name:
            raise StorageError("retention policy name required")
        if rp.duration_ns < 0 or rp.shard_group_duration_ns < 0:
            raise StorageError("retention policy durations must not be negative")
        if rp.shard_group_duration_ns == 0:
            rp = replace(rp, shard_group_duration_ns=default_shard_group_duration(rp.duration_ns))
        with self._state_lock:
            rps = self._rps(database)
            existing = rps.get(rp.name)
            if existing is not None:
                if existing == rp:
                    return
                raise StorageError(f"retention policy already exists: {rp.name}")
            if rp.default:
                for key, other in rps.items():
                    rps[key] = replace(other, default=False)
            rps[rp.name] = rp
            save_manifest(self._dir, self._manifest)

    def alter_retention_policy(
        self,
        database: str,
        name: str,
        *,
        duration_ns: int | None = None,
        shard_group_duration_ns: int | None = None,
        replication: int | None = None,
        default: bool | None = None,
    ) -> None:
        with self._state_lock:
            rps = self._rps(database)
            rp = rps.get(name)
            if rp is None:
                raise RetentionPolicyNotFound(database, name)
            changes: dict[str, object] = {}
            if duration_ns is not None:
                changes["duration_ns"] = duration_ns
            if shard_group_duration_ns is not None:
                changes["shard_group_duration_ns"] = shard_group_duration_ns or (
                    default_shard_group_duration(duration_ns or rp.duration_ns)
                )
            if replication is not None:
                changes["replication"] = replication
            if default:
                for key, other in rps.items():
                    rps[key] = replace(other, default=False)
            if default is not None:
                changes["default"] = default
            rps[name] = replace(rps[name], **changes)  # type: ignore[arg-type]
            save_manifest(self._dir, self._manifest)

    def drop_retention_policy(self, database: str, name: str) -> None:
        with self._state_lock:
            if name not in self._rps(database):
                return

        def ddl(manifest: Manifest) -> None:
            manifest.databases.get(database, {}).pop(name, None)

        self._rewrite(
            lambda f: f.database == database and f.rp == name,
            None,
            ddl,
            rebuild=[database],
        )

    def _rps(self, database: str) -> dict[str, RetentionPolicy]:
        rps = self._manifest.databases.get(database)
        if rps is None:
            raise DatabaseNotFound(database)
        return rps

    def _resolve_rp(self, database: str, rp: str | None) -> RetentionPolicy:
        rps = self._rps(database)
        if rp is None or rp == "":
            for policy in rps.values():
                if policy.default:
                    return policy
            raise RetentionPolicyNotFound(database, "(default)")
        named = rps.get(rp)
        if named is None:
            raise RetentionPolicyNotFound(database, rp)
        return named

    # -- writes ------------------------------------------------------------------------

    def write(self, database: str, rp: str | None, batch: PointBatch) -> WriteResult:
        """Durable (WAL fsynced under policy "always") and queryable when it returns."""
        tables = [(m.measurement, m.table) for m in batch if m.num_points]
        for name, table in tables:
            _check_table(name, table)
        # One summary per table, outside every lock: the catalog's new-series check and
        # the buffer's duplicate tracking both use it, the WAL record its encoded tags.
        summaries: dict[str, SeriesSummary] = {}
        encoded: dict[str, tuple[pa.Table, dict[str, pa.Array]]] = {}
        for name, table in tables:
            summaries[name], columns = summarize_and_encode(table)
            encoded[name] = (table, columns)
        with self._rw.shared():
            if self._closed:
                raise StorageError("storage engine is closed")
            with self._state_lock:
                policy = self._resolve_rp(database, rp)
                if not tables:
                    return WriteResult(0, 0)
                admitted = self._admit_to_catalog(database, tables, summaries)
                tables, summaries = admitted.tables, admitted.summaries
                if not tables:
                    return WriteResult(0, 0, admitted.dropped, admitted.reasons)
                rows = sum(t.num_rows for _, t in tables)
                seq = self._manifest.next_seq
                self._manifest.next_seq += rows
            parts = self._partition(database, policy, seq, tables, summaries)
            # Encoded columns only of tables the catalog kept whole.
            reuse = {name: encoded[name][1] for name, t in tables if encoded[name][0] is t}
            payload = encode_write(seq, database, policy.name, dict(tables), reuse)
            self._wal.append(payload, lambda: self._buffer.add(parts))
        self.metrics.wal_records.inc()
        values = self._count_written(rows, tables)
        self._after_buffer_add()
        return WriteResult(rows, values, admitted.dropped, admitted.reasons)

    def _admit_to_catalog(
        self,
        database: str,
        tables: list[tuple[str, pa.Table]],
        summaries: dict[str, SeriesSummary],
    ) -> _Admitted:
        """Check types and series limits, then record new series; under _state_lock.

        Points the check refuses are dropped one by one (``crisp.storage.refusals``);
        the strict check runs first so a clean write pays nothing for that.
        """
        limits = {
            "max_series_per_measurement": self._opts.max_series_per_measurement,
            "max_series_per_database": self._opts.max_series_per_database,
        }
        dropped = 0
        reasons: tuple[str, ...] = ()
        try:
            delta = self._catalog.plan(database, tables, summaries=summaries, **limits)
        except (FieldTypeConflict, LimitExceeded) as exc:
            self.metrics.writes_refused.labels(type(exc).__name__).inc()
            refusals = drop_refused_points(self._catalog, database, tables, **limits)
            tables, dropped, reasons = refusals.tables, refusals.dropped, tuple(refusals.reasons)
            summaries = {name: summarize(table) for name, table in tables}
            delta = self._catalog.plan(database, tables, summaries=summaries, **limits)
        for measurement in self._catalog.apply(delta):
            self.metrics.series.labels(database, measurement).set(
                self._catalog.series_count(database, measurement)
            )
        summaries = {
            name: self._catalog.shared_summary(
                database, name, summary, delta.resolved_rows(name)
            )
            for name, summary in summaries.items()
        }
        return _Admitted(tables, summaries, dropped, reasons)

    def _count_written(self, points: int, tables: list[tuple[str, pa.Table]]) -> int:
        self.metrics.points_written.inc(points)
        # Counted here, not with PointBatch.num_values: that property calls
        # ChunkedArray.num_rows, which pyarrow does not have (bug reported to core).
        values = sum(_count_values(t) for _, t in tables)
        self.metrics.values_written.inc(values)
        return values

    def _after_buffer_add(self) -> None:
        self.metrics.buffer_rows.set(self._buffer.active_rows)
        if self._buffer.active_rows >= self._opts.buffer_max_rows:
            self._wake.set()
            if self._buffer.active_rows >= BACKPRESSURE_FACTOR * self._opts.buffer_max_rows:
                # Writers outrun the background flush: make this writer wait for one
                # rather than let the buffer grow without bound.
                self.flush()

    # -- line protocol logged before parsing -----------------------------------------------

    def write_lines(
        self, database: str, rp: str | None, body: bytes, precision: str, default_time_ns: int
    ) -> int:
        """Log a line-protocol body and return once it is durable; parse it just after.

        The acknowledgement costs a compression and the group-commit fsync, not a parse.
        The rows become visible to every read that starts after this returns (reads
        parse what is still pending first). Lines the parser or the catalog refuse
        later are kept under ``rejected/`` (see ``crisp.storage.rejected``), counted
        and logged. Returns the number of sequence numbers reserved (lines in body).
        """
        if self._opts.parse_lines is None:
            raise StorageError("this engine was opened without a line-protocol parser")
        with self._rw.shared():
            if self._closed:
                raise StorageError("storage engine is closed")
            with self._state_lock:
                policy = self._resolve_rp(database, rp)
                span = lines_in(body)
                seq = self._manifest.next_seq
                self._manifest.next_seq += span
            record = WalLines(seq, database, policy.name, precision, default_time_ns, body)
            self._wal.append(encode_lines(record), lambda: self._hold_pending(record))
        self.metrics.wal_records.inc()
        # Backpressure: a parser that falls behind makes writers parse, not memory grow.
        while self._pending.bytes > self._opts.unapplied_lines_max_bytes:
            claimed = self._pending.claim_next()
            if claimed is None:
                break
            self._apply_claimed(claimed)
        return span

    def _hold_pending(self, record: WalLines) -> None:
        """Runs under Wal.io_lock right after the fsync that made ``record`` durable."""
        self._pending.add(record)
        self.metrics.unapplied_bytes.set(self._pending.bytes)

    def settle(self) -> None:
        """Parse and apply every body ``write_lines`` acknowledged before this call."""
        if not self._pending:
            return
        for record in self._pending.snapshot():
            while self._pending.contains(record):
                if self._pending.claim(record):
                    self._apply_claimed(record)
                else:
                    self._pending.wait_gone(record)

    def _apply_claimed(self, record: WalLines) -> None:
        """Parse outside every lock, then apply unless a flush applied it meanwhile."""
        try:
            parsed = self._parse_record(record)
            with self._wal.io_lock:
                if not self._pending.contains(record):
                    return
                self._apply_parsed(record, parsed)
                self._pending.remove(record)
        finally:
            self._pending.release(record)
        self.metrics.unapplied_bytes.set(self._pending.bytes)
        self._after_buffer_add()

    def _parse_record(self, record: WalLines) -> _ParsedLines:
        assert self._opts.parse_lines is not None
        try:
            result = self._opts.parse_lines(
                record.body, record.precision, record.default_time_ns
            )
        except ValueError as exc:  # e.g. an unknown precision: every line is refused
            return _ParsedLines(0, [], {}, _every_line(record, str(exc)))
        rejected = [(e.line_number, e.reason) for e in result.errors]
        tables = [(m.measurement, m.table) for m in result.batch if m.num_points]
        try:
            for name, table in tables:
                _check_table(name, table)
        except StorageError as exc:
            return _ParsedLines(0, [], {}, _every_line(record, str(exc)))
        summaries = {name: summarize(table) for name, table in tables}
        return _ParsedLines(result.batch.num_points, tables, summaries, rejected)

    def _apply_parsed(self, record: WalLines, parsed: _ParsedLines, *, count: bool = True) -> None:
        """Catalog check and buffer add (caller holds io_lock, or is the replay). Points
        the catalog refuses are dropped as in ``write``; the body's lines go to
        ``rejected/``."""
        rejected = parsed.rejected
        if parsed.tables:
            try:
                with self._state_lock:
                    rps = self._manifest.databases.get(record.database)
                    policy = rps.get(record.rp) if rps is not None else None
                    if policy is None:
                        return  # dropped since (a drop flushes first: only on replay)
                    admitted = self._admit_to_catalog(
                        record.database, parsed.tables, parsed.summaries
                    )
            except StorageError as exc:
                rejected = _every_line(record, str(exc))
            else:
                if admitted.tables:
                    self._buffer.add(
                        self._partition(
                            record.database, policy, record.seq, admitted.tables,
                            admitted.summaries,
                        )
                    )
                    if count:
                        self._count_written(
                            sum(t.num_rows for _, t in admitted.tables), admitted.tables
                        )
                if admitted.dropped:
                    # Which lines the dropped points came from is not known after the
                    # parse: keep the whole body (resending it overwrites the rest).
                    rejected = _every_line(
                        record,
                        f"{'; '.join(admitted.reasons)} dropped={admitted.dropped} (the "
                        "body's other points were stored; resending all of it is safe)",
                    )
        if rejected:
            kept = self._rejected.add(record, sorted(rejected))
            self.metrics.lines_rejected_after_ack.inc(kept)

    def _lines_loop(self) -> None:
        while not self._stop.is_set():
            self._pending.wait_for_work(self._opts.maintenance_interval_s)
            try:
                while not self._stop.is_set():
                    record = self._pending.claim_next()
                    if record is None:
                        break
                    self._apply_claimed(record)
            except Exception:
                log.exception("applying logged line protocol failed; retrying")
                self._stop.wait(self._opts.maintenance_interval_s)

    def _partition(
        self,
        database: str,
        policy: RetentionPolicy,
        seq: int,
        tables: list[tuple[str, pa.Table]],
        summaries: dict[str, SeriesSummary],
    ) -> list[BufferChunk]:
        """Split a write into buffer chunks per shard group, each row tagged with its seq.

        Rows get consecutive sequence numbers in table order, the same on replay. A
        table's series summary goes with it only when it lands whole in one shard
        group (the summary covers the whole table); split tables are deduplicated on
        read, which is always correct.
        """
        out: list[BufferChunk] = []
        sgd = policy.shard_group_duration_ns
        for name, table in tables:
            tagged = with_seq(table, seq)
            seq += table.num_rows
            split = split_by_shard_group(tagged, sgd)
            for start, part, lo, hi in split:
                key = PartitionKey(database, policy.name, name, start, start + sgd)
                out.append((key, part, lo, hi, summaries.get(name) if len(split) == 1 else None))
        return out

    # -- catalog -----------------------------------------------------------------------

    def measurements(self, database: str) -> list[str]:
        self.settle()
        with self._state_lock:
            self._rps(database)
            return self._catalog.measurements(database)

    def tag_keys(self, database: str, measurement: str) -> list[str]:
        self.settle()
        with self._state_lock:
            self._rps(database)
            index = self._catalog.index(database, measurement)
            return sorted(index.tag_values) if index else []

    def tag_values(self, database: str, measurement: str, key: str) -> list[str]:
        self.settle()
        with self._state_lock:
            self._rps(database)
            index = self._catalog.index(database, measurement)
            return list(index.sorted_values(key)) if index else []

    def field_types(self, database: str, measurement: str) -> dict[str, FieldType]:
        self.settle()
        with self._state_lock:
            self._rps(database)
            index = self._catalog.index(database, measurement)
            return dict(index.fields) if index else {}

    def series(self, database: str, measurement: str) -> Iterator[dict[str, str]]:
        self.settle()
        with self._state_lock:
            self._rps(database)
            index = self._catalog.index(database, measurement)
            keys = index.sorted_series() if index else []
        return (dict(key) for key in keys)

    # -- reads -------------------------------------------------------------------------

    def snapshot(
        self,
        database: str,
        rp: str | None,
        measurement: str,
        time_range: TimeRange,
        *,
        shared: bool = False,
    ) -> AbstractContextManager[Snapshot]:
        return self._snapshot(database, rp, measurement, time_range, shared)

    @contextmanager
    def _snapshot(
        self,
        database: str,
        rp: str | None,
        measurement: str,
        time_range: TimeRange,
        shared: bool = False,
    ) -> Iterator[Snapshot]:
        lo, hi = time_range.start_ns, time_range.end_ns
        self.settle()
        with self._state_lock:
            if self._closed:
                raise StorageError("storage engine is closed")
            policy = self._resolve_rp(database, rp)
            index = self._catalog.index(database, measurement)
            tags = sorted(index.tag_values) if index else []
            fields = dict(index.fields) if index else {}
            files = [
                f for f in self._manifest.files
                if f.database == database and f.rp == policy.name
                and f.measurement == measurement
                and (lo is None or f.max_time_ns >= lo)
                and (hi is None or f.min_time_ns < hi)
            ]
            # Taken under the state lock too: a flush commits files and drops the
            # matching buffer rows under it, so we see each row exactly once.
            parts = self._buffer.chunks_for(database, policy.name, measurement, lo, hi)
            paths = [self._files.path(f) for f in files]
            self._files.pins.pin(paths)
        chunks = [c for _, p, _ in parts for c in p.chunks]
        if shared:
            key = (
                database, policy.name, measurement, tuple(f.file_id for f in files),
                tuple(map(id, chunks)), tuple(tags), tuple(fields.items()),
            )
            view = self._shared_views.take(key)
            if view is not None:
                # The view holds pins of its own on the same files.
                self._files.pins.unpin(paths)
                try:
                    yield EngineSnapshot(view.cursor, view.schema)
                finally:
                    self._shared_views.release(view)
                return
            if self._shared_views.can_keep():
                # Unfiltered: the caller's SQL applies the time range (see shared_views).
                lo = hi = None
            else:
                shared = False
        kept = False
        try:
            buffer = pa.concat_tables(chunks, promote_options="default") if chunks else None
            wanted = {TIME_COLUMN, *tags, *fields}
            complete = all(wanted <= self._files.column_names(p) for p in paths) and (
                buffer is None or wanted <= set(buffer.column_names)
            )
            sources: list[Source] = [
                (f.min_time_ns, f.max_time_ns, True, f.disjoint) for f in files
            ]
            sources += [(p.min_time_ns, p.max_time_ns, proof()) for _, p, proof in parts]
            rows = sum(f.rows for f in files) + sum(p.rows for _, p, _ in parts)
            cursor = self._reads.cursor(rows=rows)
            try:
                create_points_view(
                    cursor,
                    tags=tags,
                    fields=fields,
                    files=paths,
                    buffer=buffer,
                    dedupe=dedupe_ranges(sources),
                    start_ns=lo,
                    end_ns=hi,
                    complete=complete,
                )
                schema = measurement_schema(tags, fields)
                if shared:
                    view = SharedView(key, cursor, schema, paths, chunks, in_use=True)
                    self._shared_views.keep(view)
                    kept = True
                    try:
                        yield EngineSnapshot(cursor, schema)
                    finally:
                        self._shared_views.release(view)
                else:
                    yield EngineSnapshot(cursor, schema)
            finally:
                if not kept:
                    cursor.close()
        finally:
            if not kept:
                self._files.pins.unpin(paths)

    # -- persistence -------------------------------------------------------------------

    def flush(self) -> None:
        """Persist the whole buffer to Parquet now and release the WAL it covered."""
        with self._flush_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        with self._wal.io_lock:
            if self._buffer.active_rows == 0 and self._buffer.is_empty() and not self._pending:
                return
            first_live_segment = self._wal.rotate_locked()
            # Every pending body is in a segment this flush releases: its rows must be
            # in the buffer being swapped out. (A thread parsing one of them finds it
            # gone when it gets io_lock and drops its work.)
            for record in self._pending.take_all():
                self._apply_parsed(record, self._parse_record(record))
            self.metrics.unapplied_bytes.set(0)
            parts = self._buffer.swap()
        started = time.perf_counter()
        entries = []
        for key, part in parts.items():
            entry = self._files.write_partition(
                self._new_file_id(), key, part, duplicate_free=part.duplicate_free()
            )
            if entry is not None:
                entries.append(replace(entry, disjoint=self._proved_disjoint(entry, part)))
        landed = time.monotonic()
        for entry in entries:
            self._landed[entry.shard_key] = landed
        with self._state_lock:
            self._manifest.files.extend(entries)
            self._manifest.wal_first_segment = first_live_segment
            save_manifest(self._dir, self._manifest)
            self._buffer.persisted()
        self._wal.remove_segments_before(first_live_segment)
        self.metrics.persist_seconds.observe(time.perf_counter() - started)
        self._update_gauges()
        release_arrow_memory()

    def _proved_disjoint(self, entry: FileEntry, part: Partition) -> bool:
        """Whether the new file ``entry`` (``part``'s rows) shares no (series, time) with
        the files of its shard group (``FileEntry.disjoint``). Concurrent writers make
        consecutive flushes overlap at a boundary timestamp, and every read merges rows
        there unless this is proved; it costs one scan of the time and tag columns of
        the overlapping files, once per flush. Called under the flush lock: the shard
        group's files do not change meanwhile."""
        with self._state_lock:
            others = [
                f for f in self._manifest.files
                if f.shard_key == entry.shard_key
                and f.max_time_ns >= entry.min_time_ns and f.min_time_ns <= entry.max_time_ns
            ]
        if not others:
            return True
        if len(others) > MAX_DISJOINT_PROOF_FILES:
            return False
        lo = max(entry.min_time_ns, min(f.min_time_ns for f in others))
        hi = min(entry.max_time_ns, max(f.max_time_ns for f in others))
        table = pa.concat_tables(part.chunks, promote_options="default")
        try:
            return not self._files.shares_rows(table, others, lo, hi)
        except Exception:
            # Unproved is always correct (reads merge the overlap): never fail a flush.
            log.exception("could not check a new file against its shard group's files")
            return False

    def _new_file_id(self) -> int:
        with self._state_lock:
            file_id = self._manifest.next_file_id
            self._manifest.next_file_id += 1
        return file_id

    def files(self) -> list[FileEntry]:
        """Live Parquet files (for tests, tools and metrics)."""
        with self._state_lock:
            return list(self._manifest.files)

    @property
    def wal_fsync_count(self) -> int:
        return self._wal.fsync_count

    # -- compaction --------------------------------------------------------------------

    def compact(self) -> int:
        """Merge what ``crisp.storage.compaction.plan_merges`` picks; returns how many
        merges ran (each makes one file of several in one shard group)."""
        with self._flush_lock:
            with self._state_lock:
                files = list(self._manifest.files)
            now = time.monotonic()
            merges = plan_merges(
                files,
                fanout=self._opts.compaction_min_files,
                base_rows=self._opts.buffer_max_rows,
                is_cold=lambda key: now - self._landed.get(key, self._opened_at)
                >= self._opts.compaction_cold_after_s,
            )
            for group in merges:
                self._compact_group(group)
            if merges:
                release_arrow_memory()
            return len(merges)

    def _compact_group(self, group: list[FileEntry]) -> None:
        entry = self._files.merge(self._new_file_id(), group)
        old = {f.file_id for f in group}
        with self._state_lock:
            self._manifest.files = [f for f in self._manifest.files if f.file_id not in old]
            if entry is not None:
                self._manifest.files.append(entry)
            save_manifest(self._dir, self._manifest)
        self._files.retire(group)
        self.metrics.compactions.inc()
        self._update_gauges()

    # -- deletes and retention ---------------------------------------------------------

    def drop_measurement(self, database: str, measurement: str) -> None:
        with self._state_lock:
            self._rps(database)

        def ddl(manifest: Manifest) -> None:
            self._catalog.drop_measurement(database, measurement)
            self._forget_series_gauges(database, measurement)

        self._rewrite(
            lambda f: f.database == database and f.measurement == measurement, None, ddl
        )

    def delete(
        self,
        database: str,
        measurement: str | None,
        time_range: TimeRange,
        tags: dict[str, str] | None = None,
    ) -> None:
        """DELETE / DROP SERIES: remove matching rows (tag equality, time range)."""
        with self._state_lock:
            self._rps(database)
        lo, hi = time_range.start_ns, time_range.end_ns
        tags = dict(tags or {})

        def predicate(f: FileEntry) -> str | None:
            if f.database != database or (measurement is not None and f.measurement != measurement):
                return None
            return self._files.delete_predicate(f, lo, hi, tags)

        self._rewrite(lambda f: False, predicate, None, rebuild=[database])

    def _rewrite(
        self,
        drop: Callable[[FileEntry], bool],
        delete_where: Callable[[FileEntry], str | None] | None,
        ddl: Callable[[Manifest], None] | None,
        *,
        rebuild: Collection[str] = (),
    ) -> None:
        """Apply a destructive change as one manifest commit.

        ``rebuild`` names databases whose catalog is re-derived from the remaining
        files, inside the same exclusive section (no write can slip in between).

        Writers are held off and the buffer is flushed first, so every affected row is
        in a file and no WAL record can bring it back; then files are dropped or
        rewritten without the deleted rows, and one manifest swap makes it all visible.
        """
        with self._rw.exclusive(), self._flush_lock:
            self._flush_locked()
            with self._state_lock:
                files = list(self._manifest.files)
            keep: list[FileEntry] = []
            retired: list[FileEntry] = []
            for f in files:
                if drop(f):
                    retired.append(f)
                    continue
                where = delete_where(f) if delete_where else None
                if where is None:
                    keep.append(f)
                    continue
                entry = self._files.rewrite_without(self._new_file_id(), f, where)
                retired.append(f)
                if entry is not None:
                    keep.append(entry)
            with self._state_lock:
                self._manifest.files = keep
                if ddl is not None:
                    ddl(self._manifest)
                save_manifest(self._dir, self._manifest)
                for database in rebuild:
                    if database in self._manifest.databases:
                        self._rebuild_database_catalog(database)
            self._files.retire(retired)
        self._update_gauges()

    def _rebuild_database_catalog(self, database: str) -> None:
        """Re-derive a database's catalog from its files (buffer is empty here)."""
        for m in self._catalog.measurements(database):
            self._catalog.drop_measurement(database, m)
        self._forget_series_gauges(database, None)
        self._files.index_files(
            self._catalog, [f for f in self._manifest.files if f.database == database]
        )
        for m in self._catalog.measurements(database):
            self.metrics.series.labels(database, m).set(self._catalog.series_count(database, m))

    def _forget_series_gauges(self, database: str, measurement: str | None) -> None:
        doomed = {
            sample.labels["measurement"]
            for metric in self.metrics.series.collect()
            for sample in metric.samples
            if sample.labels.get("database") == database
            and measurement in (None, sample.labels.get("measurement"))
        }
        for name in doomed:
            self.metrics.series.remove(database, name)

    def apply_retention(self) -> int:
        """Drop every shard group whose end is older than now - rp.duration.

        Returns the number of shard groups dropped.
        """
        now = self._opts.clock()
        with self._state_lock:
            durations = {
                (db, rp.name): rp.duration_ns
                for db, rps in self._manifest.databases.items()
                for rp in rps.values()
            }
            shard_keys = {
                (f.database, f.rp, f.shard_start_ns, f.shard_end_ns)
                for f in self._manifest.files
            }
        for key in self._buffer.chunks_for_all():
            shard_keys.add((key.database, key.rp, key.shard_start_ns, key.shard_end_ns))
        expired = {
            k for k in shard_keys if is_expired(k[3], durations.get((k[0], k[1]), 0), now)
        }
        if not expired:
            return 0
        self._rewrite(
            lambda f: (f.database, f.rp, f.shard_start_ns, f.shard_end_ns) in expired,
            None,
            None,
            rebuild={k[0] for k in expired},
        )
        self.metrics.shard_groups_expired.inc(len(expired))
        return len(expired)

    # -- background work ---------------------------------------------------------------

    def run_maintenance(self) -> None:
        """One round of background work: flush if due, compact, apply retention."""
        if (
            self._buffer.active_rows >= self._opts.buffer_max_rows
            or (self._buffer.active_rows and self._buffer.age_s() >= self._opts.buffer_max_age_s)
        ):
            self.flush()
        self.compact()
        self.apply_retention()
        self._update_gauges()

    def _start_thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _maintenance_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._opts.maintenance_interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_maintenance()
            except Exception:
                log.exception("storage maintenance failed; retrying next round")

    def _fsync_loop(self) -> None:
        while not self._stop.wait(self._opts.wal_fsync_interval_s):
            try:
                self._wal.sync()
            except Exception:
                log.exception("WAL fsync failed")

    def _update_gauges(self) -> None:
        self.metrics.buffer_rows.set(self._buffer.total_rows)
        with self._state_lock:
            self.metrics.files.set(len(self._manifest.files))
            self.metrics.file_bytes.set(sum(f.size_bytes for f in self._manifest.files))
        with suppress(OSError):  # a segment may vanish while we stat it
            self.metrics.wal_bytes.set(self._wal.total_bytes())

    def close(self) -> None:
        """Persist the buffer, stop background threads, close the WAL. Idempotent."""
        with self._rw.exclusive():
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake.set()
        self._pending.wake_all()
        for thread in self._threads:
            thread.join()
        try:
            self.flush()
        finally:
            self._shared_views.close()
            self._wal.close()
            self._reads.close()
            self._files.close()
            self._dir_lock.release()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def release_arrow_memory() -> None:
    """Give the pages Arrow's allocator keeps after a flush, merge or index rebuild back
    to the system: it holds on to freed memory otherwise (measured: ~100 MB of resident
    memory after indexing 4,000 hosts × 1 h of api-latency)."""
    pa.default_memory_pool().release_unused()


@dataclass(frozen=True)
class _Admitted:
    tables: list[tuple[str, pa.Table]]
    summaries: dict[str, SeriesSummary]
    dropped: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _ParsedLines:
    points: int
    tables: list[tuple[str, pa.Table]]
    summaries: dict[str, SeriesSummary]
    rejected: list[tuple[int, str]]  # (1-based line number, reason)


def _every_line(record: WalLines, reason: str) -> list[tuple[int, str]]:
    """Every point line of a body refused whole (comments and blank lines are not)."""
    return [
        (number, reason)
        for number, line in enumerate(record.body.split(b"\n"), start=1)
        if line.strip() and not line.lstrip().startswith(b"#")
    ]


def _count_values(table: pa.Table) -> int:
    """Non-null field values of a measurement table."""
    return sum(
        len(table.column(f.name)) - table.column(f.name).null_count
        for f in table.schema
        if column_kind(f) == KIND_FIELD
    )


def _check_table(measurement: str, table: pa.Table) -> None:
    if not measurement:
        raise StorageError("measurement name required")
    if TIME_COLUMN not in table.column_names or table.schema.field(TIME_COLUMN).type != pa.int64():
        raise StorageError(f'measurement "{measurement}": missing int64 "time" column')
    if table.column(TIME_COLUMN).null_count:
        raise StorageError(f'measurement "{measurement}": null timestamps')
    if SEQ_COLUMN in table.column_names:
        raise StorageError(f'measurement "{measurement}": column name "{SEQ_COLUMN}" is reserved')


def _conforms(engine: Engine) -> Storage:
    """Never called: makes mypy check that Engine implements the Storage protocol."""
    return engine
