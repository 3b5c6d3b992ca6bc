"""Aggregates DuckDB collects and Python finishes: distinct, sample, integral, mode
(top and bottom have their own module, ``crisp.query.topbottom``).

DuckDB gathers each group's values (with their times) into a list; the InfluxQL rules
that are awkward in SQL (tie-breaks by time, several output rows per group, the
trapezoid rule) are applied here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from itertools import pairwise
from random import SystemRandom
from typing import Any

from crisp.query.columns import NUMERIC, Columns
from crisp.query.errors import QueryError
from crisp.query.influxql import ast
from crisp.query.sql import quote_ident

POST_AGGREGATES = frozenset({"distinct", "sample", "integral", "mode"})
MULTI_ROW = frozenset({"distinct", "sample"})
_SECOND = 1_000_000_000


@dataclass(frozen=True)
class PostAggregate:
    name: str
    n: int = 0  # sample
    column: str = ""  # distinct: the SQL of the field whose values it lists
    unit_ns: int = _SECOND  # integral


def post_aggregate(
    call: ast.Call, columns: Columns, descending: bool = False
) -> tuple[PostAggregate, str, bool]:
    """(how to finish, SQL collecting the group's values, whether the field exists)."""
    name = call.name
    if not call.args or not isinstance(call.args[0], ast.VarRef):
        raise QueryError(f"expected field argument in {name}()")
    ref = call.args[0]
    field_type = columns.fields.get(ref.name) if columns.kind(ref) == "field" else None
    post = _parse_args(call)
    if field_type is None:
        return post, "NULL", False
    if name not in ("distinct", "mode") and field_type not in NUMERIC:
        raise QueryError(f"unsupported {name} iterator type: {field_type.value}")
    col, time = quote_ident(ref.name), quote_ident("time")
    not_null = f"FILTER (WHERE {col} IS NOT NULL)"
    if name == "distinct":
        # The planner keeps only each value's first point in the query's time order (see
        # ``first_point_per``): InfluxDB lists the values by the time of that point, then
        # by value. Descending queries list them backwards; the caller reverses rows.
        order = f"{time} DESC, {col} DESC" if descending else f"{time}, {col}"
        return replace(post, column=col), f"list({col} ORDER BY {order}) {not_null}", True
    if name == "mode":
        return post, f"list({col}) {not_null}", True
    # integral: points in InfluxDB's arrival order, by time then series.
    tags = "".join(f", coalesce({quote_ident(t)}, '')" for t in columns.tags)
    order = f" ORDER BY {time}{tags}" if name == "integral" else ""
    return post, f"list({{'t': {time}, 'v': {col}}}{order}) {not_null}", True


def _parse_args(call: ast.Call) -> PostAggregate:
    name, extra = call.name, call.args[1:]
    if name in ("distinct", "mode"):
        if extra:
            raise QueryError(f"{name} function requires exactly one argument")
        return PostAggregate(name)
    if name == "sample":
        if len(extra) != 1:
            raise QueryError(f"{name}() with tag arguments is not supported yet")
        limit = extra[0]
        if not isinstance(limit, ast.IntegerLiteral) or limit.value <= 0:
            raise QueryError(f"limit ({name}) must be a positive integer")
        return PostAggregate(name, n=limit.value)
    if len(extra) > 1:
        raise QueryError("invalid number of arguments for integral, expected at most 2")
    if extra:
        unit = extra[0]
        if not isinstance(unit, ast.DurationLiteral) or unit.ns <= 0:
            raise QueryError("second argument to integral must be a positive duration")
        return PostAggregate(name, unit_ns=unit.ns)
    return PostAggregate(name)


def finish_scalar(post: PostAggregate, cell: Any) -> Any:
    """mode: the most frequent value, the smallest on ties (InfluxDB sorts, then counts);
    integral: the area under the group's points by the trapezoid rule, per unit."""
    if cell is None:
        return None
    if post.name == "mode":
        counts = Counter(cell)
        return min(counts, key=lambda value: (-counts[value], value)) if counts else None
    points = [(p["t"], p["v"]) for p in cell]
    area = sum((t2 - t1) * (v1 + v2) / 2 for (t1, v1), (t2, v2) in pairwise(points))
    return area / post.unit_ns


def finish_rows(post: PostAggregate, cell: Any) -> list[tuple[int | None, Any]]:
    """Rows (point time or None for "the group's time", value) of a multi-row function."""
    if cell is None:
        return []
    if post.name == "distinct":
        return [(None, value) for value in cell]
    # sample: random like InfluxDB's reservoir sample; not for security, any source would do.
    chosen = SystemRandom().sample(cell, min(post.n, len(cell)))
    return [(p["t"], p["v"]) for p in sorted(chosen, key=lambda p: p["t"])]


def integrate_windows(
    cells: list[tuple[int, Any]], interval_ns: int, offset_ns: int, unit_ns: int
) -> dict[int, float]:
    """integral() per GROUP BY time() bucket of one series, as InfluxDB 1.x computes it:
    one running trapezoid sum over all the series' points, cut at each bucket's end by
    linear interpolation to the next point, so no area falls between buckets (a jump
    over empty buckets is counted in the bucket of the point after it).

    ``cells``: (bucket start, that bucket's points as {'t', 'v'} by time) ascending.
    """
    sums: dict[int, float] = {}
    prev: tuple[int, float] | None = None
    start = end = 0
    total = 0.0
    for _, points in cells:
        for point in points or ():
            t, v = point["t"], point["v"]
            if prev is None:
                prev = (t, v)
                start = t - (t - offset_ns) % interval_ns
                end = start + interval_ns
                continue
            if t == prev[0]:
                prev = (t, v)  # several series at one time: the last one carries on
                continue
            if t >= end:
                if prev[0] != end:
                    at_end = prev[1] + (v - prev[1]) * (end - prev[0]) / (t - prev[0])
                    total += 0.5 * (at_end + prev[1]) * (end - prev[0]) / unit_ns
                    prev = (end, at_end)
                sums[start] = total
                start = t - (t - offset_ns) % interval_ns
                end = start + interval_ns
                total = 0.0
            total += 0.5 * (v + prev[1]) * (t - prev[0]) / unit_ns
            prev = (t, v)
    if prev is not None:
        sums[start] = total
    return sums
