"""SELECT execution against hand-computed results (data in conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from crisp.core.batch import FieldType
from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.query.postagg import integrate_windows
from crisp.query.results import Series, StatementResult
from crisp.storage.api import DatabaseNotFound
from tests.unit.query.conftest import NOW, S
from tests.unit.query.memory_storage import MemoryStorage, table

OPEN = QueryGuards(require_time_bound=False)


def run(storage: MemoryStorage, q: str, guards: QueryGuards = OPEN) -> list[StatementResult]:
    return execute(q, storage=storage, database="db", rp=None, now_ns=NOW, guards=guards)


def series(storage: MemoryStorage, q: str, guards: QueryGuards = OPEN) -> list[Series]:
    [result] = run(storage, q, guards)
    assert "error" not in result, result.get("error")
    return result.get("series", [])


def values(storage: MemoryStorage, q: str) -> list[list[Any]]:
    [one] = series(storage, q)
    return one["values"]


def error(storage: MemoryStorage, q: str, guards: QueryGuards = OPEN) -> str:
    [result] = run(storage, q, guards)
    assert "error" in result, result
    return result["error"]


# ------------------------------------------------------------------ raw


def test_raw_select_with_tag_and_time_conditions(storage: MemoryStorage) -> None:
    [one] = series(storage, "SELECT value FROM cpu WHERE host = 'a' AND time >= 0 AND time < 30s")
    assert one == {
        "name": "cpu",
        "columns": ["time", "value"],
        "values": [[0, 1.0], [10 * S, 2.0], [20 * S, 4.0]],
    }


def test_raw_select_reads_only_the_time_range(storage: MemoryStorage) -> None:
    values(storage, "SELECT value FROM cpu WHERE time > now() - 61s AND host = 'a'")
    assert storage.snapshots[-1][3].start_ns == NOW - 61 * S + 1


def test_rfc3339_time_conditions(storage: MemoryStorage) -> None:
    q = (
        "SELECT value FROM cpu WHERE time >= '1970-01-01T00:00:10Z'"
        " AND time <= '1970-01-01T00:00:20Z' AND host = 'a'"
    )
    assert values(storage, q) == [[10 * S, 2.0], [20 * S, 4.0]]


def test_raw_without_lower_time_bound_is_refused_by_default(storage: MemoryStorage) -> None:
    message = error(storage, "SELECT value FROM cpu", QueryGuards())
    assert "WHERE time > now() - 1h" in message
    assert series(storage, "SELECT value FROM cpu", OPEN)


def test_wildcard_lists_fields_and_tags_alphabetically(storage: MemoryStorage) -> None:
    [one] = series(storage, "SELECT * FROM cpu WHERE host = 'c'")
    assert one["columns"] == ["time", "host", "n", "region", "s", "value"]
    assert one["values"] == [[5 * S, "c", None, None, "x", 100.0]]


def test_missing_tag_equals_empty_string(storage: MemoryStorage) -> None:
    assert values(storage, "SELECT value FROM cpu WHERE region = ''") == [[5 * S, 100.0]]


def test_regex_and_or_conditions(storage: MemoryStorage) -> None:
    q = "SELECT value FROM cpu WHERE host =~ /^[bc]$/ AND (value > 15 OR value < 11)"
    assert values(storage, q) == [[0, 10.0], [5 * S, 100.0], [30 * S, 20.0]]
    q = "SELECT value FROM cpu WHERE host !~ /a|b/"
    assert values(storage, q) == [[5 * S, 100.0]]


def test_arithmetic_and_aliases(storage: MemoryStorage) -> None:
    [one] = series(storage, "SELECT value * 2 + n AS x, value / 0 FROM cpu WHERE host = 'a'")
    assert one["columns"] == ["time", "x", "value"]
    assert one["values"][:2] == [[0, 3.0, 0.0], [10 * S, 6.0, 0.0]]


def test_rows_without_any_selected_field_are_skipped(storage: MemoryStorage) -> None:
    assert values(storage, "SELECT n FROM cpu") == [[0, 1], [10 * S, 2], [20 * S, 3], [60 * S, 4]]


def test_unknown_field_gives_no_series(storage: MemoryStorage) -> None:
    assert series(storage, "SELECT nope FROM cpu") == []
    assert series(storage, "SELECT value FROM nothere") == []


def test_order_desc_limit_offset(storage: MemoryStorage) -> None:
    q = "SELECT value FROM cpu WHERE host = 'a' ORDER BY time DESC LIMIT 2 OFFSET 1"
    assert values(storage, q) == [[20 * S, 4.0], [10 * S, 2.0]]


def test_group_by_tag_splits_raw_series(storage: MemoryStorage) -> None:
    out = series(storage, "SELECT value FROM cpu WHERE region =~ /./ GROUP BY region LIMIT 1")
    assert [(s["tags"], s["values"]) for s in out] == [
        ({"region": "eu"}, [[0, 1.0]]),
        ({"region": "us"}, [[0, 10.0]]),
    ]


def test_regex_measurements(storage: MemoryStorage) -> None:
    out = series(storage, "SELECT * FROM /^(cpu|mem)$/ WHERE host = 'a' LIMIT 1")
    assert [s["name"] for s in out] == ["cpu", "mem"]
    # Every series has the columns of both measurements, as in InfluxDB.
    assert out[1]["columns"] == ["time", "free", "host", "n", "region", "s", "value"]
    assert out[1]["values"] == [[0, 5, "a", None, None, None, None]]


# ------------------------------------------------------------------ aggregates


def test_aggregates_without_group_by_time_use_range_start(storage: MemoryStorage) -> None:
    q = (
        "SELECT count(value), mean(value), sum(value), min(value), max(value), first(value),"
        " last(value), spread(value), median(value), stddev(n), sum(n) FROM cpu WHERE host = 'a'"
    )
    [one] = series(storage, q)
    assert one["columns"] == [
        "time", "count", "mean", "sum", "min", "max", "first", "last", "spread", "median",
        "stddev", "sum_1",
    ]  # fmt: skip
    row = one["values"][0]
    assert row[:10] == [0, 4, 3.75, 15.0, 1.0, 8.0, 1.0, 8.0, 7.0, 3.0]
    assert row[10] == pytest.approx(1.2909944487358056)
    assert row[11] == 10
    q = "SELECT count(value) FROM cpu WHERE time >= 10s"
    assert values(storage, q) == [[10 * S, 4]]


def test_lone_selector_reports_its_point_time(storage: MemoryStorage) -> None:
    assert values(storage, "SELECT max(value) FROM cpu WHERE host = 'a'") == [[60 * S, 8.0]]
    assert values(storage, "SELECT first(value) FROM cpu WHERE host = 'b'") == [[0, 10.0]]
    assert values(storage, "SELECT percentile(value, 50) FROM cpu WHERE host = 'a'") == [
        [10 * S, 2.0]
    ]


@pytest.mark.parametrize(
    ("p", "expected"), [(50, 2.0), (75, 4.0), (90, 8.0), (100, 8.0), (10, None)]
)
def test_percentile_is_nearest_rank(storage: MemoryStorage, p: int, expected: float) -> None:
    # n = 4: rank floor(4 * p / 100 + 0.5); rank 0 (p = 10) has no value.
    q = f"SELECT percentile(value, {p}), count(value) FROM cpu WHERE host = 'a'"
    assert values(storage, q) == [[0, expected, 4]]


def test_empty_match_has_no_series(storage: MemoryStorage) -> None:
    assert series(storage, "SELECT count(value) FROM cpu WHERE host = 'zzz'") == []


GROUPED = "FROM cpu WHERE host = 'a' AND time >= 0 AND time < 90s GROUP BY time(30s)"


@pytest.mark.parametrize(
    ("fill", "expected"),
    [
        ("", [[0, 7 / 3], [30 * S, None], [60 * S, 8.0]]),
        ("fill(null)", [[0, 7 / 3], [30 * S, None], [60 * S, 8.0]]),
        ("fill(none)", [[0, 7 / 3], [60 * S, 8.0]]),
        ("fill(-1)", [[0, 7 / 3], [30 * S, -1], [60 * S, 8.0]]),
        ("fill(previous)", [[0, 7 / 3], [30 * S, 7 / 3], [60 * S, 8.0]]),
        ("fill(linear)", [[0, 7 / 3], [30 * S, (7 / 3 + 8) / 2], [60 * S, 8.0]]),
    ],
)
def test_group_by_time_fill(storage: MemoryStorage, fill: str, expected: list[Any]) -> None:
    got = values(storage, f"SELECT mean(value) {GROUPED} {fill}")
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert [v for _, v in got] == pytest.approx([v for _, v in expected])


def test_count_fills_empty_buckets_with_zero(storage: MemoryStorage) -> None:
    assert values(storage, f"SELECT count(value) {GROUPED}") == [[0, 3], [30 * S, 0], [60 * S, 1]]


def test_group_by_time_defaults_upper_bound_to_now_and_offset(storage: MemoryStorage) -> None:
    q = "SELECT sum(value) FROM cpu WHERE host = 'a' AND time >= 0 GROUP BY time(1m, 15s)"
    # Buckets start at 15s + k*60s; the first one holding 0 starts at -45s; now is 120s.
    assert values(storage, q) == [
        [-45 * S, 3.0],
        [15 * S, 12.0],
        [75 * S, None],
    ]


def test_group_by_tags_and_star(storage: MemoryStorage) -> None:
    out = series(storage, "SELECT count(value) FROM cpu GROUP BY host")
    assert [(s["tags"], s["values"]) for s in out] == [
        ({"host": "a"}, [[0, 4]]),
        ({"host": "b"}, [[0, 2]]),
        ({"host": "c"}, [[0, 1]]),
    ]
    out = series(storage, "SELECT last(value) FROM cpu GROUP BY *")
    assert [s["tags"] for s in out] == [
        {"host": "a", "region": "eu"},
        {"host": "b", "region": "us"},
        {"host": "c", "region": ""},
    ]


def test_slimit_soffset(storage: MemoryStorage) -> None:
    out = series(storage, "SELECT count(value) FROM cpu GROUP BY host SLIMIT 1 SOFFSET 1")
    assert [s["tags"] for s in out] == [{"host": "b"}]


def test_duplicate_names_and_aggregate_arithmetic(storage: MemoryStorage) -> None:
    q = "SELECT mean(value), mean(value) * 2, sum(value) / count(value) FROM cpu WHERE host = 'a'"
    [one] = series(storage, q)
    assert one["columns"] == ["time", "mean", "mean_1", "sum_count"]
    assert one["values"] == [[0, 3.75, 7.5, 3.75]]


def test_wildcard_aggregate_expands_per_numeric_field(storage: MemoryStorage) -> None:
    [one] = series(storage, "SELECT max(*) FROM cpu WHERE host = 'a'")
    assert one["columns"] == ["time", "max_n", "max_s", "max_value"]
    assert one["values"] == [[0, 4, None, 8.0]]
    [one] = series(storage, "SELECT mean(*) FROM cpu WHERE host = 'a'")
    assert one["columns"] == ["time", "mean_n", "mean_value"]


def test_count_distinct(storage: MemoryStorage) -> None:
    assert series(storage, "SELECT count(distinct(region)) FROM cpu") == []  # a tag
    assert values(storage, "SELECT count(distinct(n)) FROM cpu") == [[0, 4]]


# ------------------------------------------------------------------ transformations


def test_raw_derivative_and_friends(storage: MemoryStorage) -> None:
    where = "FROM cpu WHERE host = 'a'"
    assert values(storage, f"SELECT derivative(value, 1s) {where}") == [
        [10 * S, 0.1],
        [20 * S, 0.2],
        [60 * S, 0.1],
    ]
    assert values(storage, f"SELECT difference(value) {where}") == [
        [10 * S, 1.0],
        [20 * S, 2.0],
        [60 * S, 4.0],
    ]
    assert values(storage, f"SELECT cumulative_sum(n) {where}") == [
        [0, 1], [10 * S, 3], [20 * S, 6], [60 * S, 10]
    ]  # fmt: skip
    assert values(storage, f"SELECT moving_average(value, 2) {where}") == [
        [10 * S, 1.5], [20 * S, 3.0], [60 * S, 6.0]
    ]  # fmt: skip
    assert values(storage, f"SELECT elapsed(value, 1s) {where}") == [
        [10 * S, 10], [20 * S, 10], [60 * S, 40]
    ]  # fmt: skip


def test_non_negative_derivative_drops_decreases(storage: MemoryStorage) -> None:
    q = "SELECT non_negative_derivative(value) FROM cpu WHERE host =~ /a|b/ GROUP BY host"
    out = series(storage, q)
    assert out[1]["values"] == [[30 * S, 10 / 30]]
    q = "SELECT non_negative_difference(value) FROM cpu WHERE host = 'a'"
    assert values(storage, q) == [[10 * S, 1.0], [20 * S, 2.0], [60 * S, 4.0]]


def test_order_by_time_desc_runs_transformations_backwards(storage: MemoryStorage) -> None:
    # As InfluxDB does: each value minus the next later one, so rises become drops ...
    q = "SELECT difference(value) FROM cpu WHERE host = 'a' ORDER BY time DESC"
    assert values(storage, q) == [[20 * S, -4.0], [10 * S, -2.0], [0, -1.0]]
    q = "SELECT non_negative_difference(value) FROM cpu WHERE host = 'a' ORDER BY time DESC"
    assert series(storage, q) == []
    # ... while a derivative's elapsed time stays positive, and cumulative sums start late.
    q = "SELECT derivative(value, 10s) FROM cpu WHERE host = 'a' ORDER BY time DESC"
    assert values(storage, q) == [[20 * S, -1.0], [10 * S, -2.0], [0, -1.0]]
    q = "SELECT cumulative_sum(value) FROM cpu WHERE host = 'a' ORDER BY time DESC"
    assert values(storage, q) == [[60 * S, 8.0], [20 * S, 12.0], [10 * S, 14.0], [0, 15.0]]


def test_derivative_of_aggregates_reads_the_bucket_before_the_range(
    storage: MemoryStorage,
) -> None:
    # host a: 30s buckets hold means 7/3 (0s) and 8 (60s). The range starts at 30s, so
    # its only mean is 8, yet that bucket gets a derivative from the one at 0s (read,
    # then dropped from the answer), over the two intervals between them.
    q = (
        "SELECT derivative(mean(value)), mean(value) FROM cpu WHERE host = 'a'"
        " AND time >= 30s AND time < 90s GROUP BY time(30s)"
    )
    expected = [[30 * S, None, None], [60 * S, pytest.approx((8 - 7 / 3) / 2), 8.0]]
    assert values(storage, q) == expected


def test_derivative_of_aggregate_defaults_to_interval_unit(storage: MemoryStorage) -> None:
    q = f"SELECT derivative(mean(value)) {GROUPED}"
    [[time, value]] = values(storage, q)
    assert time == 60 * S
    assert value == pytest.approx((8 - 7 / 3) / 2)


def test_transformation_requires_aggregate_with_group_by_time(storage: MemoryStorage) -> None:
    assert "aggregate function" in error(storage, f"SELECT derivative(value) {GROUPED}")
    assert "GROUP BY interval" in error(storage, "SELECT derivative(mean(value)) FROM cpu")


# ------------------------------------------------------------------ errors and guards


def test_errors_are_per_statement(storage: MemoryStorage) -> None:
    results = run(storage, "SELECT value FROM cpu WHERE host = 'c'; SELECT x FROM nodb..cpu")
    assert results[0]["statement_id"] == 0
    assert results[0]["series"][0]["values"] == [[5 * S, 100.0]]
    assert results[1] == {"statement_id": 1, "error": str(DatabaseNotFound("nodb"))}


def test_parse_error_is_reported(storage: MemoryStorage) -> None:
    [result] = run(storage, "SELECT FROM cpu")
    assert result["error"] == (
        "error parsing query: found FROM, expected identifier, string, number, bool"
        " at line 1, char 8"
    )


def test_database_required(storage: MemoryStorage) -> None:
    [result] = execute("SELECT count(value) FROM cpu", storage=storage, database=None, rp=None,
                       now_ns=NOW, guards=OPEN)  # fmt: skip
    assert result["error"] == "database name required"


def test_mixing_aggregates_and_raw_fields_is_an_error(storage: MemoryStorage) -> None:
    assert "mixing" in error(storage, "SELECT mean(value), value FROM cpu")


def test_numeric_aggregate_of_string_field_is_an_error(storage: MemoryStorage) -> None:
    assert "unsupported mean" in error(storage, "SELECT mean(s) FROM cpu")


def test_guards(storage: MemoryStorage) -> None:
    q = "SELECT count(value) FROM cpu WHERE time > now() - 1h GROUP BY time(1ms)"
    assert "too many GROUP BY time buckets" in error(storage, q)
    assert "max-select-series" in error(
        storage, "SELECT count(value) FROM cpu GROUP BY host", QueryGuards(max_series=2)
    )
    assert "max-select-point" in error(
        storage, "SELECT value FROM cpu WHERE time > 0", QueryGuards(max_points=3)
    )


def test_invalid_regex_is_an_error(storage: MemoryStorage) -> None:
    assert "missing )" in error(storage, "SELECT value FROM cpu WHERE host =~ /(/")


# ------------------------------------------------------------------ subqueries


def test_subquery_aggregates_an_aggregate(storage: MemoryStorage) -> None:
    q = "SELECT max(m) FROM (SELECT mean(value) AS m FROM cpu GROUP BY host)"
    assert series(storage, q) == [
        {"name": "cpu", "columns": ["time", "max"], "values": [[0, 100.0]]}
    ]
    q = "SELECT sum(m) FROM (SELECT mean(value) AS m FROM cpu GROUP BY host) GROUP BY host"
    assert [s["values"] for s in series(storage, q)] == [[[0, 3.75]], [[0, 15.0]], [[0, 100.0]]]


def test_subquery_receives_the_outer_time_range(storage: MemoryStorage) -> None:
    q = "SELECT m FROM (SELECT value AS m FROM cpu WHERE host = 'a') WHERE time >= 15s"
    assert series(storage, q, QueryGuards()) == [
        {"name": "cpu", "columns": ["time", "m"], "values": [[20 * S, 4.0], [60 * S, 8.0]]}
    ]


# ------------------------------------------------------------------ distinct, top, bottom, integral


def test_top_and_bottom_return_points_in_time_order(storage: MemoryStorage) -> None:
    where = "FROM cpu WHERE host = 'a'"
    assert values(storage, f"SELECT top(value, 2) {where}") == [[20 * S, 4.0], [60 * S, 8.0]]
    assert values(storage, f"SELECT bottom(value, 2) {where}") == [[0, 1.0], [10 * S, 2.0]]
    # With GROUP BY time() each point keeps its own time, not its bucket's.
    assert values(storage, f"SELECT top(value, 1) {GROUPED}") == [[20 * S, 4.0], [60 * S, 8.0]]


def test_top_with_a_tag_argument_keeps_one_point_per_tag_value(storage: MemoryStorage) -> None:
    [one] = series(storage, "SELECT top(value, host, 2) FROM cpu")
    assert one["columns"] == ["time", "top", "host"]
    # Best per host: a 8 (60s), b 20 (30s), c 100 (5s); the two highest, by time.
    assert one["values"] == [[5 * S, 100.0, "c"], [30 * S, 20.0, "b"]]
    [low] = series(storage, "SELECT bottom(value, host, region, 3), n FROM cpu")
    assert low["columns"] == ["time", "bottom", "host", "region", "n"]
    assert low["values"] == [
        [0, 1.0, "a", "eu", 1],
        [0, 10.0, "b", "us", None],
        [5 * S, 100.0, "c", None, None],
    ]


def test_top_refuses_what_influxdb_refuses(storage: MemoryStorage) -> None:
    assert error(storage, "SELECT top(value, 2), max(n) FROM cpu") == (
        "selector function top() cannot be combined with other functions"
    )
    assert error(storage, "SELECT top(value, host) FROM cpu") == (
        "expected integer as last argument in top(), found host"
    )
    assert error(storage, "SELECT top(value, 'host', 1) FROM cpu") == (
        "only fields or tags are allowed in top(), found 'host'"
    )
    assert error(storage, "SELECT bottom(value, 3) FROM cpu LIMIT 2") == (
        "limit (3) in bottom function can not be larger than the LIMIT (2) in the select statement"
    )


def test_distinct(storage: MemoryStorage) -> None:
    assert values(storage, "SELECT distinct(n) FROM cpu") == [[0, 1], [0, 2], [0, 3], [0, 4]]
    assert values(storage, "SELECT DISTINCT s FROM cpu WHERE time >= 1s") == [[S, "x"]]
    assert series(storage, "SELECT distinct(region) FROM cpu") == []  # a tag, not a field
    assert "cannot be combined" in error(storage, "SELECT distinct(n), mean(n) FROM cpu")


def test_integral_is_the_trapezoid_area(storage: MemoryStorage) -> None:
    # (10s * (1+2)/2) + (10s * (2+4)/2) + (40s * (4+8)/2) = 285 value-seconds
    assert values(storage, "SELECT integral(value) FROM cpu WHERE host = 'a'") == [[0, 285.0]]
    q = "SELECT integral(value, 1m), count(value) FROM cpu WHERE host = 'a'"
    assert values(storage, q) == [[0, 4.75, 4]]


def test_tz_aligns_day_buckets_to_local_midnight(storage: MemoryStorage) -> None:
    q = (
        "SELECT count(value) FROM cpu WHERE time >= 0 AND time < 1h"
        " GROUP BY time(1d) tz('Europe/Paris')"
    )
    # Paris was UTC+1 in January 1970: the local day began at 23:00 UTC the day before.
    assert values(storage, q) == [[-3600 * S, 7]]


def test_epoch_millisecond_bounds_as_grafana_sends_them(storage: MemoryStorage) -> None:
    q = "SELECT value FROM cpu WHERE time >= 10000ms AND time <= 20000ms AND host = 'a'"
    assert values(storage, q) == [[10 * S, 2.0], [20 * S, 4.0]]


def test_selector_reports_the_selected_points_other_values(storage: MemoryStorage) -> None:
    [one] = series(storage, "SELECT max(value), host, n, region FROM cpu")
    assert one["columns"] == ["time", "max", "host", "n", "region"]
    assert one["values"] == [[5 * S, 100.0, "c", None, None]]
    q = "SELECT first(n), value FROM cpu WHERE time >= 5s GROUP BY host"
    assert [s["values"] for s in series(storage, q)] == [[[10 * S, 2, 2.0]]]
    # percentile() selects a point too: the 4th of 7 values by size, 8 (host a at 60s).
    q = "SELECT percentile(value, 50), host FROM cpu"
    assert values(storage, q) == [[60 * S, 8.0, "a"]]
    assert "mixing" in error(storage, "SELECT median(value), host FROM cpu")


def test_series_without_the_aggregated_field_are_absent(storage: MemoryStorage) -> None:
    out = series(storage, "SELECT count(n), mean(n) FROM cpu GROUP BY host")
    assert [(s["tags"], s["values"]) for s in out] == [({"host": "a"}, [[0, 4, 2.5]])]


def test_selected_tags_do_not_keep_rows_without_fields(storage: MemoryStorage) -> None:
    assert series(storage, "SELECT n, host FROM cpu WHERE host != 'a'") == []
    [one] = series(storage, "SELECT s, host FROM cpu")
    assert one["values"] == [[5 * S, "x", "c"]]


def test_mode_prefers_the_smallest_value_on_ties(storage: MemoryStorage) -> None:
    assert values(storage, "SELECT mode(n) FROM cpu") == [[0, 1]]
    assert values(storage, "SELECT mode(s), mode(value) FROM cpu") == [[0, "x", 1.0]]


def test_sample_returns_n_of_the_points(storage: MemoryStorage) -> None:
    rows = values(storage, "SELECT sample(value, 2) FROM cpu WHERE host = 'a'")
    assert len(rows) == 2
    assert rows == sorted(rows)
    assert all(row in [[0, 1.0], [10 * S, 2.0], [20 * S, 4.0], [60 * S, 8.0]] for row in rows)


def test_arithmetic_on_transformations(storage: MemoryStorage) -> None:
    [one] = series(storage, f"SELECT non_negative_derivative(mean(value), 1s) * 8 {GROUPED}")
    assert one["columns"] == ["time", "non_negative_derivative"]
    [[time, value]] = one["values"]
    assert time == 60 * S
    assert value == pytest.approx((8 - 7 / 3) / 60 * 8)
    where = "FROM cpu WHERE host = 'a'"
    assert values(storage, f"SELECT difference(value) * 2 {where}") == [
        [10 * S, 2.0], [20 * S, 4.0], [60 * S, 8.0]
    ]  # fmt: skip
    [one] = series(storage, f"SELECT derivative(value) + difference(value) AS x {where}")
    assert one["columns"] == ["time", "x"]
    assert one["values"] == [[10 * S, 1.1], [20 * S, 2.2], [60 * S, 4.1]]
    assert "mixing" in error(storage, f"SELECT difference(value) * 2, n {where}")


@pytest.mark.parametrize(("function", "expected"), [("max", 9.0), ("min", 1.0)])
def test_min_max_ties_pick_the_earliest_point_like_influxdb(function: str, expected: float) -> None:
    memory = MemoryStorage()
    # Several hosts reach the extreme; the earliest one (t=20s, host "late-name") wins,
    # whatever order the rows are stored in.
    rows = [
        {"time": 40 * S, "host": "a", "value": 9.0},
        {"time": 20 * S, "host": "z", "value": 9.0},
        {"time": 30 * S, "host": "b", "value": 1.0},
        {"time": 50 * S, "host": "c", "value": 9.0},
        {"time": 25 * S, "host": "y", "value": 1.0},
        {"time": 35 * S, "host": "d", "value": 5.0},
    ]
    memory.add("db", "t", table(rows, ["host"], {"value": FieldType.FLOAT}))
    picked = {9.0: [20 * S, 9.0, "z"], 1.0: [25 * S, 1.0, "y"]}[expected]
    assert values(memory, f"SELECT {function}(value), host FROM t") == [picked]
    assert values(memory, f"SELECT {function}(value) FROM t") == [picked[:2]]


# ------------------------------------------------------------------ math functions


def test_math_functions_per_row_keep_rows_whose_result_is_not_a_number(
    storage: MemoryStorage,
) -> None:
    q = "SELECT sqrt(value - 3), round(value / 3), floor(n) FROM cpu WHERE host = 'a'"
    assert values(storage, q) == [
        [0, None, 0.0, 1],
        [10 * S, None, 1.0, 2],
        [20 * S, 1.0, 1.0, 3],
        [60 * S, pytest.approx(5**0.5), 3.0, 4],
    ]
    assert values(storage, "SELECT floor(s) FROM cpu WHERE host = 'c'") == [[5 * S, None]]


def test_math_functions_over_aggregates_and_transformations(storage: MemoryStorage) -> None:
    assert values(storage, "SELECT round(mean(value)) FROM cpu WHERE host = 'a'") == [[0, 4.0]]
    q = f"SELECT abs(difference(max(value))) {GROUPED}"
    assert values(storage, q) == [[60 * S, 4.0]]
    assert error(storage, "SELECT pow(value) FROM cpu") == (
        "invalid number of arguments for pow, expected 2, got 1"
    )


def test_distinct_lists_values_by_first_appearance(storage: MemoryStorage) -> None:
    # Not sorted by value: by the time each value first appears, then by value.
    got = [v for _, v in values(storage, "SELECT distinct(value) FROM cpu")]
    assert got == [1.0, 10.0, 100.0, 2.0, 4.0, 20.0, 8.0]


def test_slimit_counts_series_per_measurement_and_desc_reverses_them(
    storage: MemoryStorage,
) -> None:
    q = "SELECT count(value), count(free) FROM cpu, mem GROUP BY host {} SLIMIT 1"
    out = series(storage, q.format(""))
    assert [(s["name"], s["tags"], s["values"]) for s in out] == [
        ("cpu", {"host": "a"}, [[0, 4, None]]),
        ("mem", {"host": "a"}, [[0, None, 1]]),
    ]
    desc = series(storage, q.format("ORDER BY time DESC"))
    assert [s["name"] for s in desc] == ["mem", "cpu"]


def test_unsupported_influxql_is_refused_by_name(storage: MemoryStorage) -> None:
    q = "SELECT holt_winters(mean(value), 5, 2) FROM cpu WHERE time >= 0 GROUP BY time(10s)"
    assert error(storage, q).startswith("holt_winters() is not supported")
    assert error(storage, "SELECT mean(value) INTO copy FROM cpu") == "SELECT INTO is not supported"


def test_sample_keeps_point_times_in_time_buckets(storage: MemoryStorage) -> None:
    rows = values(storage, f"SELECT sample(value, 10) {GROUPED}")
    assert rows == [[0, 1.0], [10 * S, 2.0], [20 * S, 4.0], [60 * S, 8.0]]


def test_first_and_last_break_equal_times_by_the_larger_value(storage: MemoryStorage) -> None:
    # Hosts a (1.0) and b (10.0) both have a point at 0s.
    q = "SELECT first(value), last(value) FROM cpu WHERE time < 1s"
    assert values(storage, q) == [[0, 10.0, 10.0]]


def test_integral_per_bucket_splits_the_area_at_bucket_ends() -> None:
    # 0 at 0s, 10 at 10s, 10 at 30s; 20s buckets: the segment from 10s to 30s is cut at
    # 20s (value 10 there by interpolation), so no area falls between the buckets.
    cells = [
        (0, [{"t": 0, "v": 0.0}, {"t": 10 * S, "v": 10.0}]),
        (20 * S, [{"t": 30 * S, "v": 10.0}]),
    ]
    assert integrate_windows(cells, 20 * S, 0, S) == {0: 150.0, 20 * S: 100.0}


def test_raw_subquery_points_keep_their_tags(storage: MemoryStorage) -> None:
    q = "SELECT max(value) FROM (SELECT value FROM cpu) GROUP BY host"
    out = series(storage, q)
    assert [(s["tags"], s["values"]) for s in out] == [
        ({"host": "a"}, [[60 * S, 8.0]]),
        ({"host": "b"}, [[30 * S, 20.0]]),
        ({"host": "c"}, [[5 * S, 100.0]]),
    ]
