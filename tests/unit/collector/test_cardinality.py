"""The cardinality guard: pure guard behaviour, then through the HTTP API."""

from __future__ import annotations

from pathlib import Path

from crisp.collector.cardinality import SeriesGuard, series_of
from tests.unit.collector.helpers import Harness, lp_batch


def lines(measurement: str, ids: range, tag: str = "request_id") -> str:
    return "".join(f"{measurement},host=a,{tag}=r{i} v={i} {i}\n" for i in ids)


def test_same_series_hash_alike_whatever_columns_a_request_had() -> None:
    wide = lp_batch("m,a=1,b=x v=1 1\nm,a=1 v=2 2\n")
    narrow = lp_batch("m,a=1 v=3 3\n")
    wide_keys, rows = series_of(wide.measurements["m"])
    narrow_keys, _ = series_of(narrow.measurements["m"])
    assert len(set(wide_keys)) == 2
    assert wide_keys[rows[1]] == narrow_keys[0]  # "a=1" with b null is the series "a=1"


def test_new_series_past_the_measurement_limit_are_refused_known_ones_flow() -> None:
    guard = SeriesGuard(max_per_measurement=10, max_per_database=1000)
    first = guard.admit("db", lp_batch(lines("api", range(10))))
    assert first.refusals == []
    more = guard.admit("db", lp_batch(lines("api", range(5, 25))))
    [refusal] = more.refusals
    assert (refusal.measurement, refusal.scope, refusal.limit, refusal.points) == (
        "api", "measurement", 10, 15,
    )  # fmt: skip
    assert "CRISP_COLLECTOR_MAX_SERIES_PER_MEASUREMENT" in str(refusal)
    kept = more.batch.measurements["api"].table.column("v").to_pylist()
    assert kept == [5, 6, 7, 8, 9]  # the series it already knew
    # Another measurement of the same database is not affected.
    assert guard.admit("db", lp_batch(lines("web", range(10)))).refusals == []


def test_the_database_limit_counts_every_measurement() -> None:
    guard = SeriesGuard(max_per_measurement=100, max_per_database=12)
    assert guard.admit("tenant", lp_batch(lines("a", range(8)))).refusals == []
    result = guard.admit("tenant", lp_batch(lines("b", range(8))))
    [refusal] = result.refusals
    assert (refusal.scope, refusal.points, refusal.limit) == ("database", 4, 12)
    assert "database 'tenant'" in str(refusal)
    assert result.batch.num_points == 4
    # Other tenants have their own budget.
    assert guard.admit("other", lp_batch(lines("b", range(8)))).refusals == []


def test_series_that_stop_arriving_age_out_after_two_windows() -> None:
    now = [0.0]
    guard = SeriesGuard(10, 1000, window_seconds=60, clock=lambda: now[0])
    guard.admit("db", lp_batch(lines("m", range(10))))
    assert guard.admit("db", lp_batch(lines("m", range(10, 11)))).refusals != []
    now[0] = 61  # the old series are in the previous window: still counted
    assert guard.admit("db", lp_batch(lines("m", range(10, 11)))).refusals != []
    now[0] = 122  # two windows without them: gone
    assert guard.admit("db", lp_batch(lines("m", range(10, 20)))).refusals == []


def test_http_write_past_the_limit_answers_400_naming_measurement_and_limit(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path, series_guard=SeriesGuard(max_per_measurement=3, max_per_database=100))
    with h.client:
        ok = h.client.post("/write", params={"db": "d"}, content=lines("api", range(3)))
        assert ok.status_code == 204
        refused = h.client.post("/write", params={"db": "d"}, content=lines("api", range(2, 6)))
        assert refused.status_code == 400
        message = refused.json()["error"]
        assert "measurement 'api' in database 'd' has 3 active series" in message
        assert "3 points of new series of 'api' refused" in message
        assert "1 points of known series accepted" in message
        metrics = h.client.get("/metrics").text
        assert 'crisp_collector_series_refused_points_total{limit="measurement"} 3.0' in metrics
    ids = sorted(row["request_id"] for _, _, _, row in h.rows())
    assert ids == ["r0", "r1", "r2", "r2"]  # r2 twice: known, so accepted again
    h.close()
