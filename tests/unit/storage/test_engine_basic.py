from __future__ import annotations

from pathlib import Path

import pytest

from crisp.core.batch import FieldType
from crisp.storage.api import (
    DatabaseNotFound,
    RetentionPolicy,
    TimeRange,
)
from crisp.storage.engine import Engine

from .conftest import crash, make_batch, quiet_options, rows


def test_write_then_snapshot_sees_rows(engine: Engine) -> None:
    result = engine.write("db", None, make_batch("cpu", [
        {"time": 1, "host": "a", "usage": 1.5},
        {"time": 2, "host": "b", "usage": 2.5, "count": 3},
    ]))
    assert (result.points_written, result.values_written) == (2, 3)
    got = rows(engine, "db", "cpu")
    assert got == [
        {"time": 1, "host": "a", "count": None, "usage": 1.5},
        {"time": 2, "host": "b", "count": 3, "usage": 2.5},
    ]
    assert engine.measurements("db") == ["cpu"]
    assert engine.tag_keys("db", "cpu") == ["host"]
    assert engine.tag_values("db", "cpu", "host") == ["a", "b"]
    assert engine.field_types("db", "cpu") == {"usage": FieldType.FLOAT,
                                                "count": FieldType.INTEGER}
    assert list(engine.series("db", "cpu")) == [{"host": "a"}, {"host": "b"}]


def test_time_range_is_half_open(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": t, "v": t} for t in range(10)]))
    assert [r["time"] for r in rows(engine, "db", "m", start=3, end=6)] == [3, 4, 5]


def test_same_series_and_time_merges_fields_last_write_wins(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 5, "host": "a", "x": 1.0, "y": 1.0}]))
    engine.write("db", None, make_batch("m", [{"time": 5, "host": "a", "x": 2.0}]))
    engine.write("db", None, make_batch("m", [{"time": 5, "host": "a", "z": "s"}]))
    expected = [{"time": 5, "host": "a", "x": 2.0, "y": 1.0, "z": "s"}]
    assert rows(engine, "db", "m") == expected
    engine.flush()
    engine.write("db", None, make_batch("m", [{"time": 5, "host": "a", "y": 9.0}]))
    expected[0]["y"] = 9.0
    assert rows(engine, "db", "m") == expected
    engine.flush()
    assert len(engine.files()) == 2
    assert rows(engine, "db", "m") == expected


def test_duplicate_inside_one_batch_last_row_wins(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "v": 1}, {"time": 1, "v": 2}]))
    assert rows(engine, "db", "m") == [{"time": 1, "v": 2}]
    engine.flush()
    assert rows(engine, "db", "m") == [{"time": 1, "v": 2}]


def test_restart_replays_wal_and_reads_parquet(data_dir: Path) -> None:
    eng = Engine(data_dir, quiet_options())
    eng.create_database("db")
    eng.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": 1.0}]))
    eng.flush()
    eng.write("db", None, make_batch("m", [{"time": 2, "host": "b", "v": 2.0}]))
    # Simulate a crash: no close(), so the second write lives only in the WAL.
    crash(eng)
    again = Engine(data_dir, quiet_options())
    try:
        assert [r["time"] for r in rows(again, "db", "m")] == [1, 2]
        assert again.tag_values("db", "m", "host") == ["a", "b"]
        again.write("db", None, make_batch("m", [{"time": 3, "host": "a", "v": 3.0}]))
    finally:
        again.close()
    third = Engine(data_dir, quiet_options())
    try:
        assert [r["time"] for r in rows(third, "db", "m")] == [1, 2, 3]
        assert third.field_types("db", "m") == {"v": FieldType.FLOAT}
        # close() flushed everything: no WAL data left to replay
        assert third._buffer.is_empty()
    finally:
        third.close()


def test_missing_database_is_an_error(engine: Engine) -> None:
    with pytest.raises(DatabaseNotFound, match=r'database not found: "?nope'):
        engine.write("nope", None, make_batch("m", [{"time": 1, "v": 1}]))
    with pytest.raises(DatabaseNotFound):
        engine.measurements("nope")


def test_field_type_conflict_drops_only_the_conflicting_points(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "x": 1.0}]))
    bad = make_batch(
        "m", [{"time": 2, "x": 5, "y": 1.0}, {"time": 3, "y": 2.0}],
        types={"x": FieldType.INTEGER, "y": FieldType.FLOAT},
    )
    bad.add(make_batch("other", [{"time": 2, "y": 1.0}]).measurements["other"])
    result = engine.write("db", None, bad)
    assert (result.points_written, result.dropped_points) == (2, 1)
    assert result.partial_write_message() == (
        'partial write: field type conflict: input field "x" on measurement "m" is type '
        "integer, already exists as type float dropped=1"
    )
    # InfluxDB drops the whole point that carried the conflict, y=1.0 at time 2 too.
    assert [(r["time"], r["x"], r["y"]) for r in rows(engine, "db", "m")] == [
        (1, 1.0, None),
        (3, None, 2.0),
    ]
    assert engine.field_types("db", "m") == {"x": FieldType.FLOAT, "y": FieldType.FLOAT}
    assert engine.measurements("db") == ["m", "other"]


def test_series_limits_drop_only_the_points_of_series_past_them(data_dir: Path) -> None:
    with Engine(data_dir, quiet_options(max_series_per_measurement=3,
                                        max_series_per_database=4)) as eng:
        eng.create_database("db")
        eng.write("db", None, make_batch("m", [{"time": 1, "host": h, "v": 1} for h in "abc"]))
        existing_and_new = [{"time": 2, "host": h, "v": 1} for h in "ad"]
        result = eng.write("db", None, make_batch("m", existing_and_new))
        assert (result.points_written, result.dropped_points) == (1, 1)
        assert "max-series-per-measurement" in result.partial_write_message()
        # The database has room for one more: of two new series, the first in key order.
        result = eng.write("db", None, make_batch("n", [{"time": 1, "host": h, "v": 1}
                                                        for h in "zb"]))
        assert (result.points_written, result.dropped_points) == (1, 1)
        assert "max-series-per-database" in result.partial_write_message()
        assert [s["host"] for s in eng.series("db", "n")] == ["b"]
        assert len(list(eng.series("db", "m"))) == 3
        assert len(rows(eng, "db", "m")) == 4


def test_points_has_every_column_even_if_files_lack_them(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "x": 1.0}]))
    engine.flush()
    engine.write("db", None, make_batch("m", [{"time": 2, "region": "eu", "y": True}]))
    engine.flush()
    with engine.snapshot("db", None, "m", TimeRange(0, 2)) as snap:
        cols = [d[0] for d in snap.connection.execute("SELECT * FROM points").description]
        assert cols == ["time", "host", "region", "x", "y"]
        assert snap.schema.names == cols


def test_retention_policies_and_default(engine: Engine) -> None:
    [rp] = engine.retention_policies("db")
    assert (rp.name, rp.duration_ns, rp.default) == ("autogen", 0, True)
    assert rp.shard_group_duration_ns == 7 * 86400 * 10**9
    engine.create_retention_policy("db", RetentionPolicy("short", 3600 * 10**9, 0, 1, True))
    short = {r.name: r for r in engine.retention_policies("db")}["short"]
    assert short.shard_group_duration_ns == 3600 * 10**9
    assert short.default
    engine.write("db", None, make_batch("m", [{"time": 1, "v": 1}]))
    assert rows(engine, "db", "m", rp="short") == [{"time": 1, "v": 1}]
    assert rows(engine, "db", "m", rp="autogen") == []


def test_delete_and_drop_series_and_measurement(data_dir: Path) -> None:
    with Engine(data_dir, quiet_options()) as eng:
        eng.create_database("db")
        eng.write("db", None, make_batch("m", [
            {"time": t, "host": h, "v": t} for t in range(5) for h in ("a", "b")
        ]))
        eng.flush()
        eng.write("db", None, make_batch("m", [{"time": 9, "host": "c", "v": 9}]))
        eng.delete("db", "m", TimeRange(1, 3), {"host": "a"})
        assert {(r["time"], r["host"]) for r in rows(eng, "db", "m")} == (
            {(t, h) for t in range(5) for h in "ab"} - {(1, "a"), (2, "a")} | {(9, "c")}
        )
        eng.delete("db", "m", TimeRange(), {"host": "b"})  # DROP SERIES
        assert eng.tag_values("db", "m", "host") == ["a", "c"]
        eng.write("db", None, make_batch("gone", [{"time": 1, "v": 1}]))
        eng.drop_measurement("db", "gone")
        assert eng.measurements("db") == ["m"]
    with Engine(data_dir, quiet_options()) as eng:
        assert eng.measurements("db") == ["m"]
        assert sorted(r["host"] for r in rows(eng, "db", "m")) == ["a", "a", "a", "c"]


def test_drop_database_is_not_resurrected_by_wal(data_dir: Path) -> None:
    eng = Engine(data_dir, quiet_options())
    eng.create_database("db")
    eng.write("db", None, make_batch("m", [{"time": 1, "v": 1}]))
    eng.drop_database("db")
    eng.create_database("db")
    eng.write("db", None, make_batch("m", [{"time": 2, "v": 2}]))
    crash(eng)
    with Engine(data_dir, quiet_options()) as again:
        assert rows(again, "db", "m") == [{"time": 2, "v": 2}]
    assert not (data_dir / "data" / "other").exists()


def test_crash_leftover_files_are_removed_on_open(data_dir: Path) -> None:
    with Engine(data_dir, quiet_options()) as eng:
        eng.create_database("db")
        eng.write("db", None, make_batch("m", [{"time": 1, "v": 1}]))
    stray = data_dir / "data" / "db" / "autogen" / "m" / "0_1" / "999.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"partial")
    with Engine(data_dir, quiet_options()) as eng:
        assert not stray.exists()
        assert rows(eng, "db", "m") == [{"time": 1, "v": 1}]


def test_metrics_on_given_registry(data_dir: Path) -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    with Engine(data_dir, quiet_options(), registry=registry) as eng:
        eng.create_database("db")
        eng.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": 1}]))
        assert registry.get_sample_value("crisp_storage_points_written_total") == 1
        assert registry.get_sample_value(
            "crisp_storage_series", {"database": "db", "measurement": "m"}) == 1
        assert registry.get_sample_value("crisp_storage_wal_fsync_seconds_count") == 1
        eng.flush()
        assert registry.get_sample_value("crisp_storage_files") == 1
        assert registry.get_sample_value("crisp_storage_persist_seconds_count") == 1


def test_key_cannot_be_both_tag_and_field(engine: Engine) -> None:
    engine.write("db", None, make_batch("m", [{"time": 1, "host": "a", "v": 1}]))
    result = engine.write("db", None, make_batch("m", [{"time": 2, "host": 5}], tags=()))
    assert result.dropped_points == 1
    assert 'input field "host" on measurement "m" is a tag' in result.partial_write_message()
    assert [r["time"] for r in rows(engine, "db", "m")] == [1]
