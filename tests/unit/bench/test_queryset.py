"""Query sets: parsing, errors that name the query, time placeholders, the built-in set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crisp.bench.queryset import (
    BenchQuery,
    PromQuery,
    bind,
    builtin_query_set,
    expand,
    parse_query_set,
    syntax_of,
)
from crisp.bench.timespec import parse_rfc3339_ns

START = parse_rfc3339_ns("2016-01-01T00:00:00Z")


def test_parses_both_forms_of_a_set() -> None:
    entries = [
        {"name": "a", "influxql": "SELECT 1"},
        {"name": "b", "description": "d", "promql": {"query": "up", "time": "{start}"}},
    ]
    for text in (json.dumps(entries), json.dumps({"queries": entries})):
        queries = parse_query_set(text)
        assert queries == [
            BenchQuery("a", "", "SELECT 1", None),
            BenchQuery("b", "d", None, PromQuery("up", time="{start}")),
        ]
    assert queries[0].for_target("influxdb") == "SELECT 1"
    assert queries[0].for_target("victoriametrics") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "non-empty list"),
        ('{"q": []}', "non-empty list"),
        ("[1]", "query 1: expected an object"),
        ('[{"influxql": "x"}]', "'name' must be"),
        ('[{"name": "a"}]', "query 'a': needs 'influxql' or 'promql'"),
        ('[{"name": "a", "influxql": 3}]', "'influxql' must be a string"),
        ('[{"name": "a", "sql": "x"}]', "unknown keys sql"),
        ('[{"name": "a", "promql": "up"}]', "'promql' needs"),
        ('[{"name": "a", "promql": {"query": "up"}}]', "needs 'time'"),
        ('[{"name": "a", "promql": {"query": "up", "start": "x"}}]', "needs 'time'"),
        (
            '[{"name": "a", "promql": {"query": "up", "time": "t", "start": "s", '
            '"end": "e", "step": "1h"}}]',
            "not both",
        ),
        ('[{"name": "a", "influxql": "x"}, {"name": "a", "influxql": "y"}]', "unique: a"),
    ],
)
def test_bad_sets_are_rejected_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_query_set(text)


def test_placeholders_are_relative_to_the_data_start() -> None:
    assert expand("'{start}' '{start+1h}' '{start+90m}'", START) == (
        "'2016-01-01T00:00:00Z' '2016-01-01T01:00:00Z' '2016-01-01T01:30:00Z'"
    )
    assert expand('up{host="a"}', START) == 'up{host="a"}'  # PromQL braces stay
    with pytest.raises(ValueError, match="bad duration"):
        expand("{start+1x}", START)


def test_builtin_set_is_q1_to_q3_for_every_target() -> None:
    queries = [bind(q, START) for q in builtin_query_set()]
    assert [q.name for q in queries] == ["Q1", "Q2", "Q3"]
    q1, q2, q3 = queries
    assert q1.influxql is not None
    assert q2.influxql is not None
    assert q3.influxql is not None
    assert "hostname = 'host_0'" in q1.influxql
    assert "time < '2016-01-01T12:00:00Z'" in q1.influxql
    assert "GROUP BY time(1h)" in q1.influxql
    assert "max(usage_user)" in q2.influxql
    assert "GROUP BY hostname" in q2.influxql
    assert "time < '2016-01-01T01:00:00Z'" in q2.influxql
    assert "percentile(usage_user, 95)" in q3.influxql
    assert "GROUP BY" not in q3.influxql
    for query in queries:
        assert query.promql is not None
        assert query.influxql is not None
        assert "{start" not in query.influxql + query.promql.query
    assert q1.promql is not None
    assert (q1.promql.start, q1.promql.end, q1.promql.step) == (
        "2016-01-01T01:00:00Z",
        "2016-01-01T12:00:00Z",
        "1h",
    )


def test_yaml_sets_parse_like_json_and_the_documented_example_is_valid() -> None:
    text = (
        "queries:\n"
        "  - name: a\n    influxql: SELECT 1\n"
        "  - name: b\n    promql: {query: up, time: '{start}'}\n"
    )
    assert parse_query_set(text, "yaml") == [
        BenchQuery("a", "", "SELECT 1", None),
        BenchQuery("b", "", None, PromQuery("up", time="{start}")),
    ]
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_query_set("queries: [", "yaml")
    assert syntax_of("set.YML") == syntax_of("set.yaml") == "yaml"
    assert syntax_of("set.json") == "json"
    doc = (Path(__file__).parents[3] / "docs" / "bench" / "queries.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    queries = [bind(q, START) for q in parse_query_set(example, "yaml")]
    assert [q.name for q in queries] == ["last-loc", "avg-load", "velocity-5m"]
    assert all(q.influxql and q.promql for q in queries)
    assert "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'" in str(
        queries[0].influxql
    )
