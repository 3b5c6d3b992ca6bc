"""Selectors over integer fields (one packed min()/max() key) pick InfluxDB's points.

``min``/``max`` report the earliest of the points holding the extreme value, ``first``
/``last`` the largest of the values at the extreme time (several series share it), and
a percentile whose rank falls below DuckDB's pick reports the latest point of the value
below: checked against a model over the whole 64-bit range of values and times.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType
from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from tests.unit.query.memory_storage import MemoryStorage, table

OPEN = QueryGuards(require_time_bound=False)
I64 = (-(2**63), 2**63 - 1)
U64 = (0, 2**64 - 1)
# Times InfluxDB accepts are within about ±2^63; negative ones are before 1970.
TIMES = st.one_of(
    st.integers(min_value=-(2**63) + 2, max_value=2**63 - 2),
    st.sampled_from([-(2**63) + 2, -1, 0, 1, 2**63 - 2]),
)


def values_of(lo: int, hi: int) -> st.SearchStrategy[int]:
    # Extremes and a few small values, so that ties are common.
    return st.one_of(
        st.sampled_from([lo, lo + 1, hi - 1, hi]),
        st.integers(lo, lo + 3),
        st.integers(hi - 3, hi),
        st.integers(-3, 3).filter(lambda v: lo <= v <= hi),
    )


def points_strategy(lo: int, hi: int) -> st.SearchStrategy[list[tuple[str, int, int | None]]]:
    """(host, time, value or None) with unique (host, time)."""
    point = st.tuples(st.sampled_from(["a", "b", "c"]), TIMES, st.none() | values_of(lo, hi))
    return st.lists(point, min_size=1, max_size=25, unique_by=lambda p: (p[0], p[1]))


def run(points: list[tuple[str, int, int | None]], q: str, field_type: FieldType) -> Any:
    storage = MemoryStorage()
    rows = [{"time": t, "host": h, "v": v, "w": 1} for h, t, v in points]
    fields = {"v": field_type, "w": FieldType.INTEGER}
    storage.add("db", "m", table(rows, ["host"], fields))
    [result] = execute(q, storage=storage, database="db", rp=None, now_ns=0, guards=OPEN)
    assert "error" not in result, result
    return [one["values"] for one in result.get("series", [])]


def selected(name: str, points: list[tuple[int, int]]) -> list[int]:
    """[time, value] InfluxDB 1.x reports for selector ``name`` over (time, value)."""
    if name in ("min", "max"):
        extreme = (min if name == "min" else max)(v for _, v in points)
        return [min(t for t, v in points if v == extreme), extreme]
    at = (min if name == "first" else max)(t for t, _ in points)
    return [at, max(v for t, v in points if t == at)]


@settings(max_examples=200, deadline=None)
@given(points=points_strategy(*I64), name=st.sampled_from(["min", "max", "first", "last"]))
def test_integer_selectors_pick_the_model_point(
    points: list[tuple[str, int, int | None]], name: str
) -> None:
    present = [(t, v) for _, t, v in points if v is not None]
    expected = [[selected(name, present)]] if present else []
    assert run(points, f"SELECT {name}(v) FROM m", FieldType.INTEGER) == expected


@settings(max_examples=100, deadline=None)
@given(points=points_strategy(*U64), name=st.sampled_from(["min", "max", "first", "last"]))
def test_unsigned_selectors_pick_the_model_point(
    points: list[tuple[str, int, int | None]], name: str
) -> None:
    present = [(t, v) for _, t, v in points if v is not None]
    expected = [[selected(name, present)]] if present else []
    assert run(points, f"SELECT {name}(v) FROM m", FieldType.UNSIGNED) == expected


@settings(max_examples=100, deadline=None)
@given(points=points_strategy(*I64), name=st.sampled_from(["min", "max", "first", "last"]))
def test_integer_selectors_per_series(points: list[tuple[str, int, int | None]], name: str) -> None:
    expected = []
    for host in sorted({h for h, _, v in points if v is not None}):
        present = [(t, v) for h, t, v in points if h == host and v is not None]
        expected.append([selected(name, present)])
    assert run(points, f"SELECT {name}(v) FROM m GROUP BY host", FieldType.INTEGER) == expected


def test_max_per_series_ties_report_the_earliest_point() -> None:
    # Each host reaches its maximum twice; the earlier time wins, not the later one.
    points: list[tuple[str, int, int | None]] = [
        ("a", 30, 7), ("a", 10, 7), ("a", 20, 5),
        ("b", 40, -2), ("b", 5, -9), ("b", 20, -2),
    ]  # fmt: skip
    assert run(points, "SELECT max(v) FROM m GROUP BY host", FieldType.INTEGER) == [
        [[10, 7]],
        [[20, -2]],
    ]
    assert run(points, "SELECT min(v) FROM m GROUP BY host", FieldType.INTEGER) == [
        [[20, 5]],
        [[5, -9]],
    ]


@settings(max_examples=150, deadline=None)
@given(
    points=points_strategy(*I64),
    p=st.sampled_from([1, 10, 25, 50, 62.5, 75, 90, 95, 99, 100]),
)
def test_integer_percentile_over_extremes_matches_the_model(
    points: list[tuple[str, int, int | None]], p: float
) -> None:
    present = sorted(((v, t) for _, t, v in points if v is not None))
    k = math.floor(len(present) * p / 100.0 + 0.5) - 1
    expected = [[[present[k][1], present[k][0]]]] if 0 <= k < len(present) else []
    assert run(points, f"SELECT percentile(v, {p}) FROM m", FieldType.INTEGER) == expected
