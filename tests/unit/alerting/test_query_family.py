"""Which rule queries may share a statement, and what each gets back from it."""

from __future__ import annotations

import pytest

from crisp.alerting.query_family import member_of, merged_query, split_result

BASE = "FROM api_latency WHERE service = 'web' AND time > now() - 5m GROUP BY endpoint"


def test_queries_differing_only_in_their_aggregate_are_one_family() -> None:
    members = [
        member_of(f"SELECT {call} {BASE}")
        for call in ("percentile(duration_ms, 95)", "mean(duration_ms)", "max(duration_ms)")
    ]
    assert all(m is not None for m in members)
    assert len({m.family for m in members if m}) == 1
    merged = merged_query([m for m in members if m])
    assert merged.startswith(
        "SELECT percentile(duration_ms, 95), mean(duration_ms), max(duration_ms) FROM api_latency"
    )


@pytest.mark.parametrize(
    "other",
    [
        "SELECT mean(duration_ms) FROM api_latency WHERE service = 'api' AND time > now() - 5m"
        " GROUP BY endpoint",  # another filter
        "SELECT mean(duration_ms) FROM api_latency WHERE service = 'web' AND time > now() - 1m"
        " GROUP BY endpoint",  # another window
        "SELECT mean(count) FROM api_latency WHERE service = 'web' AND time > now() - 5m"
        " GROUP BY endpoint",  # another field: its groups differ
        "SELECT mean(duration_ms) FROM api_latency WHERE service = 'web' AND time > now() - 5m",
    ],
)
def test_another_filter_window_field_or_grouping_is_another_family(other: str) -> None:
    one, two = member_of(f"SELECT mean(duration_ms) {BASE}"), member_of(other)
    assert one is not None
    assert two is not None
    assert one.family != two.family


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT mean(duration_ms), max(duration_ms) {BASE}",
        f"SELECT derivative(mean(duration_ms)) {BASE}",
        f"SELECT top(duration_ms, 3) {BASE}",
        f"SELECT count(distinct(duration_ms)) {BASE}",
        f"SELECT mean(duration_ms) {BASE} LIMIT 1",
        f"SELECT mean(duration_ms) {BASE}, time(1m) fill(previous)",
        f"SELECT mean(duration_ms) * 2 {BASE}",
        "SELECT mean(duration_ms) FROM /api_.*/ WHERE time > now() - 5m",
        "SELECT mean(duration_ms) FROM api_latency WHERE time > now() - 5m; SELECT 1",
        "SELECT mean( FROM",
    ],
)
def test_queries_that_cannot_share_a_statement_stay_alone(query: str) -> None:
    assert member_of(query) is None


def test_each_member_gets_its_column_without_all_null_series() -> None:
    merged = {
        "statement_id": 0,
        "series": [
            {"name": "m", "tags": {"endpoint": "/a"}, "columns": ["time", "percentile", "max"],
             "values": [[0, 12.5, 40.0]]},
            # The percentile's rank fell outside this group's few points.
            {"name": "m", "tags": {"endpoint": "/b"}, "columns": ["time", "percentile", "max"],
             "values": [[0, None, 7.0]]},
        ],
    }  # fmt: skip
    p95, mx = split_result(merged, 2) or []
    assert p95 == {
        "statement_id": 0,
        "series": [{"name": "m", "tags": {"endpoint": "/a"}, "columns": ["time", "percentile"],
                    "values": [[0, 12.5]]}],
    }  # fmt: skip
    assert [s["values"] for s in mx["series"]] == [[[0, 40.0]], [[0, 7.0]]]
    assert split_result({"statement_id": 0, "error": "boom"}, 2) is None
    assert split_result(merged, 3) is None  # not the shape asked for
