"""percentile(): InfluxDB 1.x's nearest rank, ties and small n, checked against a model."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType
from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from tests.unit.query.memory_storage import MemoryStorage, table

S = 10**9
OPEN = QueryGuards(require_time_bound=False)
# (time s, value): ties on 3 and 7, stored out of time order.
POINTS = [(50, 7), (10, 3), (40, 3), (0, 9), (30, 7), (20, 3), (60, 1), (70, 7)]
PERCENTILES = [-5, 0, 1, 10, 12.5, 25, 33.3, 37.5, 50, 62.5, 75, 87.5, 90, 99, 99.9, 100, 150]


def model(points: list[tuple[int, Any]], p: float) -> tuple[int, Any] | None:
    """InfluxDB's reduce: sort by value, earliest first on ties, take index floor(n*p/100+0.5)-1."""
    ordered = sorted(points, key=lambda tv: (tv[1], tv[0]))
    i = math.floor(len(ordered) * p / 100.0 + 0.5) - 1
    return ordered[i] if 0 <= i < len(ordered) else None


def run(points: list[tuple[int, Any]], q: str, field_type: FieldType) -> list[Any]:
    storage = MemoryStorage()
    rows = [{"time": t * S, "host": "a", "v": v} for t, v in points]
    storage.add("db", "m", table(rows, ["host"], {"v": field_type}))
    [result] = execute(q, storage=storage, database="db", rp=None, now_ns=10**12, guards=OPEN)
    assert "error" not in result, result
    return [one["values"] for one in result.get("series", [])]


@pytest.mark.parametrize("n", range(1, len(POINTS) + 1))
@pytest.mark.parametrize("p", PERCENTILES)
def test_lone_percentile_reports_influxdb_point(n: int, p: float) -> None:
    points = POINTS[:n]
    expected = model(points, p)
    got = run(points, f"SELECT percentile(v, {p}) FROM m", FieldType.INTEGER)
    if expected is None:
        # A rank outside 1..n selects no point: no row, no series (influxd 1.6.7).
        assert got == []
    else:
        assert got == [[[expected[0] * S, expected[1]]]]


@pytest.mark.parametrize("p", PERCENTILES)
def test_percentile_beside_other_fields_and_in_buckets(p: float) -> None:
    floats = [(t, v + 0.5) for t, v in POINTS]
    q = f"SELECT percentile(v, {p}), count(v) FROM m GROUP BY time(40s)"
    got = run(floats, q + " fill(none)", FieldType.FLOAT)
    expected = []
    for start in (0, 40):
        bucket = [(t, v) for t, v in floats if start <= t < start + 40]
        picked = model(bucket, p)
        expected.append([start * S, picked[1] if picked else None, len(bucket)])
    assert got == [expected]


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(
        st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=40),
        min_size=1,
        max_size=4,
    ),
    p=st.one_of(
        st.sampled_from(PERCENTILES), st.floats(min_value=0, max_value=100, allow_nan=False)
    ),
)
def test_exact_rank_time_and_aux_per_group_match_the_model(
    groups: list[list[int]], p: float
) -> None:
    # Few distinct values: ties everywhere, groups of every size (n differs per group,
    # so DuckDB's ceil(n*p) rank is sometimes k and sometimes k + 1).
    storage = MemoryStorage()
    rows = []
    for g, values in enumerate(groups):
        for i, v in enumerate(values):
            rows.append({"time": ((i * 7919) % 1000) * S + g, "host": f"h{g}", "v": v, "w": i})
    if not rows:
        return
    storage.add("db", "m", table(rows, ["host"], {"v": FieldType.INTEGER, "w": FieldType.INTEGER}))
    p_text = f"{p:.6f}"  # InfluxQL has no exponent notation
    p = float(p_text)
    q = f"SELECT percentile(v, {p_text}), w FROM m GROUP BY host"
    [result] = execute(q, storage=storage, database="db", rp=None, now_ns=10**12, guards=OPEN)
    assert "error" not in result, result
    got = {one["tags"]["host"]: one["values"] for one in result.get("series", [])}
    expected = {}
    for g, values in enumerate(groups):
        points = [(((i * 7919) % 1000) * S + g, v, i) for i, v in enumerate(values)]
        ordered = sorted(points, key=lambda tvw: (tvw[1], tvw[0]))
        k = math.floor(len(ordered) * p / 100.0 + 0.5) - 1
        if 0 <= k < len(ordered):
            expected[f"h{g}"] = [list(ordered[k])]
    assert got == expected
