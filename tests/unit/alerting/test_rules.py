import textwrap

import pytest
import yaml

from crisp.alerting.rules import (
    DEFAULT_INTERVAL_NS,
    AlertFileError,
    ChannelType,
    Condition,
    Rule,
    Severity,
    StatePolicy,
    dump_alert_document,
    load_alert_file,
)
from crisp.query.influxql import ast
from crisp.query.influxql.durations import MINUTE, SECOND
from crisp.query.influxql.parser import parse_statement

SEED = """
alert_rules:
- name: cpu_high
  severity: warning
  threshold: 80%
  duration: 5m
  notify: slack
- name: disk_full
  severity: critical
  threshold: 90%
  duration: 1m
  notify: phone+sms
"""


def load(text: str, known: tuple[str, ...] = ()) -> list[Rule]:
    return list(load_alert_file(textwrap.dedent(text), known).rules)


def errors_of(text: str, known: tuple[str, ...] = ()) -> tuple[str, ...]:
    with pytest.raises(AlertFileError) as info:
        load_alert_file(textwrap.dedent(text), known)
    return info.value.errors


def test_the_seed_document_loads_as_written() -> None:
    cpu, disk = load(SEED)
    assert cpu.name == "cpu_high"
    assert cpu.severity is Severity.WARNING
    assert cpu.condition == Condition(">", 80.0)
    assert cpu.for_duration_ns == 5 * MINUTE
    assert cpu.notify == ("slack",)
    assert cpu.interval_ns == DEFAULT_INTERVAL_NS == 30 * SECOND
    assert cpu.query is None  # the seed names no query; the worker skips such rules
    assert disk.severity is Severity.CRITICAL
    assert disk.condition.threshold == 90.0
    assert disk.for_duration_ns == MINUTE
    assert disk.notify == ("phone", "sms")


def test_full_format_with_channels_and_text_query() -> None:
    alert_file = load_alert_file(
        textwrap.dedent(
            """
            channels:
              - {name: ops-hook, type: webhook, url: "http://receiver/hook"}
              - {name: mail, type: email, to: [sre@example.com]}
            alert_rules:
              - name: api_p95
                query: SELECT percentile(duration_ms, 95) FROM api_latency
                  WHERE time > now() - 1m GROUP BY service
                database: app
                condition: ">="
                threshold: 250
                interval: 1s
                for: 30s
                keep_firing_for: 2m
                no_data_state: ok
                error_state: alerting
                notify: [ops-hook, mail]
                labels: {team: api}
                annotations:
                  summary: "p95 of {{ labels.service }} is {{ value }} ms"
            """
        )
    )
    hook, mail = alert_file.channels
    assert hook.type is ChannelType.WEBHOOK
    assert hook.settings["url"] == "http://receiver/hook"
    assert mail.settings["to"] == ["sre@example.com"]
    (rule,) = alert_file.rules
    assert rule.query is not None
    assert rule.query.startswith("SELECT percentile(duration_ms, 95) FROM api_latency")
    assert rule.database == "app"
    assert rule.condition == Condition(">=", 250.0)
    assert rule.interval_ns == SECOND
    assert rule.for_duration_ns == 30 * SECOND
    assert rule.keep_firing_for_ns == 2 * MINUTE
    assert rule.no_data_state is StatePolicy.OK
    assert rule.error_state is StatePolicy.ALERTING
    assert rule.group_by == ("service",)
    assert rule.notify == ("ops-hook", "mail")
    assert dict(rule.labels) == {"team": "api"}


def test_structured_query_is_built_through_the_ast() -> None:
    (rule,) = load(
        """
        alert_rules:
          - name: p95
            threshold: 200
            measurement: api_latency
            field: duration_ms
            aggregate: p95
            where: {env: prod, service: [api, "it's"]}
            group_by: [service]
            window: 2m
        """
    )
    assert rule.query is not None
    statement = parse_statement(rule.query)
    assert isinstance(statement, ast.SelectStatement)
    assert statement.fields == (
        ast.Field(ast.Call("percentile", (ast.VarRef("duration_ms"), ast.IntegerLiteral(95)))),
    )
    assert statement.sources == (ast.Measurement(name="api_latency"),)
    assert statement.dimensions == (ast.Dimension(ast.VarRef("service")),)
    # A quote in a user value stays a string literal: no injection.
    assert "'it\\'s'" in rule.query
    assert "now() - 2m" in rule.query
    assert rule.group_by == ("service",)


def test_structured_query_nested_under_query_key() -> None:
    (rule,) = load(
        """
        alert_rules:
          - name: cpu
            threshold: 1
            query: {measurement: cpu, field: usage_idle, aggregate: min, where: "host = 'a'"}
        """
    )
    assert rule.query is not None
    expected = "SELECT min(usage_idle) FROM cpu WHERE (host = 'a') AND (time > (now() - 5m))"
    assert rule.query == expected


def test_nodata_condition_needs_no_threshold() -> None:
    (rule,) = load(
        "alert_rules: [{name: heartbeat, condition: no data, query: SELECT last(v) FROM hb}]"
    )
    assert rule.condition.is_no_data


@pytest.mark.parametrize(
    ("rule_yaml", "expected"),
    [
        ("{name: cpu_high, threshold: lots}", "threshold: expected a number or a percentage"),
        ("{name: cpu_high, threshold: true}", "threshold: expected a number or a percentage"),
        ("{name: cpu_high}", "threshold: required unless condition is 'nodata'"),
        ("{name: cpu_high, threshold: 1, duration: soon}", "duration: expected a duration"),
        ("{name: cpu_high, threshold: 1, interval: 500ms}", "interval: must be at least 1s"),
        ("{name: cpu_high, threshold: 1, severity: page}", "severity: expected one of info"),
        ("{name: cpu_high, threshold: 1, condition: '=>'}", "condition: expected one of >"),
        ("{name: cpu_high, threshold: 1, no_data_state: ignore}", "no_data_state: expected"),
        ("{name: cpu_high, threshold: 1, query: 'SELEC x'}", "query: found SELEC"),
        ("{name: cpu_high, threshold: 1, query: 'DROP DATABASE x'}", "query: expected a SELECT"),
        ("{name: cpu_high, threshold: 1, treshold: 2}", "treshold: unknown field"),
        ("{name: cpu_high, threshold: 1, labels: {'a-b': x}}", "labels: invalid label name"),
        (
            "{name: cpu_high, threshold: 1, annotations: {s: '{{ value + 1 }}'}}",
            "annotations: s: invalid placeholder",
        ),
        (
            "{name: cpu_high, threshold: 1, measurement: cpu, aggregate: eval}",
            "query.aggregate: unknown aggregate 'eval'",
        ),
        (
            "{name: cpu_high, threshold: 1, measurement: cpu, query: 'SELECT a FROM b'}",
            "query: give either 'query' or",
        ),
    ],
)
def test_validation_names_the_rule_and_the_field(rule_yaml: str, expected: str) -> None:
    text = "alert_rules:\n- {name: ok, threshold: 1}\n- {name: ok2, threshold: 2}\n"
    text += f"- {rule_yaml}\n"
    (message,) = errors_of(text)
    assert message.startswith("alert_rules[2] (cpu_high): "), message
    assert expected in message, message


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of(
        """
        alert_rules:
          - {name: a, threshold: x, duration: y}
          - {severity: info, threshold: 1}
          - {name: a, threshold: 1}
        """
    )
    assert errors == (
        "alert_rules[0] (a): threshold: expected a number or a percentage",
        "alert_rules[0] (a): duration: expected a duration such as 30s, 5m or 1h30m",
        "alert_rules[1]: name: required, a non-empty string",
        "alert_rules[2] (a): name: duplicate rule name",
    )


def test_notify_must_name_a_channel_when_channels_are_known() -> None:
    doc = """
        channels: [{name: slack, type: slack, url: "http://x"}]
        alert_rules: [{name: disk_full, threshold: 90%, notify: phone+sms}]
        """
    assert errors_of(doc) == (
        "alert_rules[0] (disk_full): notify: unknown channel 'phone'",
        "alert_rules[0] (disk_full): notify: unknown channel 'sms'",
    )
    # Channels configured earlier count too.
    load(doc, known=("phone", "sms"))


def test_channel_validation() -> None:
    errors = errors_of(
        """
        channels:
          - {name: a, type: pager}
          - {name: b, type: slack}
          - {name: c, type: email, to: x@example.com}
          - {name: c, type: sms, url_env: SMS_GATEWAY_URL}
        """
    )
    assert errors == (
        "channels[0] (a): type: expected one of webhook, slack, email, sms",
        "channels[1] (b): url: required for a slack channel",
        "channels[3] (c): name: duplicate channel name",
    )


def test_not_yaml_and_not_a_mapping() -> None:
    assert errors_of("alert_rules: [")[0].startswith("invalid YAML")
    assert errors_of("- 1") == ("expected a mapping with 'channels' and 'alert_rules'",)
    assert errors_of("rules: []") == ("rules: unknown section",)


def test_safe_load_refuses_python_objects() -> None:
    assert errors_of("alert_rules: !!python/object/apply:os.system ['true']")[0].startswith(
        "invalid YAML"
    )


def test_dump_loads_back_equal() -> None:
    original = load_alert_file(
        textwrap.dedent(
            """
            channels: [{name: hook, type: webhook, url: "http://r"}]
            alert_rules:
              - name: p95
                threshold: 250
                condition: "<"
                measurement: api_latency
                field: duration_ms
                aggregate: p95
                group_by: service
                keep_firing_for: 1m
                labels: {team: api}
                annotations: {summary: "{{ value }}"}
                notify: hook
              - {name: hb, condition: nodata, query: SELECT last(v) FROM hb}
            """
        )
    )
    again = load_alert_file(yaml.safe_dump(dump_alert_document(original)))
    assert again.channels == original.channels
    # group_by is derived from the query text, so it survives the round trip too.
    assert again.rules == original.rules


def test_small_spellings() -> None:
    (rule,) = load(
        """
        alert_rules:
          - {name: a, threshold: "0.5", condition: "=", interval: 10, notify: [a+b, b, c]}
        """
    )
    assert rule.condition == Condition("==", 0.5)
    assert rule.interval_ns == 10 * SECOND  # a bare number is seconds
    assert rule.notify == ("a", "b", "c")
    assert errors_of("alert_rules: [{name: a, threshold: 1, duration: 1m, for: 2m}]") == (
        "alert_rules[0] (a): for: give either 'duration' or 'for', not both",
    )
    assert errors_of("alert_rules: [{name: a, threshold: 1, notify: 'a+'}]") == (
        "alert_rules[0] (a): notify: empty channel name",
    )
