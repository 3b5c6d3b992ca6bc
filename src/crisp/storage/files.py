"""The Parquet file store: writing, merging, rewriting and deleting data files.

It does the file work of flushes, compactions, deletes and retention; the engine
decides when, under its locks, and commits the resulting file set in the manifest.
Nothing here changes the manifest, so a crash mid-way leaves only unreferenced files,
which ``remove_garbage`` deletes on the next open.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import TIME_COLUMN, FieldType
from crisp.storage.buffer import Partition, PartitionKey
from crisp.storage.catalog import Catalog
from crisp.storage.manifest import MANIFEST_NAME, FileEntry
from crisp.storage.persist import (
    DATA_DIR,
    FileStats,
    arrow_tag_counts,
    file_schema,
    ident,
    literal,
    read_parquet_sql,
    read_tags,
    shard_dir,
    sql_tag_counts,
    stored_tag_counts,
    union_schema,
    write_sorted,
    write_sorted_deduped,
)
from crisp.storage.snapshot import FilePins

log = logging.getLogger(__name__)

MERGE_MEMORY_LIMIT = "384MB"
MERGE_SPILL_DIR = "spill"


class FileStore:
    def __init__(self, data_dir: Path, *, duckdb_threads: int) -> None:
        self.dir = data_dir
        self.data = data_dir / DATA_DIR
        # Private DuckDB for flush/compaction/rewrite SQL; never handed to callers, so
        # it needs no lockdown.
        self._duck = duckdb.connect(":memory:")
        self._duck.execute(f"SET threads = {int(duckdb_threads)}")
        # Merging a shard group's files dedupes and sorts millions of rows; unbounded,
        # DuckDB took ~1 GB for 4,000 hosts x 1 h. Capped, it spills to the data dir.
        self._duck.execute(f"SET memory_limit = {literal(MERGE_MEMORY_LIMIT)}")
        self._duck.execute(f"SET temp_directory = {literal(str(data_dir / MERGE_SPILL_DIR))}")
        self._duck.execute("SET preserve_insertion_order = false")
        self.pins = FilePins(self._delete_file)
        # Column names per live file (files never change), so a snapshot can tell
        # without I/O whether its view needs a typed placeholder for missing columns.
        self._columns: dict[Path, frozenset[str]] = {}
        self._columns_lock = threading.Lock()

    def path(self, entry: FileEntry) -> Path:
        return self.dir / entry.path

    def close(self) -> None:
        self._duck.close()

    def column_names(self, path: Path) -> frozenset[str]:
        with self._columns_lock:
            names = self._columns.get(path)
        if names is None:
            names = frozenset(file_schema(path).names)
            with self._columns_lock:
                self._columns[path] = names
        return names

    # -- open --------------------------------------------------------------------------

    def remove_garbage(self, live: list[FileEntry]) -> None:
        """Delete files an interrupted flush/compaction left behind (not in the manifest)."""
        (self.dir / (MANIFEST_NAME + ".tmp")).unlink(missing_ok=True)
        keep = {self.path(f) for f in live}
        if not self.data.exists():
            return
        for path in self.data.rglob("*"):
            if path.is_file() and path not in keep:
                log.info("removing %s: not in the manifest (left by a crash)", path)
                path.unlink()
        for dirpath, _dirs, _files in sorted(os.walk(self.data), key=lambda w: -len(w[0])):
            if Path(dirpath) != self.data and not os.listdir(dirpath):
                os.rmdir(dirpath)

    def index_files(self, catalog: Catalog, entries: list[FileEntry]) -> None:
        """Add the schema and series of stored files to the catalog."""
        for entry in entries:
            path = self.path(entry)
            catalog.add_fields(entry.database, entry.measurement, file_schema(path))
            catalog.add_table(entry.database, entry.measurement, read_tags(path))

    # -- writing -----------------------------------------------------------------------

    def write_partition(
        self, file_id: int, key: PartitionKey, part: Partition, *, duplicate_free: bool = False
    ) -> FileEntry | None:
        """Persist a buffer partition; ``duplicate_free`` (proved by the buffer) lets it
        skip the per-field dedupe and only sort, in Arrow: about 3x less CPU."""
        table = pa.concat_tables(part.chunks, promote_options="default")
        tags, fields = union_schema(c.schema for c in part.chunks)
        rel = self._rel(key.database, key.rp, key.measurement, key.shard_start_ns,
                        key.shard_end_ns, file_id)
        if duplicate_free:
            stats = write_sorted(table, tags, fields, self.dir / rel)
            return self._entry(file_id, key.database, key.rp, key.measurement,
                               key.shard_start_ns, key.shard_end_ns, rel, stats)
        return self._write(
            file_id, key.database, key.rp, key.measurement, key.shard_start_ns,
            key.shard_end_ns, table, "SELECT * FROM __flush", tags, fields,
            arrow_tag_counts(table, tags),
        )

    def merge(self, file_id: int, group: list[FileEntry]) -> FileEntry | None:
        """One deduplicated file holding every row of ``group`` (one shard group)."""
        first = group[0]
        paths = [self.path(f) for f in group]
        tags, fields = union_schema(file_schema(p) for p in paths)
        source = read_parquet_sql(paths)
        entry = self._write(
            file_id, first.database, first.rp, first.measurement, first.shard_start_ns,
            first.shard_end_ns, None, source, tags, fields,
            self._tag_counts(paths, source, tags),
        )
        return replace(entry, disjoint=all(f.disjoint for f in group)) if entry else None

    def rewrite_without(self, file_id: int, entry: FileEntry, where: str) -> FileEntry | None:
        """A copy of ``entry`` without the rows matching ``where`` (None if none remain)."""
        path = self.path(entry)
        tags, fields = union_schema([file_schema(path)])
        # coalesce: a row where the predicate is NULL (tag absent) does not match.
        source = f"{read_parquet_sql([path])} WHERE NOT coalesce(({where}), false)"
        rewritten = self._write(
            file_id, entry.database, entry.rp, entry.measurement, entry.shard_start_ns,
            entry.shard_end_ns, None, source, tags, fields,
            self._tag_counts([path], read_parquet_sql([path]), tags),
        )
        return replace(rewritten, disjoint=entry.disjoint) if rewritten else None

    def shares_rows(self, rows: pa.Table, others: list[FileEntry], lo: int, hi: int) -> bool:
        """Whether a row of ``rows`` (a buffer partition's) has the series and time of a
        row of the files ``others`` in [lo, hi] (inclusive). Reads only the files' time
        and tag columns."""
        times = rows[TIME_COLUMN]
        in_range = rows.filter(pc.and_(pc.greater_equal(times, lo), pc.less_equal(times, hi)))
        if in_range.num_rows == 0:
            return False
        paths = [self.path(f) for f in others]
        mine, _ = union_schema([in_range.schema])
        theirs, _ = union_schema(file_schema(p) for p in paths)
        # A tag absent from one side is null there; nulls match as equal.
        on = [f"f.{ident(TIME_COLUMN)} = r.{ident(TIME_COLUMN)}"]
        for tag in sorted(set(mine) | set(theirs)):
            left = f"f.{ident(tag)}" if tag in theirs else "NULL"
            right = f"r.{ident(tag)}" if tag in mine else "NULL"
            on.append(f"{left} IS NOT DISTINCT FROM {right}")
        time = ident(TIME_COLUMN)
        files = f"{read_parquet_sql(paths)} WHERE {time} BETWEEN {int(lo)} AND {int(hi)}"
        cursor = self._duck.cursor()
        try:
            cursor.register("__rows", in_range.select([TIME_COLUMN, *mine]))
            found = cursor.execute(
                f"SELECT 1 FROM ({files}) AS f JOIN __rows AS r ON {' AND '.join(on)} LIMIT 1"
            ).fetchall()
        finally:
            cursor.close()
        return bool(found)

    def _tag_counts(self, paths: list[Path], source_sql: str, tags: list[str]) -> dict[str, int]:
        """Distinct values per tag of the files at ``paths`` together, for their merged
        file's row order: the largest of their stored counts (a lower bound, enough to
        rank the tags), or counted by DuckDB when a file predates stored counts."""
        counts: dict[str, int] = {}
        for path in paths:
            stored = stored_tag_counts(path)
            if stored is None:
                cursor = self._duck.cursor()
                try:
                    return sql_tag_counts(cursor, source_sql, tags)
                finally:
                    cursor.close()
            for tag, n in stored.items():
                counts[tag] = max(counts.get(tag, 0), n)
        return counts

    def _write(
        self,
        file_id: int,
        database: str,
        rp: str,
        measurement: str,
        start: int,
        end: int,
        arrow: pa.Table | None,
        source_sql: str,
        tags: list[str],
        fields: dict[str, FieldType],
        tag_counts: dict[str, int],
    ) -> FileEntry | None:
        rel = self._rel(database, rp, measurement, start, end, file_id)
        cursor = self._duck.cursor()
        try:
            if arrow is not None:
                cursor.register("__flush", arrow)
            stats = write_sorted_deduped(
                cursor, source_sql, tags, fields, self.dir / rel, tag_counts
            )
        finally:
            cursor.close()
        return self._entry(file_id, database, rp, measurement, start, end, rel, stats)

    @staticmethod
    def _rel(database: str, rp: str, measurement: str, start: int, end: int, file_id: int) -> str:
        return f"{shard_dir(database, rp, measurement, start, end)}/{file_id:012d}.parquet"

    @staticmethod
    def _entry(
        file_id: int, database: str, rp: str, measurement: str, start: int, end: int,
        rel: str, stats: FileStats | None,
    ) -> FileEntry | None:
        if stats is None:
            return None
        return FileEntry(
            file_id=file_id, database=database, rp=rp, measurement=measurement,
            shard_start_ns=start, shard_end_ns=end, path=rel, rows=stats.rows,
            min_time_ns=stats.min_time_ns, max_time_ns=stats.max_time_ns,
            max_seq=stats.max_seq, size_bytes=stats.size_bytes,
        )

    # -- deletes -----------------------------------------------------------------------

    def delete_predicate(
        self, entry: FileEntry, lo: int | None, hi: int | None, tags: dict[str, str]
    ) -> str | None:
        """SQL matching the rows of ``entry`` to delete, or None when none can match."""
        if (lo is not None and entry.max_time_ns < lo) or (
            hi is not None and entry.min_time_ns >= hi
        ):
            return None
        columns = set(file_schema(self.path(entry)).names)
        if any(key not in columns for key in tags):
            return None  # a point lacking the tag cannot equal a value
        conds = [f"{ident(k)} = {literal(v)}" for k, v in sorted(tags.items())]
        if lo is not None:
            conds.append(f"{ident(TIME_COLUMN)} >= {int(lo)}")
        if hi is not None:
            conds.append(f"{ident(TIME_COLUMN)} < {int(hi)}")
        where = " AND ".join(conds) or "TRUE"
        return where if self._any_row(entry, where) else None

    def _any_row(self, entry: FileEntry, where: str) -> bool:
        cursor = self._duck.cursor()
        try:
            sql = f"SELECT 1 FROM ({read_parquet_sql([self.path(entry)])}) WHERE {where} LIMIT 1"
            return bool(cursor.execute(sql).fetchall())
        finally:
            cursor.close()

    def retire(self, entries: list[FileEntry]) -> None:
        """Delete files no longer in the manifest, once no snapshot reads them."""
        self.pins.retire([self.path(f) for f in entries])

    def _delete_file(self, path: Path) -> None:
        with self._columns_lock:
            self._columns.pop(path, None)
        path.unlink(missing_ok=True)
        parent = path.parent
        # Remove now-empty shard/measurement/rp/database directories.
        while parent != self.data and parent.is_relative_to(self.data):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
