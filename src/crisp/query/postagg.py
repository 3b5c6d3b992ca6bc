"""Aggregates DuckDB collects and Python finishes: distinct, top, bottom, sample,
integral, mode.

DuckDB gathers each group's values (with their times) into a list; the InfluxQL rules
that are awkward in SQL (tie-breaks by time, several output rows per group, the
trapezoid rule) are applied here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from random import SystemRandom
from typing import Any

from crisp.query.columns import NUMERIC, Columns
from crisp.query.errors import QueryError
from crisp.query.influxql import ast
from crisp.query.sql import quote_ident

POST_AGGREGATES = frozenset({"distinct", "top", "bottom", "sample", "integral", "mode"})
MULTI_ROW = frozenset({"distinct", "top", "bottom", "sample"})
_SECOND = 1_000_000_000


@dataclass(frozen=True)
class PostAggregate:
    name: str
    n: int = 0  # top/bottom/sample
    unit_ns: int = _SECOND  # integral


def post_aggregate(call: ast.Call, columns: Columns) -> tuple[PostAggregate, str, bool]:
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
        return post, f"list_sort(list(DISTINCT {col}) {not_null})", True
    if name == "mode":
        return post, f"list({col}) {not_null}", True
    order = f" ORDER BY {time}" if name == "integral" else ""
    return post, f"list({{'t': {time}, 'v': {col}}}{order}) {not_null}", True


def _parse_args(call: ast.Call) -> PostAggregate:
    name, extra = call.name, call.args[1:]
    if name in ("distinct", "mode"):
        if extra:
            raise QueryError(f"{name} function requires exactly one argument")
        return PostAggregate(name)
    if name in ("top", "bottom", "sample"):
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
    if post.name == "sample":
        # Random like InfluxDB's reservoir sample; not for security, any source would do.
        chosen = SystemRandom().sample(cell, min(post.n, len(cell)))
        return [(p["t"], p["v"]) for p in sorted(chosen, key=lambda p: p["t"])]
    sign = -1 if post.name == "top" else 1
    # Largest (smallest) first; on equal values the earlier point wins, as in InfluxDB.
    chosen = sorted(cell, key=lambda p: (sign * p["v"], p["t"]))[: post.n]
    return [(p["t"], p["v"]) for p in sorted(chosen, key=lambda p: p["t"])]
