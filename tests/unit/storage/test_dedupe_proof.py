"""Reads skip the per-field dedupe only when no two rows can share a series and time.

These pin the proof's edges (out-of-order writes, duplicates inside one write, tag
columns absent vs null, buffer vs files) and that last-write-wins holds either way.
"""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq
import pytest

from crisp.storage import buffer
from crisp.storage.api import TimeRange
from crisp.storage.buffer import Partition
from crisp.storage.catalog import summarize
from crisp.storage.engine import Engine
from crisp.storage.snapshot import needs_dedupe
from crisp.storage.wal import decode_write, encode_write

from .conftest import make_batch, rows


def _buffer_duplicate_free(engine: Engine, measurement: str) -> bool:
    parts = engine._buffer.chunks_for("db", "autogen", measurement, None, None)
    return all(proof() for _, _, proof in parts)


def test_in_order_and_out_of_order_disjoint_writes_need_no_dedupe(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 10, "host": "a", "v": 1}]))
    engine.write("db", None, make_batch("m", [{"time": 30, "host": "a", "v": 3}]))
    engine.write("db", None, make_batch("m", [{"time": 20, "host": "a", "v": 2},
                                              {"time": 20, "host": "b", "v": 2}]))
    assert _buffer_duplicate_free(engine, "m")
    assert [r["v"] for r in rows(engine, "db", "m")] == [1, 2, 2, 3]


def test_rewrite_of_same_series_and_time_is_detected(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 10, "host": "a", "v": 1, "w": 1}]))
    engine.write("db", None, make_batch("m", [{"time": 5, "host": "a", "v": 0},
                                              {"time": 15, "host": "a", "v": 0}]))
    # [5, 15] contains 10: it may hit an existing row, so reads must merge.
    assert not _buffer_duplicate_free(engine, "m")
    engine.write("db", None, make_batch("m", [{"time": 10, "host": "a", "v": 2}]))
    assert rows(engine, "db", "m") == [
        {"time": 5, "host": "a", "v": 0, "w": None},
        {"time": 10, "host": "a", "v": 2, "w": 1},
        {"time": 15, "host": "a", "v": 0, "w": None},
    ]


def test_duplicate_inside_one_write_is_detected(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "v": 1}, {"time": 1, "v": 2}]))
    assert not _buffer_duplicate_free(engine, "m")
    assert rows(engine, "db", "m") == [{"time": 1, "v": 2}]


def test_absent_and_null_tag_columns_are_the_same_series(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": 1}]))
    engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "region": None, "v": 2},
                                              {"time": 1, "host": "b", "region": "r", "v": 3}]))
    assert not _buffer_duplicate_free(engine, "m")
    assert [(r["host"], r["v"]) for r in rows(engine, "db", "m")] == [("a", 2), ("b", 3)]


def test_buffer_overlapping_a_file_is_merged(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": 1, "w": 1}]))
    engine.flush()
    engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": 2}]))
    assert _buffer_duplicate_free(engine, "m")  # alone, yes; but it overlaps the file
    assert rows(engine, "db", "m") == [{"time": 1, "host": "a", "v": 2, "w": 1}]


def test_needs_dedupe_sources() -> None:
    assert not needs_dedupe([], True)
    assert not needs_dedupe([(1, 5), (6, 9)], True)
    assert needs_dedupe([(1, 5), (5, 9)], True)
    assert needs_dedupe([(1, 5)], False)


def test_partition_gives_up_past_its_tracking_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buffer, "MAX_TRACKED_RANGES", 1)
    part = Partition()
    for t in (1, 2):
        table = make_batch("m", [{"time": t, "host": "a", "v": 1}]).measurements["m"].table
        part.add(table, t, t, summarize(table))
    assert not part.duplicate_free()


def test_wal_record_round_trips_compressed_and_dictionary_free(engine: Engine) -> None:
    table = make_batch("m", [{"time": 1, "host": "a", "s": "x"},
                             {"time": 2, "host": None, "s": None}]).measurements["m"].table
    decoded = decode_write(encode_write(7, "db", "autogen", {"m": table}))
    assert decoded.tables["m"].equals(table, check_metadata=True)
    assert decoded.tables["m"].schema == table.schema


def test_parquet_files_use_delta_and_dictionary_encodings(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [
        {"time": t, "host": "a", "i": t, "f": t / 2, "b": True} for t in range(100)
    ]))
    engine.flush()
    (entry,) = engine.files()
    meta = pq.ParquetFile(engine._dir / entry.path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings
                 for i in range(meta.num_columns)}
    assert "DELTA_BINARY_PACKED" in encodings["time"]
    assert "DELTA_BINARY_PACKED" in encodings["__seq"]
    assert "DELTA_BINARY_PACKED" in encodings["i"]
    assert "BYTE_STREAM_SPLIT" in encodings["f"]
    assert "RLE_DICTIONARY" in encodings["host"]
    with engine.snapshot("db", None, "m", TimeRange()) as snap:
        got = snap.connection.execute("SELECT sum(i), sum(f), count(b) FROM points").fetchone()
    assert got == (4950, 2475.0, 100)


def test_fast_flush_sorts_like_the_dedupe_path(engine: Engine) -> None:
    data: list[dict[str, Any]] = [
        {"time": 3, "host": "b", "v": 1}, {"time": 1, "host": None, "v": 2},
        {"time": 2, "host": "a", "region": "z", "v": 3}, {"time": 1, "host": "a", "v": 4},
        {"time": 2, "host": "é", "v": 5}, {"time": 0, "host": "B", "v": 6},
    ]
    engine.write("db", None, make_batch("fast", data))
    engine.write("db", None, make_batch("slow", [*data, data[0]]))  # a duplicate: DuckDB path
    assert _buffer_duplicate_free(engine, "fast")
    assert not _buffer_duplicate_free(engine, "slow")
    engine.flush()
    files = {f.measurement: pq.read_table(engine._dir / f.path) for f in engine.files()}
    columns = ["time", "host", "region", "v"]
    assert files["fast"].select(columns).to_pylist() == files["slow"].select(columns).to_pylist()
    assert files["fast"].schema == files["slow"].schema
