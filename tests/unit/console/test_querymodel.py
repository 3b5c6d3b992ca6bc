"""The explore model → InfluxQL: every input is quoted by the renderer, none can
change the statement's shape (injection attempts through every input)."""

from __future__ import annotations

import pytest

from crisp.console.explore.querymodel import (
    AGGREGATES,
    ExploreQuery,
    QueryModelError,
    TagFilter,
    translate,
)
from crisp.console.explore.timerange import (
    TimePoint,
    auto_interval,
    parse_interval,
    parse_time_point,
)
from crisp.query.influxql import ast, parse_query
from crisp.query.influxql.durations import DAY, HOUR, MINUTE, SECOND
from crisp.query.timefmt import parse_time
from tests.unit.query.memory_storage import MemoryStorage

NOW = 1_700_000_000 * SECOND
BASE = ExploreQuery(database="db", measurement="m", field="f")

NASTY = [
    "x' OR 1=1 --",
    'x" OR 1=1 --',
    "x'; DROP DATABASE db; SELECT '",
    '"; DROP DATABASE db; --',
    "back\\slash\\",
    "new\nline",
    "/regex/",
    "a\\'b",
    "SELECT",
    "time",
    "ünïcødé ✓",
    "*",
]


def replaced(**changes: object) -> ExploreQuery:
    from dataclasses import replace

    return replace(BASE, **changes)  # type: ignore[arg-type]


def injection_cases() -> list[tuple[str, ExploreQuery]]:
    cases: list[tuple[str, ExploreQuery]] = []
    for text in NASTY:
        cases += [
            ("measurement", replaced(measurement=text)),
            ("field", replaced(field=text)),
            ("tag value =", replaced(filters=(TagFilter("host", "=", text),))),
            ("tag value !=", replaced(filters=(TagFilter("host", "!=", text),))),
            ("tag key", replaced(filters=(TagFilter(text, "=", "v"),))),
            ("group by", replaced(group_by=(text,))),
        ]
    for pattern in ["a/b", "a\\/b", "^x$/ OR 1=1", ".*' OR '1'='1", "\\\\/"]:
        cases += [
            ("regex =~", replaced(filters=(TagFilter("host", "=~", pattern),))),
            ("regex !~", replaced(filters=(TagFilter("host", "!~", pattern),))),
        ]
    return cases


@pytest.mark.parametrize(("where", "query"), injection_cases())
def test_injection_cannot_change_the_statement(where: str, query: ExploreQuery) -> None:
    translation = translate(query, NOW)
    parsed = parse_query(translation.text)
    # One statement, and exactly the tree the model built: user text stayed data.
    assert parsed.statements == (translation.statement,)
    statement = translation.statement
    assert statement.sources == (ast.Measurement(name=query.measurement),)
    call = statement.fields[0].expr
    assert isinstance(call, ast.Call)
    assert call.args[0] == ast.VarRef(query.field)


@pytest.mark.parametrize("where", ["tag value", "regex"])
def test_injected_text_reaches_storage_as_a_value(where: str) -> None:
    from crisp.console.explore.backend import InProcessBackend

    storage = MemoryStorage()
    storage.create_database("db")
    op, value = ("=", "x' OR 1=1 --") if where == "tag value" else ("=~", "x/ OR 1=1")
    query = replaced(filters=(TagFilter("host", op, value),))
    # Runs, as one statement, and finds nothing: there is no such host.
    results = InProcessBackend(storage).query(translate(query, NOW).text, "db")
    assert len(results) == 1
    assert "series" not in results[0]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (replaced(measurement=""), "measurement name"),
        (replaced(field="x" * 300), "field name"),
        (replaced(measurement="a\x00b"), "measurement name"),
        (replaced(aggregate="median"), "invalid aggregate"),
        (replaced(filters=(TagFilter("h", "LIKE", "x"),)), "operator"),
        (replaced(filters=(TagFilter("h", "=~", "("),)), "invalid regex"),
        (replaced(filters=(TagFilter("h", "=", "v" * 2000),)), "too long"),
        (replaced(start=TimePoint(ago_ns=0), end=TimePoint(ago_ns=HOUR)), "empty"),
        (replaced(start=TimePoint(ago_ns=500 * DAY)), "400 days"),
        (replaced(start=TimePoint(ago_ns=30 * DAY), interval_ns=SECOND), "interval too small"),
    ],
)
def test_invalid_models_are_refused(query: ExploreQuery, message: str) -> None:
    with pytest.raises(QueryModelError, match=message):
        translate(query, NOW)


@pytest.mark.parametrize("aggregate", AGGREGATES)
def test_every_aggregate_translates(aggregate: str) -> None:
    text = translate(replaced(aggregate=aggregate), NOW).text
    expected = {
        "p95": "percentile(f, 95)",
        "rate": "non_negative_derivative(max(f), 1s)",
        "mean": "mean(f)",
    }.get(aggregate, "")
    assert expected in text
    assert f"AS {aggregate}" in text


def test_full_translation() -> None:
    query = replaced(
        aggregate="p99",
        filters=(TagFilter("service", "=", "checkout"), TagFilter("host", "=~", "^web")),
        group_by=("endpoint",),
        start=TimePoint(ago_ns=6 * HOUR),
    )
    assert translate(query, NOW).text == (
        "SELECT percentile(f, 99) AS p99 FROM m WHERE (((time >= (now() - 6h)) "
        "AND (time < now())) AND (service::tag = 'checkout')) AND (host::tag =~ /^web/) "
        "GROUP BY time(5m), endpoint"
    )


def test_absolute_range_becomes_epoch_literals() -> None:
    start = parse_time_point("2024-01-01T00:00:00Z")
    end = parse_time_point("2024-01-01T01:00:00Z")
    translation = translate(replaced(start=start, end=end), NOW)
    assert f"time >= {parse_time('2024-01-01T00:00:00Z')}" in translation.text
    assert translation.interval_ns == 30 * SECOND


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", TimePoint(ago_ns=0)),
        ("-15m", TimePoint(ago_ns=15 * MINUTE)),
        ("-1h", TimePoint(ago_ns=HOUR)),
        ("-7d", TimePoint(ago_ns=7 * DAY)),
        ("-1h30m", TimePoint(ago_ns=90 * MINUTE)),
    ],
)
def test_parse_time_point(text: str, expected: TimePoint) -> None:
    assert parse_time_point(text) == expected


@pytest.mark.parametrize("text", ["", "1h", "-1y", "yesterday", "now()", "-1h; DROP"])
def test_parse_time_point_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid time"):
        parse_time_point(text)


@pytest.mark.parametrize(
    ("span", "step"),
    [
        (15 * MINUTE, 10 * SECOND),
        (30 * MINUTE, 15 * SECOND),  # services reporting every 15 s fill every bucket
        (HOUR, 30 * SECOND),
        (DAY, 15 * MINUTE),
        (30 * DAY, 6 * HOUR),
    ],
)
def test_auto_interval_aims_at_about_120_points(span: int, step: int) -> None:
    assert auto_interval(span) == step
    assert span // step <= 120


def test_parse_interval() -> None:
    assert parse_interval("1m") == MINUTE
    with pytest.raises(ValueError, match="at least 1s"):
        parse_interval("10ms")
    with pytest.raises(ValueError, match="invalid interval"):
        parse_interval("soon")


@pytest.mark.parametrize("pattern", ["a\nb", "a\\\nb"])
def test_a_regex_the_grammar_cannot_hold_is_a_clear_error(pattern: str) -> None:
    # A newline cannot be in an InfluxQL regex literal: refused, never a crash.
    with pytest.raises(QueryModelError, match="cannot be expressed safely"):
        translate(replaced(filters=(TagFilter("host", "=~", pattern),)), NOW)
