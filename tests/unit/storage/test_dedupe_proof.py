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
from crisp.storage.snapshot import MAX_DEDUPE_RANGES, dedupe_ranges
from crisp.storage.wal import decode_write, encode_write

from .conftest import make_batch, rows


def _buffer_duplicate_free(engine: Engine, measurement: str) -> bool:
    parts = engine._buffer.chunks_for("db", "autogen", measurement, None, None)
    return all(proof() for _, _, proof in parts)


def test_in_order_and_out_of_order_disjoint_writes_need_no_dedupe(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 10, "host": "a", "v": 1}]))
    engine.write("db", None, make_batch("m", [{"time": 30, "host": "a", "v": 3}]))
    # Another series, earlier than what the partition holds: disjoint from its ranges.
    engine.write("db", None, make_batch("m", [{"time": 20, "host": "b", "v": 2},
                                              {"time": 5, "host": "c", "v": 0}]))
    assert _buffer_duplicate_free(engine, "m")
    assert [(r["host"], r["v"]) for r in rows(engine, "db", "m")] == [
        ("c", 0), ("a", 1), ("b", 2), ("a", 3)
    ]


def test_a_write_into_a_series_gap_is_merged_on_read(engine: Engine) -> None:
    # Time-ordered writes of a series are tracked as one widened range: a later point in
    # the gap (a late arrival) counts as a possible duplicate, and reads merge.
    engine.write("db", None, make_batch("m", [{"time": 10, "host": "a", "v": 1}]))
    engine.write("db", None, make_batch("m", [{"time": 30, "host": "a", "v": 3}]))
    engine.write("db", None, make_batch("m", [{"time": 20, "host": "a", "v": 2}]))
    assert not _buffer_duplicate_free(engine, "m")
    assert [(r["time"], r["v"]) for r in rows(engine, "db", "m")] == [(10, 1), (20, 2), (30, 3)]


def test_time_ordered_writes_of_many_series_stay_within_the_tracking_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buffer, "MAX_TRACKED_RANGES", 100)
    part = Partition()
    for t in range(50):  # 50 writes x 100 series: one range per series, not per write
        table = make_batch(
            "m", [{"time": t, "host": f"h{h}", "v": 1} for h in range(100)]
        ).measurements["m"].table
        part.add(table, t, t, summarize(table))
    assert part.duplicate_free()


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


def test_dedupe_ranges_cover_only_overlaps_and_unproven_sources() -> None:
    assert dedupe_ranges([]) == []
    assert dedupe_ranges([(1, 5, True), (6, 9, True)]) == []
    # Flushes of time-ordered writes share their boundary timestamp only.
    assert dedupe_ranges([(1, 5, True), (5, 9, True)]) == [(5, 5)]
    assert dedupe_ranges([(1, 5, False)]) == [(1, 5)]
    assert dedupe_ranges([(1, 9, True), (3, 4, True), (7, 12, True)]) == [(3, 4), (7, 9)]
    assert dedupe_ranges([(1, 5, True), (4, 9, True), (20, 30, False)]) == [(4, 5), (20, 30)]


def test_many_overlaps_merge_into_a_bounded_superset() -> None:
    sources = [(i * 10, i * 10 + 10, True) for i in range(3 * MAX_DEDUPE_RANGES)]
    ranges = dedupe_ranges(sources)
    assert len(ranges) <= MAX_DEDUPE_RANGES
    for i in range(1, 3 * MAX_DEDUPE_RANGES):
        assert any(lo <= i * 10 <= hi for lo, hi in ranges)  # every overlap still merged


def test_rows_beside_an_overlap_are_read_once_and_the_overlap_merged(engine: Engine) -> None:
    first = [{"time": t, "host": h, "v": 1} for t in (1, 2, 3) for h in ("a", "b")]
    engine.write("db", None, make_batch("m", first))
    engine.flush()
    second = [{"time": t, "host": "a", "v": 2} for t in (3, 4, 5)]
    engine.write("db", None, make_batch("m", second))
    engine.flush()
    got = [(r["time"], r["host"], r["v"]) for r in rows(engine, "db", "m")]
    assert got == [
        (1, "a", 1), (1, "b", 1), (2, "a", 1), (2, "b", 1),
        (3, "a", 2), (3, "b", 1), (4, "a", 2), (5, "a", 2),
    ]



def test_partition_gives_up_past_its_tracking_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buffer, "MAX_TRACKED_RANGES", 1)
    part = Partition()
    for host in ("a", "b"):
        table = make_batch("m", [{"time": 1, "host": host, "v": 1}]).measurements["m"].table
        part.add(table, 1, 1, summarize(table))
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
