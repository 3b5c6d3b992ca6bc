"""The services overview and service pages: per service (or per endpoint, host … of
one service) request count and rate, p95/p99 latency, error rate and a p95
sparkline, from a few GROUP BY queries over the latency measurement.

Requests and errors come from the request counter (CRISP_REQUEST_COUNTER: the sum of
its field, where one point may stand for many requests) when the database has it with
the grouping tags; otherwise from counting latency points, right when every request
writes one. Each row says which (``requests_source``).

Statements are built as typed AST and rendered by :func:`checked_render`, like explore's;
the measurement, field and tag names come from settings, the range from the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crisp.console.explore.querymodel import aggregate_call, checked_render
from crisp.console.explore.services import metrics_backend, options
from crisp.console.explore.timerange import TimePoint, auto_interval
from crisp.query.influxql import ast
from crisp.query.influxql.durations import SECOND

STATUS_TAG = "status"
ERROR_STATUS = "^5"
SPARKLINE_STEPS = (
    10 * SECOND, 30 * SECOND, 60 * SECOND, 120 * SECOND, 300 * SECOND, 600 * SECOND,
    1800 * SECOND, 3600 * SECOND, 3 * 3600 * SECOND, 6 * 3600 * SECOND,
    12 * 3600 * SECOND, 24 * 3600 * SECOND, 7 * 24 * 3600 * SECOND,
)  # fmt: skip
SPARKLINE_BUCKETS = 30
FROM_COUNTER = "counter"
FROM_LATENCY = "latency"


@dataclass
class GroupStats:
    """Stats of one value of the grouping tag: a service, an endpoint, a host."""

    name: str
    requests: int = 0
    rate_per_s: float = 0.0
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float | None = None
    sparkline: list[float | None] = field(default_factory=list)
    # FROM_COUNTER: requests and errors are sums of the request counter; FROM_LATENCY:
    # counts of latency points.
    requests_source: str = FROM_LATENCY


@dataclass(frozen=True)
class _Counter:
    measurement: str
    field: str
    has_status: bool


@dataclass
class ServiceDetail:
    """One service's totals and its stats broken down by each breakdown tag."""

    service: str
    summary: GroupStats | None
    breakdowns: dict[str, list[GroupStats]]


def _select(
    fields: list[tuple[ast.Expr, str]],
    condition: ast.Expr,
    dimensions: list[ast.Expr],
    measurement: str | None = None,
) -> str:
    statement = ast.SelectStatement(
        fields=tuple(ast.Field(expr, alias=alias) for expr, alias in fields),
        sources=(ast.Measurement(name=measurement or options().latency_measurement),),
        condition=condition,
        dimensions=tuple(ast.Dimension(d) for d in dimensions),
    )
    return checked_render(statement)


def _rows(database: str, text: str, by_tag: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(value of ``by_tag``, row as column → value) for every row of every series."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for result in metrics_backend().query(text, database):
        for series in result.get("series", []):
            name = str((series.get("tags") or {}).get(by_tag, "")) if by_tag else ""
            for row in series["values"]:
                rows.append((name, dict(zip(series["columns"], row, strict=False))))
    return rows


def group_stats(
    database: str,
    since: TimePoint,
    now_ns: int,
    by_tag: str | None,
    *,
    service: str | None = None,
) -> list[GroupStats]:
    """Stats per value of ``by_tag`` (one row named "" when None) with points since
    ``since``, of one service or all, sorted by name; a few GROUP BY queries in all."""
    opts = options()
    start_ns = since.resolve(now_ns)
    span_ns = max(now_ns - start_ns, SECOND)
    since_expr: ast.Expr
    if since.ago_ns is not None:
        since_expr = ast.BinaryExpr("-", ast.Call("now"), ast.DurationLiteral(since.ago_ns))
    else:
        since_expr = ast.IntegerLiteral(start_ns)
    condition: ast.Expr = ast.BinaryExpr(">=", ast.VarRef("time"), since_expr)
    if service is not None:
        of_service = ast.BinaryExpr(
            "=", ast.VarRef(opts.latency_service_tag, "tag"), ast.StringLiteral(service)
        )
        condition = ast.BinaryExpr("AND", condition, of_service)
    by: list[ast.Expr] = [ast.VarRef(by_tag)] if by_tag else []
    value = opts.latency_field

    stats: dict[str, GroupStats] = {}
    summary = _select(
        [
            (aggregate_call("count", value), "requests"),
            (aggregate_call("p95", value), "p95_ms"),
            (aggregate_call("p99", value), "p99_ms"),
        ],
        condition,
        by,
    )
    for name, row in _rows(database, summary, by_tag):
        requests = int(row.get("requests") or 0)
        if not requests:
            continue
        stats[name] = GroupStats(
            name=name,
            requests=requests,
            p95_ms=_float(row.get("p95_ms")),
            p99_ms=_float(row.get("p99_ms")),
        )

    is_error = ast.BinaryExpr("=~", ast.VarRef(STATUS_TAG, "tag"), ast.RegexLiteral(ERROR_STATUS))
    counter = _request_counter(database, by_tag, service is not None)
    if counter is not None:
        total = aggregate_call("sum", counter.field)
        text = _select([(total, "requests")], condition, by, counter.measurement)
        for name, row in _rows(database, text, by_tag):
            if row.get("requests") is None:
                continue
            one = stats.setdefault(name, GroupStats(name=name))
            one.requests = int(row["requests"])
            one.requests_source = FROM_COUNTER
            one.error_rate = 0.0 if counter.has_status and one.requests else None
        if counter.has_status:
            and_errors = ast.BinaryExpr("AND", condition, is_error)
            text = _select([(total, "errors")], and_errors, by, counter.measurement)
            for name, row in _rows(database, text, by_tag):
                found = stats.get(name)
                if found and found.requests_source == FROM_COUNTER and found.requests:
                    found.error_rate = int(row.get("errors") or 0) / found.requests
        # A counter that saw no requests, and no latency point either: nothing to show.
        stats = {k: v for k, v in stats.items() if v.requests or v.p95_ms is not None}
    if not stats:
        return []
    for one in stats.values():
        one.rate_per_s = one.requests / (span_ns / SECOND)

    from_points = [one for one in stats.values() if one.requests_source == FROM_LATENCY]
    if from_points and STATUS_TAG in metrics_backend().tag_keys(database, opts.latency_measurement):
        for one in from_points:
            one.error_rate = 0.0
        errors = _select(
            [(aggregate_call("count", value), "errors")],
            ast.BinaryExpr("AND", condition, is_error),
            by,
        )
        for name, row in _rows(database, errors, by_tag):
            if name in stats and stats[name].requests_source == FROM_LATENCY:
                stats[name].error_rate = int(row.get("errors") or 0) / stats[name].requests

    interval = auto_interval(span_ns, SPARKLINE_BUCKETS, SPARKLINE_STEPS)
    spark = _select(
        [(aggregate_call("p95", value), "p95_ms")],
        condition,
        [ast.Call("time", (ast.DurationLiteral(interval),)), *by],
    )
    for name, row in _rows(database, spark, by_tag):
        if name in stats:
            stats[name].sparkline.append(_float(row.get("p95_ms")))
    return [stats[name] for name in sorted(stats)]


def _request_counter(database: str, by_tag: str | None, of_service: bool) -> _Counter | None:
    """The request counter, if set and in ``database`` with the tags the query groups and
    filters by; None means: count latency points."""
    opts = options()
    if opts.request_counter is None:
        return None
    measurement, name = opts.request_counter
    backend = metrics_backend()
    if measurement not in backend.measurements(database):
        return None
    tags = set(backend.tag_keys(database, measurement))
    needed = {t for t in (by_tag, opts.latency_service_tag if of_service else None) if t}
    if not needed <= tags:
        return None
    return _Counter(measurement, name, STATUS_TAG in tags)


def services_overview(database: str, since: TimePoint, now_ns: int) -> list[GroupStats]:
    """Stats of every service with points since ``since``, sorted by name."""
    return group_stats(database, since, now_ns, options().latency_service_tag)


def service_detail(database: str, service: str, since: TimePoint, now_ns: int) -> ServiceDetail:
    """One service's totals, and its stats by each of CRISP_LATENCY_BREAKDOWN_TAGS."""
    totals = group_stats(database, since, now_ns, None, service=service)
    breakdowns = {
        tag: group_stats(database, since, now_ns, tag, service=service)
        for tag in options().breakdown_tags
    }
    return ServiceDetail(service, totals[0] if totals else None, breakdowns)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
