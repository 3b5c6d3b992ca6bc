"""The explore query model and its translation to InfluxQL.

User input never becomes text here: the model is turned into the typed AST of
:mod:`crisp.query.influxql.ast` and rendered by :mod:`crisp.query.influxql.render`,
where identifiers, strings and regexes are quoted in one audited place. As a last
line of defence the rendered text is parsed back and must give the same tree, so no
input can change the statement's shape.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from crisp.console.explore.timerange import (
    MAX_BUCKETS,
    MAX_RANGE_NS,
    TimePoint,
    auto_interval,
)
from crisp.query.influxql import ParseError, ast, parse_statement
from crisp.query.influxql.durations import SECOND
from crisp.query.influxql.render import render_statement

AGGREGATES = ("mean", "sum", "count", "min", "max", "p50", "p90", "p95", "p99", "rate")
FILTER_OPS = ("=", "!=", "=~", "!~")
MAX_NAME_LENGTH = 256
MAX_VALUE_LENGTH = 1024


class QueryModelError(ValueError):
    """The model cannot be turned into a query; the message says which input and why."""


@dataclass(frozen=True)
class TagFilter:
    tag: str
    op: str
    value: str


@dataclass(frozen=True)
class ExploreQuery:
    database: str
    measurement: str
    field: str
    aggregate: str = "mean"
    filters: tuple[TagFilter, ...] = ()
    group_by: tuple[str, ...] = ()
    start: TimePoint = dataclasses.field(default_factory=lambda: TimePoint(ago_ns=3600 * SECOND))
    end: TimePoint = dataclasses.field(default_factory=lambda: TimePoint(ago_ns=0))
    interval_ns: int | None = None  # None: automatic


@dataclass(frozen=True)
class Translation:
    statement: ast.SelectStatement
    text: str
    interval_ns: int


def check_name(kind: str, name: str) -> str:
    if not name or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        raise QueryModelError(f"invalid {kind} name: 1 to {MAX_NAME_LENGTH} characters, no NUL")
    return name


def _time_bound(op: str, point: TimePoint) -> ast.Expr:
    time = ast.VarRef("time")
    if point.ago_ns is not None:
        now = ast.Call("now")
        rhs: ast.Expr = (
            ast.BinaryExpr("-", now, ast.DurationLiteral(point.ago_ns)) if point.ago_ns else now
        )
    else:
        rhs = ast.IntegerLiteral(int(point.at_ns or 0))
    return ast.BinaryExpr(op, time, rhs)


def _filter_expr(f: TagFilter) -> ast.Expr:
    check_name("tag", f.tag)
    if f.op not in FILTER_OPS:
        raise QueryModelError(f"invalid filter operator {f.op!r}: use one of {FILTER_OPS}")
    if len(f.value) > MAX_VALUE_LENGTH or "\x00" in f.value:
        raise QueryModelError(f"filter value on {f.tag!r} is too long or holds NUL")
    if f.op in ("=~", "!~"):
        try:
            re.compile(f.value)
        except re.error as error:
            raise QueryModelError(f"invalid regex for {f.tag!r}: {error}") from None
        value: ast.Expr = ast.RegexLiteral(f.value)
    else:
        value = ast.StringLiteral(f.value)
    return ast.BinaryExpr(f.op, ast.VarRef(f.tag, "tag"), value)


def _and(terms: list[ast.Expr]) -> ast.Expr:
    condition = terms[0]
    for term in terms[1:]:
        condition = ast.BinaryExpr("AND", condition, term)
    return condition


def aggregate_call(aggregate: str, field_name: str) -> ast.Call:
    value = ast.VarRef(check_name("field", field_name))
    if aggregate in ("mean", "sum", "count", "min", "max"):
        return ast.Call(aggregate, (value,))
    if aggregate in ("p50", "p90", "p95", "p99"):
        return ast.Call("percentile", (value, ast.IntegerLiteral(int(aggregate[1:]))))
    if aggregate == "rate":
        # Per-second rate of a counter: the largest value per bucket, differentiated,
        # resets (negative steps) dropped, as dashboards over InfluxDB 1.x do it.
        return ast.Call(
            "non_negative_derivative",
            (ast.Call("max", (value,)), ast.DurationLiteral(SECOND)),
        )
    raise QueryModelError(f"invalid aggregate {aggregate!r}: use one of {', '.join(AGGREGATES)}")


def translate(query: ExploreQuery, now_ns: int) -> Translation:
    """The SELECT for ``query``; raises QueryModelError naming the bad input."""
    check_name("measurement", query.measurement)
    start_ns, end_ns = query.start.resolve(now_ns), query.end.resolve(now_ns)
    span = end_ns - start_ns
    if span <= 0:
        raise QueryModelError("the time range is empty: start must be before end")
    if span > MAX_RANGE_NS:
        raise QueryModelError("the time range is longer than 400 days")
    interval = query.interval_ns or auto_interval(span)
    if span // interval > MAX_BUCKETS:
        raise QueryModelError(
            f"interval too small for the range: more than {MAX_BUCKETS} points per series"
        )
    terms = [_time_bound(">=", query.start), _time_bound("<", query.end)]
    terms += [_filter_expr(f) for f in query.filters]
    dimensions = [ast.Dimension(ast.Call("time", (ast.DurationLiteral(interval),)))]
    dimensions += [ast.Dimension(ast.VarRef(check_name("tag", tag))) for tag in query.group_by]
    statement = ast.SelectStatement(
        fields=(ast.Field(aggregate_call(query.aggregate, query.field), alias=query.aggregate),),
        sources=(ast.Measurement(name=query.measurement),),
        condition=_and(terms),
        dimensions=tuple(dimensions),
    )
    return Translation(statement, checked_render(statement), interval)


def checked_render(statement: ast.Statement) -> str:
    """Rendered text that provably parses back to ``statement``."""
    text = render_statement(statement)
    try:
        same = parse_statement(text) == statement
    except (ValueError, ParseError):
        same = False
    if not same:
        # Only a renderer bug or an input the grammar cannot express gets here.
        raise QueryModelError("the query cannot be expressed safely in InfluxQL")
    return text
