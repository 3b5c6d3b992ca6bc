"""percentile() beside the other columns a statement can read (group tags, an aux tag or
field, other aggregates, wildcards), under a tag filter and per time bucket: its first
pass (DuckDB's quantile_disc per group) and main pass must agree on the rows."""

from __future__ import annotations

from typing import Any

from crisp.core.batch import FieldType
from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from tests.unit.query.memory_storage import MemoryStorage, table

S = 10**9
OPEN = QueryGuards(require_time_bound=False)
# host, region, time (s), v, w
ROWS = [
    ("a", "eu", 0, 5, 1.5), ("a", "eu", 10, 9, 2.5), ("a", "eu", 20, 1, None),
    ("b", "eu", 0, 7, 0.5), ("b", "eu", 10, 7, 4.0),
    ("c", "us", 5, 3, 8.0), ("c", "us", 15, 8, 1.0),
]  # fmt: skip


def run(q: str) -> list[tuple[dict[str, str] | None, list[str], list[list[Any]]]]:
    storage = MemoryStorage()
    rows = [{"time": t * S, "host": h, "region": r, "v": v, "w": w} for h, r, t, v, w in ROWS]
    fields = {"v": FieldType.INTEGER, "w": FieldType.FLOAT}
    storage.add("db", "m", table(rows, ["host", "region"], fields))
    [result] = execute(q, storage=storage, database="db", rp=None, now_ns=10**12, guards=OPEN)
    assert "error" not in result, result
    return [(s.get("tags"), s["columns"], s["values"]) for s in result.get("series", [])]


def test_percentile_with_an_aux_tag_and_field_per_group() -> None:
    # eu: v = 1, 5, 7, 7, 9 -> p50 is the 3rd (7, earliest at 0s: host b, w 0.5).
    # us: v = 3, 8 -> p50 is the 1st (3 at 5s: host c, w 8.0).
    got = run("SELECT percentile(v, 50), host, w FROM m GROUP BY region")
    assert got == [
        ({"region": "eu"}, ["time", "percentile", "host", "w"], [[0, 7, "b", 0.5]]),
        ({"region": "us"}, ["time", "percentile", "host", "w"], [[5 * S, 3, "c", 8.0]]),
    ]


def test_percentile_beside_other_aggregates_and_under_a_tag_filter() -> None:
    q = "SELECT percentile(v, 100), count(*), max(w) FROM m WHERE region = 'eu' GROUP BY host"
    assert run(q) == [
        ({"host": "a"}, ["time", "percentile", "count_v", "count_w", "max"], [[0, 9, 3, 2, 2.5]]),
        ({"host": "b"}, ["time", "percentile", "count_v", "count_w", "max"], [[0, 7, 2, 2, 4.0]]),
    ]


def test_percentile_per_time_bucket_of_one_host() -> None:
    q = "SELECT percentile(v, 50) FROM m WHERE host = 'a' AND time < 30s GROUP BY time(15s)"
    assert run(q) == [(None, ["time", "percentile"], [[0, 5], [15 * S, 1]])]
