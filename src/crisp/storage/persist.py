"""Parquet files: directory layout, deduplicating writes, schema helpers.

Files live at ``data/<db>/<rp>/<measurement>/<shard start>_<shard end>/<file id>.parquet``
(names percent-encoded). Each file is sorted by series then time, compressed with zstd,
holds at most one row per (series, time) and keeps ``__seq`` so later reads can still
tell which of two files' values is newer. All SQL here runs on the engine's private,
unexposed DuckDB connection.

The series order is by tag values, the tag with the most distinct values first (see
``tag_order``); files written before that (tags in name order) and files of different
orders read the same: no reader depends on the order, it only decides which row
groups a tag filter can skip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crisp.core.batch import (
    KIND_FIELD,
    KIND_TAG,
    TIME_COLUMN,
    FieldType,
    column_kind,
    measurement_schema,
)
from crisp.storage.buffer import SEQ_COLUMN

DATA_DIR = "data"


def encode_name(name: str) -> str:
    """A path component for any database/rp/measurement name (no '/', never '.' or '..')."""
    encoded = quote(name, safe="")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded


def shard_dir(database: str, rp: str, measurement: str, start: int, end: int) -> str:
    return "/".join(
        [DATA_DIR, encode_name(database), encode_name(rp), encode_name(measurement),
         f"{start}_{end}"]
    )


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def split_columns(schema: pa.Schema) -> tuple[list[str], dict[str, FieldType]]:
    tags = sorted(f.name for f in schema if column_kind(f) == KIND_TAG)
    fields = {
        f.name: FieldType.from_arrow(f.type) for f in schema if column_kind(f) == KIND_FIELD
    }
    return tags, fields


def union_schema(schemas: Iterable[pa.Schema]) -> tuple[list[str], dict[str, FieldType]]:
    tags: set[str] = set()
    fields: dict[str, FieldType] = {}
    for schema in schemas:
        t, f = split_columns(schema)
        tags.update(t)
        fields.update(f)
    return sorted(tags), fields


def stored_schema(tags: list[str], fields: dict[str, FieldType]) -> pa.Schema:
    schema = measurement_schema(tags, fields)
    return schema.append(pa.field(SEQ_COLUMN, pa.int64(), nullable=False))


def dedupe_sql(source: str, tags: list[str], fields: Iterable[str], *, keep_seq: bool) -> str:
    """One row per (series, time): for each field the non-null value with the highest seq.

    InfluxDB merges the fields of points written to the same series and time, so the
    winner is chosen per field, not per row.
    """
    keys = [ident(TIME_COLUMN)] + [ident(t) for t in tags]
    cols = list(keys)
    for f in fields:
        cols.append(f"arg_max({ident(f)}, {SEQ_COLUMN}) FILTER (WHERE {ident(f)} IS NOT NULL) "
                    f"AS {ident(f)}")
    if keep_seq:
        cols.append(f"max({SEQ_COLUMN}) AS {SEQ_COLUMN}")
    return f"SELECT {', '.join(cols)} FROM ({source}) GROUP BY {', '.join(keys)}"


# A file's distinct-value count per tag (JSON object), in its Parquet key-value
# metadata: the next merge orders its rows by them without counting again.
TAG_CARDINALITY_KEY = b"crisp.tag_cardinality"


def tag_order(tags: Iterable[str], counts: Mapping[str, int]) -> list[str]:
    """The tags in the order rows are sorted by: most distinct values first, ties (and
    tags without a count) by name.

    One series' rows then lie in few row groups whose min/max statistics of the first
    tag exclude all others (TSBS cpu-only: ``hostname``, 4,000 values, before ``arch``,
    2): a one-host query skips the other row groups without reading them. In name
    order, DuckDB had to read a dictionary page of every row group to skip it (one
    host of 4,000 in one merged 1.44 M-row file: 6.9 -> 3.9 ms of CPU, 32 k-row
    row groups).
    """
    return sorted(tags, key=lambda t: (-counts.get(t, 0), t))


def arrow_tag_counts(table: pa.Table, tags: Iterable[str]) -> dict[str, int]:
    """Distinct non-null values per tag of ``table`` (0 for a tag it lacks)."""
    return {
        t: pc.count_distinct(table.column(t)).as_py() if t in table.column_names else 0
        for t in tags
    }


def sql_tag_counts(con: Any, source_sql: str, tags: list[str]) -> dict[str, int]:
    """Distinct values per tag of ``source_sql``'s rows, estimated (HyperLogLog): only the
    order of the counts matters."""
    if not tags:
        return {}
    counts = ", ".join(f"approx_count_distinct({ident(t)})" for t in tags)
    [row] = con.execute(f"SELECT {counts} FROM ({source_sql})").fetchall()
    return {t: int(n or 0) for t, n in zip(tags, row, strict=True)}


def stored_tag_counts(path: Path) -> dict[str, int] | None:
    """The counts a file was sorted by; None for files written before they were kept."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(TAG_CARDINALITY_KEY)
    return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else None


def order_by(tags: list[str]) -> str:
    """ORDER BY of a file's rows, ``tags`` already in ``tag_order``."""
    return ", ".join([f"{ident(t)} NULLS FIRST" for t in tags] + [ident(TIME_COLUMN)])


# Parquet settings, measured on TSBS cpu-only (1,000 hosts x 1 h, 3.6 M values): the
# old "zstd, dictionary everywhere" layout took 1.24 bytes/value, 0.38 of it for
# ``__seq`` alone (360 k distinct values overflow the dictionary and fall back to
# PLAIN). Rows are sorted by series then time, so time, ``__seq`` and integer fields
# move in small, regular steps that DELTA_BINARY_PACKED stores in a few bits:
# 0.52 bytes/value, and 3x less CPU to write. zstd levels above 3 gained < 1 %.
ZSTD_LEVEL = 3
# A query of one series decodes whole row groups (all the rows of the few that hold
# it); 64 k rows instead of 128 k cost the scans of every row nothing measurable (max
# per host, p95 over 4,000 hosts x 1 h) and the same bytes on disk.
ROW_GROUP_ROWS = 64 * 1024
_DELTA_TYPES = (pa.int64(), pa.uint64())


def parquet_write_options(schema: pa.Schema) -> dict[str, Any]:
    """Keyword arguments of ``pq.write_table`` for a stored (sorted) file's schema.

    Tags and string fields keep dictionary encoding (few distinct values); integers
    (time, ``__seq``, integer fields) use delta encoding and floats byte-stream-split
    (sign/exponent bytes of neighbouring values compress well together); booleans keep
    the default RLE. A column with an explicit encoding must not be dictionary-encoded.
    """
    encodings: dict[str, str] = {}
    dictionary: list[str] = []
    for f in schema:
        if f.type in _DELTA_TYPES:
            encodings[f.name] = "DELTA_BINARY_PACKED"
        elif f.type == pa.float64():
            encodings[f.name] = "BYTE_STREAM_SPLIT"
        else:
            dictionary.append(f.name)
    return {
        "compression": "zstd",
        "compression_level": ZSTD_LEVEL,
        "row_group_size": ROW_GROUP_ROWS,
        "use_dictionary": dictionary,
        "column_encoding": encodings,
    }


@dataclass(frozen=True)
class FileStats:
    rows: int
    min_time_ns: int
    max_time_ns: int
    max_seq: int
    size_bytes: int


def write_sorted_deduped(
    con: Any,
    source_sql: str,
    tags: list[str],
    fields: dict[str, FieldType],
    path: Path,
    tag_counts: Mapping[str, int],
) -> FileStats | None:
    """Dedupe + sort ``source_sql`` with DuckDB and write it as one zstd Parquet file,
    rows in ``tag_order`` by ``tag_counts``.

    Returns None (and writes nothing) when no rows remain.
    """
    field_names = sorted(fields)
    order = order_by(tag_order(tags, tag_counts))
    sql = dedupe_sql(source_sql, tags, field_names, keep_seq=True) + f" ORDER BY {order}"
    # Streamed a row group at a time: a compaction of millions of rows never holds the
    # whole merged table in Arrow memory (DuckDB's own memory is capped and spills).
    reader = con.sql(sql).to_arrow_reader(ROW_GROUP_ROWS)
    parts = (pa.Table.from_batches([batch]) for batch in reader)
    return _write_file(parts, tags, fields, path, tag_counts)


def write_sorted(
    table: pa.Table, tags: list[str], fields: dict[str, FieldType], path: Path
) -> FileStats | None:
    """Sort rows known to be unique per (series, time) in Arrow and write them.

    The same order as ``write_sorted_deduped``'s ORDER BY given ``arrow_tag_counts``
    (tags in ``tag_order``, nulls first, then time; strings compare bytewise in both),
    without DuckDB's per-field merge.
    """
    # Arrow's multi-key sort on strings is slow (0.6 s for 360 k rows x 10 tags, more
    # than DuckDB's dedupe and sort together); each tag is replaced by its value's
    # rank among the column's sorted distinct values (null → -1, i.e. first), and
    # the integers sort 3x faster in the same order.
    ranks: dict[str, pa.ChunkedArray | pa.Array] = {}
    counts: dict[str, int] = dict.fromkeys(tags, 0)
    for tag in tags:
        column = table.column(tag) if tag in table.column_names else None
        if column is None:
            continue  # absent from every chunk: null everywhere, orders nothing
        distinct = pc.unique(column).drop_null()
        distinct = distinct.take(pc.sort_indices(distinct))
        counts[tag] = len(distinct)
        ranks[tag] = pc.fill_null(pc.index_in(column, value_set=distinct), -1)
    keys = [ranks[tag] for tag in tag_order(tags, counts) if tag in ranks]
    keys.append(table.column(TIME_COLUMN))
    names = [f"k{i}" for i in range(len(keys))]
    order = pc.sort_indices(
        pa.table(keys, names=names), sort_keys=[(n, "ascending") for n in names]
    )
    return _write_file([table.take(order)], tags, fields, path, counts)


def _write_file(
    parts: Iterable[pa.Table],
    tags: list[str],
    fields: dict[str, FieldType],
    path: Path,
    tag_counts: Mapping[str, int],
) -> FileStats | None:
    """Write ``parts`` (sorted, in order) as one fsynced file and return its stats;
    None, and no file, when they hold no row."""
    schema = stored_schema(tags, fields)
    counts = {t: int(tag_counts.get(t, 0)) for t in tags}
    metadata = {TAG_CARDINALITY_KEY: json.dumps(counts, separators=(",", ":")).encode()}
    options = parquet_write_options(schema)
    row_group_size = options.pop("row_group_size")
    writer: pq.ParquetWriter | None = None
    rows, seq = 0, -1
    lo, hi = 2**63 - 1, -(2**63)
    try:
        for part in parts:
            if part.num_rows == 0:
                continue
            table = part.select(schema.names).cast(schema)
            if writer is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(path, schema.with_metadata(metadata), **options)
            writer.write_table(table, row_group_size=row_group_size)
            rows += table.num_rows
            times = pc.min_max(table.column(TIME_COLUMN)).as_py()
            lo, hi = min(lo, times["min"]), max(hi, times["max"])
            seq = max(seq, pc.max(table.column(SEQ_COLUMN)).as_py())
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        return None
    _fsync(path)
    return FileStats(rows, lo, hi, seq, path.stat().st_size)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_parquet_sql(paths: list[Path]) -> str:
    listed = ", ".join(literal(str(p)) for p in paths)
    return f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"


def file_schema(path: Path) -> pa.Schema:
    return pq.read_schema(path)


def read_tags(path: Path) -> pa.Table:
    """Only the tag columns of a file (enough to rebuild the series index)."""
    schema = pq.read_schema(path)
    tags = [f.name for f in schema if column_kind(f) == KIND_TAG]
    table = pq.read_table(path, columns=tags)
    # read_table keeps the Arrow schema with crisp.kind metadata; reattach to be sure.
    return table.cast(pa.schema([schema.field(t) for t in tags]))
