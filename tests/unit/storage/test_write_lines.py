"""Engine.write_lines: line protocol logged (WAL, fsync) before it is parsed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from crisp.core.batch import FieldType
from crisp.runtime.storage_node import parse_logged_lines
from crisp.storage.api import DatabaseNotFound, StorageError, TimeRange
from crisp.storage.engine import Engine
from crisp.storage.options import EngineOptions
from tests.unit.storage.conftest import crash, make_batch, quiet_options, rows


def _options(**overrides: object) -> EngineOptions:
    return quiet_options(parse_lines=parse_logged_lines, **overrides)


def _rejected(data_dir: Path) -> str:
    return "".join(p.read_text() for p in sorted((data_dir / "rejected").glob("*.lp")))


@pytest.fixture
def lines_engine(data_dir: Path) -> Engine:
    eng = Engine(data_dir, _options())
    eng.create_database("db")
    return eng


def test_acknowledged_lines_are_seen_by_the_next_read(lines_engine: Engine) -> None:
    # No background thread: only the read's own settle() can have parsed the body.
    lines_engine.write_lines("db", None, b"cpu,host=a v=1i 10\ncpu,host=b v=2i 20", "ns", 0)
    assert lines_engine._pending
    assert [(r["host"], r["v"]) for r in rows(lines_engine, "db", "cpu")] == [("a", 1), ("b", 2)]
    assert lines_engine.tag_values("db", "cpu", "host") == ["a", "b"]
    assert lines_engine.field_types("db", "cpu") == {"v": FieldType.INTEGER}
    lines_engine.close()


def test_precision_and_default_time_are_kept_with_the_record(data_dir: Path) -> None:
    eng = Engine(data_dir, _options())
    eng.create_database("db")
    eng.write_lines("db", None, b"m v=1 7\nm,host=x v=2", "s", 123)
    crash(eng)
    again = Engine(data_dir, _options())
    try:
        assert [(r["time"], r["v"]) for r in rows(again, "db", "m")] == [
            (123, 2.0),
            (7_000_000_000, 1.0),
        ]
    finally:
        again.close()


def test_crash_before_parsing_loses_nothing_acknowledged(data_dir: Path) -> None:
    eng = Engine(data_dir, _options())
    eng.create_database("db")
    eng.write_lines("db", None, b"m,host=a v=1 1", "ns", 0)
    eng.flush()
    eng.write_lines("db", None, b"m,host=b v=2 2\nm,host=a v=3 1", "ns", 0)
    crash(eng)
    again = Engine(data_dir, _options())
    try:
        # The replayed overwrite of (a, 1) wins over the persisted row: same order as
        # the acknowledgements.
        assert [(r["host"], r["v"]) for r in rows(again, "db", "m")] == [("a", 3.0), ("b", 2.0)]
    finally:
        again.close()
    third = Engine(data_dir, _options())
    try:
        assert len(rows(third, "db", "m")) == 2
        assert third._buffer.is_empty()
    finally:
        third.close()


def test_flush_parses_what_is_pending_before_releasing_the_wal(data_dir: Path) -> None:
    eng = Engine(data_dir, _options())
    eng.create_database("db")
    eng.write_lines("db", None, b"m v=1 1\nm v=2 2", "ns", 0)
    eng.flush()
    assert not eng._pending
    assert eng.files(), "the pending body went to Parquet with the flush"
    crash(eng)
    again = Engine(data_dir, _options())
    try:
        assert [r["v"] for r in rows(again, "db", "m")] == [1.0, 2.0]
    finally:
        again.close()


def test_bad_lines_are_kept_aside_with_their_reason(data_dir: Path) -> None:
    registry = CollectorRegistry()
    eng = Engine(data_dir, _options(registry=registry))
    eng.create_database("db")
    body = b"m v=1 1\nm v=oops 2\nm v=3 3"
    eng.write_lines("db", None, body, "ns", 0)
    assert [r["v"] for r in rows(eng, "db", "m")] == [1.0, 3.0]
    kept = _rejected(data_dir)
    assert "db=db rp=autogen precision=ns" in kept
    assert "line 2:" in kept
    assert "\nm v=oops 2\n" in kept
    assert registry.get_sample_value("crisp_storage_lines_rejected_after_ack_total") == 1
    eng.close()


def test_type_conflict_after_the_ack_drops_the_point_and_keeps_the_body(
    lines_engine: Engine,
) -> None:
    lines_engine.write("db", None, make_batch("m", [{"time": 1, "v": 1.0}]))
    lines_engine.write_lines("db", None, b"m v=2i 2\nm w=1 3", "ns", 0)
    assert [r["time"] for r in rows(lines_engine, "db", "m")] == [1, 3]
    kept = _rejected(lines_engine._dir)
    # Which line the dropped point came from is unknown after the parse: the whole
    # body is kept, and resending it only overwrites the stored point.
    assert kept.count("field type conflict") == 2, kept
    assert "dropped=1" in kept
    assert "m v=2i 2" in kept
    assert "m w=1 3" in kept
    lines_engine.close()


def test_last_acknowledged_write_wins_across_both_paths(lines_engine: Engine) -> None:
    lines_engine.write_lines("db", None, b"m v=1 5", "ns", 0)
    lines_engine.write("db", None, make_batch("m", [{"time": 5, "v": 2.0}]))
    lines_engine.write_lines("db", None, b"m v=3 6", "ns", 0)
    # The first body is parsed after the Arrow write was applied; its lower sequence
    # number still makes it lose.
    assert [(r["time"], r["v"]) for r in rows(lines_engine, "db", "m")] == [(5, 2.0), (6, 3.0)]
    lines_engine.flush()
    assert [(r["time"], r["v"]) for r in rows(lines_engine, "db", "m")] == [(5, 2.0), (6, 3.0)]
    lines_engine.close()


def test_missing_database_is_refused_before_logging(lines_engine: Engine) -> None:
    with pytest.raises(DatabaseNotFound):
        lines_engine.write_lines("nope", None, b"m v=1 1", "ns", 0)
    assert not lines_engine._pending
    lines_engine.close()


def test_wal_with_logged_lines_needs_a_parser_to_open(data_dir: Path) -> None:
    eng = Engine(data_dir, _options())
    eng.create_database("db")
    eng.write_lines("db", None, b"m v=1 1", "ns", 0)
    crash(eng)
    with pytest.raises(StorageError, match="without a line-protocol parser"):
        Engine(data_dir, quiet_options())


def test_background_thread_parses_and_concurrent_reads_see_every_ack(data_dir: Path) -> None:
    eng = Engine(data_dir, EngineOptions(parse_lines=parse_logged_lines, buffer_max_rows=500))
    eng.create_database("db")
    problems: list[str] = []

    def writer(n: int) -> None:
        for i in range(40):
            t = n * 1000 + i
            eng.write_lines("db", None, f"m,w={n} v={i}i {t}".encode(), "ns", 0)
            # Read-after-write holds for every acknowledged body, whoever parses it.
            with eng.snapshot("db", None, "m", TimeRange(t, t + 1)) as snap:
                got = snap.connection.execute("SELECT count(*) FROM points").fetchone()
            if got != (1,):
                problems.append(f"writer {n} point {i}: {got}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    assert len(rows(eng, "db", "m")) == 160
    eng.close()
    again = Engine(data_dir, _options())
    try:
        assert len(rows(again, "db", "m")) == 160
    finally:
        again.close()
