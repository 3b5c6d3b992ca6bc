from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from crisp.storage.api import RetentionPolicy, TimeRange
from crisp.storage.engine import Engine
from crisp.storage.retention import DAY_NS, HOUR_NS, WEEK_NS, default_shard_group_duration

from .conftest import make_batch, quiet_options, rows


class FakeClock:
    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def test_default_shard_group_durations() -> None:
    assert default_shard_group_duration(0) == WEEK_NS
    assert default_shard_group_duration(HOUR_NS) == HOUR_NS
    assert default_shard_group_duration(2 * DAY_NS) == DAY_NS
    assert default_shard_group_duration(180 * DAY_NS) == DAY_NS
    assert default_shard_group_duration(365 * DAY_NS) == WEEK_NS


def test_retention_drops_expired_shard_groups(data_dir: Path) -> None:
    clock = FakeClock(10 * HOUR_NS)
    with Engine(data_dir, quiet_options(clock=clock)) as eng:
        eng.create_database("db")
        eng.create_retention_policy("db", RetentionPolicy("2h", 2 * HOUR_NS, 0, 1, True))
        eng.write("db", None, make_batch("m", [
            {"time": h * HOUR_NS + 5, "v": h} for h in range(10)
        ]))
        eng.flush()
        eng.write("db", None, make_batch("m", [{"time": 10 * HOUR_NS, "v": 10}]))
        # Groups [h, h+1)h end ≤ now - 2h = 8h are gone: hours 0..7.
        assert eng.apply_retention() == 8
        assert [r["v"] for r in rows(eng, "db", "m")] == [8, 9, 10]
        assert len(eng.files()) == 3
        clock.now_ns = 100 * HOUR_NS
        assert eng.apply_retention() == 3
        assert rows(eng, "db", "m") == []
        assert eng.measurements("db") == []
        assert not any((data_dir / "data").rglob("*.parquet"))


def test_compaction_merges_files_and_keeps_results(engine: Engine) -> None:
    for i in range(5):
        engine.write("db", None, make_batch("m", [
            {"time": t, "host": f"h{t % 3}", "v": float(t * 10 + i)} for t in range(i, i + 4)
        ]))
        engine.flush()
    before = rows(engine, "db", "m")
    assert len(engine.files()) == 5
    assert engine.compact() == 1
    [merged] = engine.files()
    assert merged.rows == len(before)
    assert rows(engine, "db", "m") == before
    assert len(list((engine._files.data).rglob("*.parquet"))) == 1


def test_open_snapshot_keeps_files_until_closed(engine: Engine) -> None:
    for t in range(4):
        engine.write("db", None, make_batch("m", [{"time": t, "v": t}]))
        engine.flush()
    old_paths = [engine._files.path(f) for f in engine.files()]
    with engine.snapshot("db", None, "m", TimeRange()) as snap:
        engine.compact()
        engine.delete("db", "m", TimeRange(0, 2))
        assert all(p.exists() for p in old_paths)
        # The snapshot still reads what it saw, from another thread too.
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(
                snap.connection.execute("SELECT count(*) FROM points").fetchone()[0]
            )
        )
        thread.start()
        thread.join()
        assert result == [4]
    assert not any(p.exists() for p in old_paths)
    assert [r["time"] for r in rows(engine, "db", "m")] == [2, 3]


def test_snapshot_does_not_see_later_writes(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "v": 1}]))
    with engine.snapshot("db", None, "m", TimeRange()) as snap:
        engine.write("db", None, make_batch("m", [{"time": 2, "v": 2}]))
        engine.flush()
        assert snap.connection.execute("SELECT count(*) FROM points").fetchone()[0] == 1


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/crisp-escape.csv'",
        "SET enable_external_access = true",
        "INSTALL httpfs",
    ],
)
def test_duckdb_is_locked_down(engine: Engine, sql: str) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "v": 1}]))
    engine.flush()
    with engine.snapshot("db", None, "m", TimeRange()) as snap:
        with pytest.raises(Exception, match=r"(?i)permission|configuration|disabled"):
            snap.connection.execute(sql)
        # while its own files stay readable
        assert snap.connection.execute("SELECT count(*) FROM points").fetchone()[0] == 1


def test_background_flush_on_row_threshold(data_dir: Path) -> None:
    opts = quiet_options(buffer_max_rows=10, maintenance_interval_s=0.05)
    opts = type(opts)(**{**opts.__dict__, "background": True})
    with Engine(data_dir, opts) as eng:
        eng.create_database("db")
        eng.write("db", None, make_batch("m", [{"time": t, "v": t} for t in range(20)]))
        deadline = time.monotonic() + 5
        while not eng.files() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert eng.files()
        assert len(rows(eng, "db", "m")) == 20


def test_age_flush_and_rp_alter_drop(data_dir: Path) -> None:
    with Engine(data_dir, quiet_options(buffer_max_age_s=0.0)) as eng:
        eng.create_database("db")
        eng.create_retention_policy("db", RetentionPolicy("r1", 0, 0, 1, False))
        eng.write("db", "r1", make_batch("m", [{"time": 1, "v": 1}]))
        eng.write("db", None, make_batch("m", [{"time": 2, "v": 2}]))
        eng.run_maintenance()  # buffer older than 0 s: flushed
        assert len(eng.files()) == 2
        eng.alter_retention_policy("db", "r1", duration_ns=2 * DAY_NS, default=True)
        policies = {p.name: p for p in eng.retention_policies("db")}
        assert policies["r1"].default
        assert not policies["autogen"].default
        assert policies["r1"].duration_ns == 2 * DAY_NS
        eng.drop_retention_policy("db", "r1")
        assert [p.name for p in eng.retention_policies("db")] == ["autogen"]
        assert len(eng.files()) == 1
        assert rows(eng, "db", "m", rp="autogen") == [{"time": 2, "v": 2}]
