"""Files proved to share no (series, time) with the files before them are read without
merging rows where they overlap; unproved overlaps still merge (last write wins)."""

from __future__ import annotations

import json
from pathlib import Path

from crisp.storage.engine import Engine
from crisp.storage.snapshot import dedupe_ranges

from .conftest import make_batch, quiet_options, rows


def _flush(engine: Engine, points: list[dict[str, object]]) -> None:
    engine.write("db", None, make_batch("m", points))
    engine.flush()


def test_proved_files_overlapping_each_other_need_no_merge() -> None:
    assert dedupe_ranges([(1, 5, True, True), (5, 9, True, True)]) == []
    # Against an unproved file or a buffer partition the overlap is still merged.
    assert dedupe_ranges([(1, 5, True, False), (5, 9, True, True)]) == [(5, 5)]
    assert dedupe_ranges([(1, 5, True, True), (5, 9, True)]) == [(5, 5)]
    assert dedupe_ranges([(1, 9, True, True), (3, 4, True, True), (7, 12, True)]) == [(7, 9)]


def test_concurrent_writers_boundary_timestamp_is_proved_disjoint(engine: Engine) -> None:
    # Two writers at the same timestamps; a flush lands between their bodies.
    _flush(engine, [{"time": t, "host": "a", "v": 1.0} for t in (10, 20)])
    _flush(engine, [{"time": t, "host": "b", "v": 2.0} for t in (20, 30)])
    assert [f.disjoint for f in engine.files()] == [True, True]
    assert [(r["time"], r["host"]) for r in rows(engine, "db", "m")] == [
        (10, "a"),
        (20, "a"),
        (20, "b"),
        (30, "b"),
    ]


def test_a_rewritten_point_is_not_proved_and_the_last_write_wins(engine: Engine) -> None:
    _flush(engine, [{"time": 10, "host": "a", "v": 1.0}, {"time": 20, "host": "a", "v": 1.0}])
    _flush(engine, [{"time": 20, "host": "a", "v": 5.0}, {"time": 30, "host": "a", "v": 3.0}])
    # Another series (with a region) at a time the files share: proved disjoint.
    _flush(engine, [{"time": 30, "host": "a", "region": "eu", "v": 9.0}])
    assert [f.disjoint for f in engine.files()] == [True, False, True]
    assert [(r["time"], r["v"], r["region"]) for r in rows(engine, "db", "m")] == [
        (10, 1.0, None),
        (20, 5.0, None),
        (30, 9.0, "eu"),
        (30, 3.0, None),
    ]


def test_a_merge_keeps_the_proof_only_when_all_its_files_had_it(data_dir: Path) -> None:
    options = quiet_options(compaction_min_files=2, compaction_cold_after_s=0)
    with Engine(data_dir, options) as engine:
        engine.create_database("db")
        _flush(engine, [{"time": 10, "host": "a", "v": 1.0}])
        _flush(engine, [{"time": 10, "host": "b", "v": 1.0}])
        assert engine.compact() == 1
        assert [f.disjoint for f in engine.files()] == [True]
        _flush(engine, [{"time": 10, "host": "a", "v": 7.0}])  # overwrites: not proved
        assert [f.disjoint for f in engine.files()] == [True, False]
        assert engine.compact() == 1
        assert [f.disjoint for f in engine.files()] == [False]
        assert [(r["host"], r["v"]) for r in rows(engine, "db", "m")] == [("a", 7.0), ("b", 1.0)]
    # The proof survives a restart; a manifest written before it reads as unproved.
    manifest = data_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    for entry in data["files"]:
        del entry["disjoint"]
    manifest.write_text(json.dumps(data))
    with Engine(data_dir, quiet_options()) as engine:
        assert [f.disjoint for f in engine.files()] == [False]
        assert [(r["host"], r["v"]) for r in rows(engine, "db", "m")] == [("a", 7.0), ("b", 1.0)]
