"""Splitting a WHERE clause into its time range and the rest.

InfluxQL treats ``time`` comparisons specially: they bound which data is read at all,
so they must be ANDed at the top of the condition; the rest filters rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from crisp.query.errors import QueryError
from crisp.query.influxql import ast
from crisp.query.timefmt import parse_time

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


@dataclass(frozen=True)
class TimeBounds:
    """Half-open ``[start_ns, end_ns)``; None is unbounded."""

    start_ns: int | None = None
    end_ns: int | None = None

    def tighten(self, start_ns: int | None, end_ns: int | None) -> TimeBounds:
        start = self.start_ns
        if start_ns is not None:
            start = start_ns if start is None else max(start, start_ns)
        end = self.end_ns
        if end_ns is not None:
            end = end_ns if end is None else min(end, end_ns)
        return TimeBounds(start, end)


def is_time_ref(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.VarRef) and expr.name.lower() == "time"


def mentions_time(expr: ast.Expr) -> bool:
    if is_time_ref(expr):
        return True
    if isinstance(expr, ast.BinaryExpr):
        return mentions_time(expr.lhs) or mentions_time(expr.rhs)
    if isinstance(expr, ast.Call):
        return any(mentions_time(arg) for arg in expr.args)
    return False


def split_condition(
    condition: ast.Expr | None, now_ns: int, tz: ZoneInfo | None = None
) -> tuple[TimeBounds, ast.Expr | None]:
    """The time bounds ANDed into ``condition`` and what remains without them."""
    if condition is None:
        return TimeBounds(), None
    if isinstance(condition, ast.BinaryExpr) and condition.op == "AND":
        left_bounds, left = split_condition(condition.lhs, now_ns, tz)
        right_bounds, right = split_condition(condition.rhs, now_ns, tz)
        bounds = left_bounds.tighten(right_bounds.start_ns, right_bounds.end_ns)
        if left is None:
            return bounds, right
        if right is None:
            return bounds, left
        return bounds, ast.BinaryExpr("AND", left, right)
    if isinstance(condition, ast.BinaryExpr) and (
        is_time_ref(condition.lhs) or is_time_ref(condition.rhs)
    ):
        return _time_comparison(condition, now_ns, tz), None
    if mentions_time(condition):
        raise QueryError("invalid time condition: time comparisons must be ANDed, not ORed")
    return TimeBounds(), condition


def _time_comparison(expr: ast.BinaryExpr, now_ns: int, tz: ZoneInfo | None) -> TimeBounds:
    op, other = expr.op, expr.rhs
    if is_time_ref(expr.rhs):
        op, other = _FLIP.get(op, op), expr.lhs
    value = eval_time(other, now_ns, tz)
    if op == ">":
        return TimeBounds(value + 1, None)
    if op == ">=":
        return TimeBounds(value, None)
    if op == "<":
        return TimeBounds(None, value)
    if op == "<=":
        return TimeBounds(None, value + 1)
    if op == "=":
        return TimeBounds(value, value + 1)
    raise QueryError(f"invalid time comparison operator: {op}")


def eval_time(expr: ast.Expr, now_ns: int, tz: ZoneInfo | None = None) -> int:
    """Nanoseconds of a time expression: literals, ``now()``, durations and +/-."""
    if isinstance(expr, ast.IntegerLiteral):
        return expr.value
    if isinstance(expr, ast.NumberLiteral):
        return int(expr.value)
    if isinstance(expr, ast.DurationLiteral):
        return expr.ns
    if isinstance(expr, ast.StringLiteral):
        return parse_time(expr.value, tz)
    if isinstance(expr, ast.Call) and expr.name == "now" and not expr.args:
        return now_ns
    if isinstance(expr, ast.BinaryExpr) and expr.op in ("+", "-"):
        lhs = eval_time(expr.lhs, now_ns, tz)
        rhs = eval_time(expr.rhs, now_ns, tz)
        return lhs + rhs if expr.op == "+" else lhs - rhs
    raise QueryError("invalid time expression: use a time string, an epoch, or now() - 1h")
