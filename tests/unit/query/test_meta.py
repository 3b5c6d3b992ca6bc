"""Meta statements through the executor, against the test-only Storage."""

from __future__ import annotations

from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.query.meta import default_shard_duration, series_key
from crisp.query.results import StatementResult
from crisp.storage.api import RetentionPolicy, TimeRange
from tests.unit.query.conftest import NOW, S
from tests.unit.query.memory_storage import MemoryStorage

HOUR = 3600 * S
DAY = 24 * HOUR


def run(storage: MemoryStorage, q: str, database: str | None = "db") -> list[StatementResult]:
    return execute(q, storage=storage, database=database, rp=None, now_ns=NOW, guards=QueryGuards())


def test_databases(storage: MemoryStorage) -> None:
    results = run(
        storage, "CREATE DATABASE other; SHOW DATABASES; DROP DATABASE other; DROP DATABASE gone"
    )
    assert results == [
        {"statement_id": 0},
        {
            "statement_id": 1,
            "series": [{"name": "databases", "columns": ["name"], "values": [["db"], ["other"]]}],
        },
        {"statement_id": 2},
        {"statement_id": 3},
    ]
    assert storage.databases() == ["db"]


def test_create_database_with_policy(storage: MemoryStorage) -> None:
    run(storage, "CREATE DATABASE d2 WITH DURATION 3d NAME short")
    assert storage.retention_policies("d2")[-1] == RetentionPolicy("short", 3 * DAY, DAY, 1, True)


def test_retention_policies(storage: MemoryStorage) -> None:
    results = run(
        storage,
        "CREATE RETENTION POLICY two_h ON db DURATION 2h REPLICATION 1;"
        "ALTER RETENTION POLICY two_h ON db DURATION 3h DEFAULT;"
        "SHOW RETENTION POLICIES",
    )
    assert results[2]["series"] == [
        {
            "columns": ["name", "duration", "shardGroupDuration", "replicaN", "default"],
            "values": [
                ["autogen", "0s", "168h0m0s", 1, False],
                ["two_h", "3h0m0s", "1h0m0s", 1, True],
            ],
        }
    ]
    results = run(storage, "DROP RETENTION POLICY two_h ON db; DROP RETENTION POLICY nope ON db")
    assert results[0] == {"statement_id": 0}
    assert "retention policy not found" in results[1]["error"]


def test_default_shard_durations() -> None:
    assert default_shard_duration(0) == 7 * DAY
    assert default_shard_duration(HOUR) == HOUR
    assert default_shard_duration(30 * DAY) == DAY
    assert default_shard_duration(365 * DAY) == 7 * DAY


def test_show_measurements(storage: MemoryStorage) -> None:
    def names(q: str) -> list[str]:
        [result] = run(storage, q)
        return [row[0] for s in result.get("series", []) for row in s["values"]]

    assert names("SHOW MEASUREMENTS") == ["cpu", "mem"]
    assert names("SHOW MEASUREMENTS WITH MEASUREMENT =~ /^m/") == ["mem"]
    assert names("SHOW MEASUREMENTS WITH MEASUREMENT = cpu") == ["cpu"]
    assert names("SHOW MEASUREMENTS WHERE region = 'eu'") == ["cpu"]
    assert names("SHOW MEASUREMENTS LIMIT 1 OFFSET 1") == ["mem"]
    assert run(storage, "SHOW MEASUREMENTS", database=None)[0]["error"] == "database name required"


def test_show_tag_keys_and_values(storage: MemoryStorage) -> None:
    [result] = run(storage, "SHOW TAG KEYS FROM cpu")
    assert result["series"] == [
        {"name": "cpu", "columns": ["tagKey"], "values": [["host"], ["region"]]}
    ]
    [result] = run(storage, "SHOW TAG VALUES FROM cpu WITH KEY = host")
    assert result["series"][0]["values"] == [["host", "a"], ["host", "b"], ["host", "c"]]
    [result] = run(
        storage, "SHOW TAG VALUES FROM cpu WITH KEY IN (host, region) WHERE region = 'us'"
    )
    assert result["series"][0]["values"] == [["host", "b"], ["region", "us"]]
    [result] = run(storage, "SHOW TAG VALUES WITH KEY =~ /reg/ LIMIT 1")
    assert result["series"] == [
        {"name": "cpu", "columns": ["key", "value"], "values": [["region", "eu"]]}
    ]


def test_show_field_keys(storage: MemoryStorage) -> None:
    [result] = run(storage, "SHOW FIELD KEYS")
    assert result["series"] == [
        {
            "name": "cpu",
            "columns": ["fieldKey", "fieldType"],
            "values": [["n", "integer"], ["s", "string"], ["value", "float"]],
        },
        {"name": "mem", "columns": ["fieldKey", "fieldType"], "values": [["free", "integer"]]},
    ]


def test_show_series(storage: MemoryStorage) -> None:
    [result] = run(storage, "SHOW SERIES FROM cpu WHERE host != 'b'")
    assert result["series"] == [
        {"columns": ["key"], "values": [["cpu,host=a,region=eu"], ["cpu,host=c"]]}
    ]
    assert series_key("c p,u", {"k=1": "a b", "e": ""}) == "c\\ p\\,u,k\\=1=a\\ b"


def test_deletes(storage: MemoryStorage) -> None:
    results = run(
        storage,
        "DROP SERIES FROM cpu WHERE host = 'a';"
        "DELETE FROM cpu WHERE time < 10s;"
        "DELETE WHERE host = 'b' AND time >= 1s;"
        "DROP SERIES FROM cpu WHERE host =~ /a/;"
        "DROP MEASUREMENT mem",
    )
    assert [r.get("error") for r in results][:3] == [None, None, None]
    assert "only tag = 'value'" in results[3]["error"]
    assert storage.deletes == [
        ("db", "cpu", TimeRange(), {"host": "a"}),
        ("db", "cpu", TimeRange(None, 10 * S), None),
        ("db", None, TimeRange(S, None), {"host": "b"}),
    ]
    assert storage.measurements("db") == ["cpu"]


def test_show_ignores_time_bounds(storage: MemoryStorage) -> None:
    [result] = run(
        storage, "SHOW TAG VALUES WITH KEY = host WHERE time > now() - 1h AND host != 'a'"
    )
    assert result["series"][0]["values"] == [["host", "b"], ["host", "c"]]


def test_cardinality_counts_what_the_show_statements_list(storage: MemoryStorage) -> None:
    # cpu: hosts a, b, c (c without region); mem: host a. Fields: cpu n, s, value; mem free.
    [plain, exact, by_key, where, measurements, fields] = run(
        storage,
        "SHOW SERIES CARDINALITY; SHOW SERIES EXACT CARDINALITY;"
        ' SHOW TAG VALUES CARDINALITY WITH KEY IN ("host", "region");'
        " SHOW TAG KEY CARDINALITY WHERE region = 'eu'; SHOW MEASUREMENT EXACT CARDINALITY;"
        " SHOW FIELD KEY CARDINALITY FROM cpu",
    )
    assert plain["series"] == [{"columns": ["cardinality estimation"], "values": [[4]]}]
    assert exact["series"] == [
        {"name": "cpu", "columns": ["count"], "values": [[3]]},
        {"name": "mem", "columns": ["count"], "values": [[1]]},
    ]
    assert [s["values"] for s in by_key["series"]] == [[[5]], [[1]]]
    assert where["series"] == [{"name": "cpu", "columns": ["count"], "values": [[2]]}]
    assert measurements["series"] == [{"columns": ["count"], "values": [[2]]}]
    assert fields["series"] == [{"name": "cpu", "columns": ["count"], "values": [[3]]}]


def test_show_with_time_bounds_lists_series_with_points_in_range(storage: MemoryStorage) -> None:
    # cpu points: host a at 0-60s, b at 0s and 30s, c only at 5s; mem: host a at 0s.
    [values, series, measurements] = run(
        storage,
        'SHOW TAG VALUES WITH KEY = "host" WHERE time >= 20s;'
        " SHOW SERIES WHERE time >= 0s AND time < 6s AND host != 'a';"
        " SHOW MEASUREMENTS WHERE time > 0",
    )
    assert values["series"] == [
        {"name": "cpu", "columns": ["key", "value"], "values": [["host", "a"], ["host", "b"]]}
    ]
    assert series["series"] == [
        {"columns": ["key"], "values": [["cpu,host=b,region=us"], ["cpu,host=c"]]}
    ]
    assert measurements["error"] == "SHOW MEASUREMENTS doesn't support time in WHERE clause"
