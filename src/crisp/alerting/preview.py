"""Where a rule would have fired over the last hours: the rule editor's preview.

The rule's query is rewritten (as a typed tree, never as text) to cover ``range``
bucketed by ``step`` (its own time bounds replaced, its tags kept); then
:func:`crisp.alerting.evaluation.evaluate` is replayed over the buckets in order, so
the preview applies the rule's real state machine (``for``, ``keep_firing_for``, no
data) rather than a bare threshold comparison. Each bucket's value stands for what an
evaluation at that time would have seen, an approximation when the rule's own window
differs from ``step``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from crisp.alerting.evaluation import InstanceKey, InstanceState, State, evaluate, instance_key
from crisp.alerting.rules import Rule
from crisp.query.influxql import ast
from crisp.query.influxql.parser import parse_statement
from crisp.query.influxql.render import render_statement
from crisp.query.results import StatementResult

MAX_POINTS = 500
_ACTIVE = frozenset({State.PENDING, State.FIRING})


def preview_step(rule: Rule, range_ns: int) -> int:
    """The rule's interval, widened so one series has at most MAX_POINTS buckets."""
    return max(rule.interval_ns, -(-range_ns // MAX_POINTS))


def preview_query(rule: Rule, range_ns: int, step_ns: int) -> str:
    """The rule's SELECT over the last ``range_ns``, one row per ``step_ns`` per series."""
    if rule.query is None:
        raise ValueError("the rule has no query")
    statement = parse_statement(rule.query)
    if not isinstance(statement, ast.SelectStatement):
        raise ValueError("the rule's query is not a SELECT")
    bound = ast.BinaryExpr(
        ">", ast.VarRef("time"), ast.BinaryExpr("-", ast.Call("now"), ast.DurationLiteral(range_ns))
    )
    kept = _without_time(statement.condition)
    condition = bound if kept is None else ast.BinaryExpr("AND", kept, bound)
    tags = tuple(
        d
        for d in statement.dimensions
        if not (isinstance(d.expr, ast.Call) and d.expr.name == "time")
    )
    bucket = ast.Dimension(ast.Call("time", (ast.DurationLiteral(step_ns),)))
    preview = replace(
        statement,
        condition=condition,
        dimensions=(bucket, *tags),
        fill=ast.FillOption.NONE,
        limit=0,
        slimit=0,
    )
    return render_statement(preview)


def _mentions_time(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.VarRef):
        return expr.name == "time"
    if isinstance(expr, ast.BinaryExpr):
        return _mentions_time(expr.lhs) or _mentions_time(expr.rhs)
    if isinstance(expr, ast.Call):
        return any(_mentions_time(a) for a in expr.args)
    return False


def _without_time(expr: ast.Expr | None) -> ast.Expr | None:
    """The condition minus its time bounds (terms of a top-level AND chain)."""
    if expr is None:
        return None
    if isinstance(expr, ast.BinaryExpr) and expr.op.upper() == "AND":
        lhs, rhs = _without_time(expr.lhs), _without_time(expr.rhs)
        if lhs is None or rhs is None:
            return lhs or rhs
        return ast.BinaryExpr("AND", lhs, rhs)
    return None if _mentions_time(expr) else expr


@dataclass(frozen=True)
class PreviewSeries:
    tags: Mapping[str, str]
    points: list[tuple[int, float | None]]
    states: list[tuple[int, str]]
    """The replayed state after each bucket."""
    firing: list[tuple[int, int]]
    """[start, end) of every firing period (end = last bucket + step when still firing)."""


def replay(rule: Rule, result: StatementResult, step_ns: int) -> list[PreviewSeries]:
    """Evaluate ``rule`` at every bucket of ``result`` (its preview query's answer)."""
    per_time: dict[int, list[dict[str, Any]]] = {}
    points: dict[InstanceKey, list[tuple[int, float | None]]] = {}
    tags_of: dict[InstanceKey, Mapping[str, str]] = {}
    for series in result.get("series", []):
        tags = dict(series.get("tags") or {})
        key = instance_key(tags)
        tags_of[key] = tags
        for row in series["values"]:
            t, value = int(row[0]), row[1] if len(row) > 1 else None
            points.setdefault(key, []).append((t, value))
            per_time.setdefault(t, []).append(
                {"name": series.get("name", ""), "tags": tags, "columns": ["time", "value"],
                 "values": [[t, value]]}
            )  # fmt: skip
    states: dict[InstanceKey, InstanceState] = {}
    history: dict[InstanceKey, list[tuple[int, str]]] = {k: [] for k in points}
    for t in sorted(per_time):
        answer: StatementResult = {"statement_id": 0, "series": per_time[t]}  # type: ignore[typeddict-item]
        states = evaluate(rule, answer, states, t + step_ns).states
        for key in history:
            state = states.get(key)
            history[key].append((t, state.state.value if state else State.NORMAL.value))
    return [
        PreviewSeries(tags_of[k], points[k], history[k], _firing_periods(history[k], step_ns))
        for k in sorted(points)
    ]


def _firing_periods(states: list[tuple[int, str]], step_ns: int) -> list[tuple[int, int]]:
    periods: list[tuple[int, int]] = []
    start: int | None = None
    for t, state in states:
        if state == State.FIRING.value and start is None:
            start = t
        elif state != State.FIRING.value and start is not None:
            periods.append((start, t))
            start = None
    if start is not None:
        periods.append((start, states[-1][0] + step_ns))
    return periods
