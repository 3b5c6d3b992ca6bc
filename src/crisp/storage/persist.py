"""Parquet files: directory layout, deduplicating writes, schema helpers.

Files live at ``data/<db>/<rp>/<measurement>/<shard start>_<shard end>/<file id>.parquet``
(names percent-encoded). Each file is sorted by tags then time, compressed with zstd,
holds at most one row per (series, time) and keeps ``__seq`` so later reads can still
tell which of two files' values is newer. All SQL here runs on the engine's private,
unexposed DuckDB connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def order_by(tags: list[str]) -> str:
    return ", ".join([f"{ident(t)} NULLS FIRST" for t in tags] + [ident(TIME_COLUMN)])


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
) -> FileStats | None:
    """Dedupe + sort ``source_sql`` with DuckDB and write it as one zstd Parquet file.

    Returns None (and writes nothing) when no rows remain.
    """
    field_names = sorted(fields)
    sql = dedupe_sql(source_sql, tags, field_names, keep_seq=True) + f" ORDER BY {order_by(tags)}"
    result = con.sql(sql).to_arrow_table()
    if result.num_rows == 0:
        return None
    schema = stored_schema(tags, fields)
    table = result.select(schema.names).cast(schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=128 * 1024)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    times = table.column(TIME_COLUMN)
    seqs = table.column(SEQ_COLUMN)
    return FileStats(
        rows=table.num_rows,
        min_time_ns=int(pc.min(times).as_py()),
        max_time_ns=int(pc.max(times).as_py()),
        max_seq=int(pc.max(seqs).as_py()),
        size_bytes=path.stat().st_size,
    )


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
