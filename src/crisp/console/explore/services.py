"""What the explore views ask storage, through the configured metrics backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings

from crisp.console.conf import ConsoleOptions
from crisp.console.explore.backend import MetricsBackend
from crisp.console.explore.drilldown import next_group_by
from crisp.console.explore.querymodel import ExploreQuery, checked_render, translate
from crisp.console.explore.timerange import TimePoint
from crisp.query.influxql import ast
from crisp.query.results import Series
from crisp.query.timefmt import format_rfc3339


def options() -> ConsoleOptions:
    return settings.CRISP


def metrics_backend() -> MetricsBackend:
    return cast(MetricsBackend, options().metrics_backend())


@dataclass(frozen=True)
class QueryAnswer:
    query: str
    interval_ns: int
    series: list[Series]
    # What to group by after drilling into one of the series (explore.drilldown).
    next_group_by: tuple[str, ...] = ()


def drill_order() -> tuple[str, ...]:
    opts = options()
    return (opts.latency_service_tag, *opts.breakdown_tags)


def with_rfc3339_times(series: list[Series]) -> list[Series]:
    """Backends give epoch ns; the API speaks RFC3339, as people and JS Date read it."""
    # Grouped series share their bucket times: each distinct time is formatted once
    # (100 series × 1,000 buckets: 0.8 s of formatting becomes 0.01 s).
    formatted: dict[int, str] = {}

    def rfc3339(ns: int) -> str:
        text = formatted.get(ns)
        if text is None:
            text = formatted[ns] = format_rfc3339(ns)
        return text

    shaped: list[Series] = []
    for one in series:
        if one["columns"][:1] == ["time"]:
            values = [[rfc3339(int(row[0])), *row[1:]] for row in one["values"]]
            one = {**one, "values": values}
        shaped.append(one)
    return shaped


def run_explore_query(query: ExploreQuery, now_ns: int) -> QueryAnswer:
    translation = translate(query, now_ns)
    results = metrics_backend().query(translation.text, query.database)
    series = [s for result in results for s in result.get("series", [])]
    following: tuple[str, ...] = ()
    if query.group_by and series:
        available = metrics_backend().tag_keys(query.database, query.measurement)
        following = next_group_by(query, available, drill_order())
    return QueryAnswer(
        translation.text, translation.interval_ns, with_rfc3339_times(series), following
    )


@dataclass(frozen=True)
class Latency:
    service: str
    percentile: float
    value_ms: float
    time: str


def service_latency(
    database: str, service: str, percentile: float, since: TimePoint
) -> Latency | None:
    """The ``percentile`` (0-1) of the latency field for ``service`` since ``since``."""
    opts = options()
    condition = ast.BinaryExpr(
        "AND",
        ast.BinaryExpr(
            "=", ast.VarRef(opts.latency_service_tag, "tag"), ast.StringLiteral(service)
        ),
        ast.BinaryExpr(">=", ast.VarRef("time"), _since_expr(since)),
    )
    statement = ast.SelectStatement(
        fields=(
            ast.Field(
                ast.Call(
                    "percentile",
                    (ast.VarRef(opts.latency_field), ast.NumberLiteral(percentile * 100)),
                ),
                alias="value_ms",
            ),
        ),
        sources=(ast.Measurement(name=opts.latency_measurement),),
        condition=condition,
    )
    results = metrics_backend().query(checked_render(statement), database)
    for result in results:
        for series in result.get("series", []):
            for row in series["values"]:
                if row[1] is not None:
                    return Latency(service, percentile, float(row[1]), format_rfc3339(int(row[0])))
    return None


def _since_expr(since: TimePoint) -> ast.Expr:
    if since.ago_ns is not None:
        return ast.BinaryExpr("-", ast.Call("now"), ast.DurationLiteral(since.ago_ns))
    return ast.IntegerLiteral(int(since.at_ns or 0))


def as_dict(answer: Any) -> dict[str, Any]:
    return dict(answer.__dict__)
