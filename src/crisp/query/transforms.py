"""Transformations over one series' ordered (time, value) points, and GROUP BY fill.

Nulls are skipped by every transformation, as InfluxDB does: a derivative spans the gap
to the previous non-null value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from crisp.query.errors import QueryError
from crisp.query.influxql import ast

Point = tuple[int, Any]


@dataclass(frozen=True)
class Transform:
    name: str
    unit_ns: int = 1_000_000_000  # derivative, elapsed
    window: int = 0  # moving_average


# Over GROUP BY time(), these read one bucket before the range so that its first bucket
# has a predecessor (InfluxDB widens the range by one interval, then trims).
LOOK_BACK = frozenset(
    {
        "derivative",
        "non_negative_derivative",
        "difference",
        "non_negative_difference",
        "moving_average",
        "elapsed",
    }
)


def apply_transform(
    transform: Transform, points: Sequence[Point], descending: bool = False
) -> list[Point]:
    """``points`` in the query's order: with ORDER BY time DESC InfluxDB runs every
    transformation over the descending sequence (a derivative's elapsed time stays
    positive, elapsed() comes out negative)."""
    values = [(t, v) for t, v in points if v is not None]
    name = transform.name
    if name in ("derivative", "non_negative_derivative"):
        sign = -1 if descending else 1
        out = [
            (t2, (v2 - v1) / (sign * (t2 - t1) / transform.unit_ns))
            for (t1, v1), (t2, v2) in pairwise(values)
            if t2 != t1
        ]
        return _non_negative(out) if name.startswith("non_negative") else out
    if name in ("difference", "non_negative_difference"):
        out = [(t2, v2 - v1) for (_, v1), (t2, v2) in pairwise(values)]
        return _non_negative(out) if name.startswith("non_negative") else out
    if name == "elapsed":
        return [(t2, (t2 - t1) // transform.unit_ns) for (t1, _), (t2, _) in pairwise(values)]
    if name == "cumulative_sum":
        total: Any = 0
        out = []
        for t, v in values:
            total += v
            out.append((t, total))
        return out
    if name == "moving_average":
        n = transform.window
        return [
            (values[i][0], sum(v for _, v in values[i - n + 1 : i + 1]) / n)
            for i in range(n - 1, len(values))
        ]
    raise QueryError(f"undefined function {name}()")


def _non_negative(points: list[Point]) -> list[Point]:
    return [(t, v) for t, v in points if v >= 0]


def parse_transform(call: ast.Call, interval_ns: int) -> Transform:
    """Validate a transformation's extra arguments (the first is its input)."""
    name, extra = call.name, call.args[1:]
    if name in ("derivative", "non_negative_derivative", "elapsed"):
        if len(extra) > 1:
            raise QueryError(f"invalid number of arguments for {name}, expected at most 2")
        # The derivative's default unit is the GROUP BY interval when there is one.
        default = 1 if name == "elapsed" else (interval_ns or 1_000_000_000)
        unit = _duration_arg(name, extra[0]) if extra else default
        return Transform(name, unit_ns=unit)
    if name == "moving_average":
        if len(extra) != 1 or not isinstance(extra[0], ast.IntegerLiteral):
            raise QueryError("moving_average window must be an integer")
        if extra[0].value < 2:
            raise QueryError("moving_average window must be greater than 1")
        return Transform(name, window=extra[0].value)
    if extra:
        raise QueryError(f"invalid number of arguments for {name}, expected 1")
    return Transform(name)


def _duration_arg(name: str, arg: ast.Expr) -> int:
    if not isinstance(arg, ast.DurationLiteral) or arg.ns <= 0:
        raise QueryError(f"second argument to {name} must be a positive duration")
    return arg.ns


def fill_column(values: list[Any], option: ast.FillOption, fill_value: Any) -> list[Any]:
    """Fill the Nones of one column over consecutive buckets (fill(none) is handled by
    dropping buckets, so it never gets here)."""
    if option is ast.FillOption.NUMBER:
        return [fill_value if v is None else v for v in values]
    if option is ast.FillOption.PREVIOUS:
        out: list[Any] = []
        previous = None
        for v in values:
            previous = v if v is not None else previous
            out.append(previous)
        return out
    if option is ast.FillOption.LINEAR:
        return _linear(values)
    return list(values)


def _linear(values: list[Any]) -> list[Any]:
    out = list(values)
    known = [i for i, v in enumerate(values) if v is not None]
    for left, right in pairwise(known):
        step = (values[right] - values[left]) / (right - left)
        for i in range(left + 1, right):
            value = values[left] + step * (i - left)
            both_int = isinstance(values[left], int) and isinstance(values[right], int)
            out[i] = int(value) if both_int else value
    return out
