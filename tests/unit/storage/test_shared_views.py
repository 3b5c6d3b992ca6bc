"""Views kept between snapshots (``shared=True``): never stale, never leaking files."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.storage import shared_views
from crisp.storage.api import TimeRange
from crisp.storage.engine import Engine
from tests.unit.storage.conftest import make_batch, quiet_options

S = 1_000_000_000


def _values(engine: Engine, text: str) -> list[list[Any]]:
    [result] = execute(
        text, storage=engine, database="db", rp=None, now_ns=100 * S, guards=QueryGuards()
    )
    assert "error" not in result, result
    return [row for series in result.get("series", []) for row in series["values"]]


def _write(engine: Engine, *points: tuple[int, float], host: str = "a") -> None:
    rows = [{"time": t * S, "host": host, "v": v} for t, v in points]
    engine.write("db", None, make_batch("cpu", rows))


def test_a_write_between_two_queries_is_seen_by_the_second(engine: Engine) -> None:
    _write(engine, (10, 1.0))
    query = "SELECT sum(v) FROM cpu WHERE time >= 0s"
    assert _values(engine, query) == [[0, 1.0]]
    _write(engine, (11, 2.0))
    assert _values(engine, query) == [[0, 3.0]]
    _write(engine, (11, 5.0))  # same series and time: overwrites
    assert _values(engine, query) == [[0, 6.0]]


def test_a_narrower_range_over_the_same_sources_sees_only_its_range(engine: Engine) -> None:
    _write(engine, (10, 1.0), (20, 2.0), (30, 4.0))
    assert _values(engine, "SELECT sum(v) FROM cpu WHERE time >= 0s") == [[0, 7.0]]
    # Same buffer partition, so the kept (unfiltered) view serves this one too.
    assert _values(engine, "SELECT sum(v) FROM cpu WHERE time >= 15s AND time < 30s") == [
        [15 * S, 2.0]
    ]
    assert _values(engine, "SELECT v FROM cpu WHERE time >= 25s") == [[30 * S, 4.0]]


def test_flushes_deletes_and_new_fields_are_seen(engine: Engine) -> None:
    _write(engine, (10, 1.0), (20, 2.0))
    query = "SELECT count(v) FROM cpu WHERE time >= 0s"
    assert _values(engine, query) == [[0, 2]]
    engine.flush()
    assert _values(engine, query) == [[0, 2]]
    engine.delete("db", "cpu", TimeRange(15 * S, 25 * S))
    assert _values(engine, query) == [[0, 1]]
    engine.write("db", None, make_batch("cpu", [{"time": 40 * S, "host": "a", "w": 1.0}]))
    assert _values(engine, "SELECT count(w) FROM cpu WHERE time >= 0s") == [[0, 1]]


def test_a_query_over_two_measurements_opens_two_views_at_once(engine: Engine) -> None:
    _write(engine, (10, 1.0))
    engine.write("db", None, make_batch("cpu2", [{"time": 10 * S, "host": "a", "v": 5.0}]))
    [result] = execute(
        "SELECT sum(v) FROM /cpu/ WHERE time >= 0s",
        storage=engine,
        database="db",
        rp=None,
        now_ns=100 * S,
        guards=QueryGuards(),
    )
    assert [(s["name"], s["values"]) for s in result["series"]] == [
        ("cpu", [[0, 1.0]]),
        ("cpu2", [[0, 5.0]]),
    ]


def test_threads_query_at_once_and_each_sees_every_write(engine: Engine) -> None:
    _write(engine, (1, 1.0))
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def reader(host: str) -> None:
        try:
            barrier.wait()
            for i in range(2, 30):
                _write(engine, (i, 1.0), host=host)
                got = _values(
                    engine, f"SELECT count(v) FROM cpu WHERE host = '{host}' AND time >= 0s"
                )
                assert got == [[0, i - 1]]
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=reader, args=(h,)) for h in "wxyz"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_compacted_files_are_deleted_once_views_on_them_go_idle(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = quiet_options(buffer_max_rows=4, compaction_min_files=2, compaction_cold_after_s=0)
    with Engine(data_dir, options) as engine:
        engine.create_database("db")
        for t in (1, 2):
            _write(engine, (t, 1.0))
            engine.flush()
        query = "SELECT count(v) FROM cpu WHERE time >= 0s"
        assert _values(engine, query) == [[0, 2]]  # this thread now keeps a view on both
        old = _on_disk(data_dir)
        assert engine.compact() == 1
        assert old < _on_disk(data_dir)  # still pinned by the view this thread keeps
        assert _values(engine, query) == [[0, 2]]  # a new view on the merged file
        assert _on_disk(data_dir) == _in_manifest(engine, data_dir)

        # A view left behind (its thread gone quiet) is closed when it has been idle.
        for t in (3, 4):
            _write(engine, (t, 1.0))
            engine.flush()
        worker = threading.Thread(target=_values, args=(engine, query))
        worker.start()
        worker.join()
        assert engine.compact() == 1
        # The view the idle thread keeps pins the two files just merged.
        assert _on_disk(data_dir) > _in_manifest(engine, data_dir)
        monkeypatch.setattr(shared_views, "IDLE_SECONDS", 0.0)
        assert _values(engine, query) == [[0, 4]]  # its end sweeps views gone idle
        assert _on_disk(data_dir) == _in_manifest(engine, data_dir)


def _on_disk(data_dir: Path) -> set[Path]:
    return {p.resolve() for p in data_dir.rglob("*.parquet")}


def _in_manifest(engine: Engine, data_dir: Path) -> set[Path]:
    return {(data_dir / f.path).resolve() for f in engine.files()}


def test_closing_the_engine_closes_kept_views(data_dir: Path) -> None:
    engine = Engine(data_dir, quiet_options())
    engine.create_database("db")
    _write(engine, (1, 1.0))
    engine.flush()
    _values(engine, "SELECT count(v) FROM cpu WHERE time >= 0s")
    engine.close()
    # The engine reopens the same directory (its lock was released) and reads it all.
    with Engine(data_dir, quiet_options()) as again:
        assert _values(again, "SELECT count(v) FROM cpu WHERE time >= 0s") == [[0, 1]]
