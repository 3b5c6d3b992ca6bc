from crisp.alerting.preview import preview_query, preview_step, replay
from crisp.alerting.rules import Condition, Rule
from crisp.query.influxql.durations import HOUR, MINUTE, SECOND

RULE = Rule(
    "p95_high",
    "SELECT percentile(duration_ms, 95) FROM api_latency "
    "WHERE service = 'checkout' AND time > now() - 1m GROUP BY service",
    Condition(">", 250.0),
    interval_ns=30 * SECOND,
    for_duration_ns=2 * MINUTE,
)


def test_the_query_is_rewritten_to_cover_the_range_in_buckets() -> None:
    step = preview_step(RULE, 3 * HOUR)
    assert step == 30 * SECOND  # 360 buckets: the rule's own interval fits
    assert preview_step(RULE, 24 * HOUR) == 24 * HOUR // 500 + (24 * HOUR % 500 > 0)
    text = preview_query(RULE, 3 * HOUR, step)
    assert text == (
        "SELECT percentile(duration_ms, 95) FROM api_latency "
        "WHERE (service = 'checkout') AND (time > (now() - 3h)) "
        "GROUP BY time(30s), service fill(none)"
    )


def series(values: list[float]) -> dict[str, object]:
    return {
        "statement_id": 0,
        "series": [
            {"name": "api_latency", "tags": {"service": "checkout"}, "columns": ["time", "p95"],
             "values": [[i * MINUTE, v] for i, v in enumerate(values)]}
        ],
    }  # fmt: skip


def test_replay_applies_the_for_duration_and_reports_firing_periods() -> None:
    rule = Rule(RULE.name, RULE.query, RULE.condition, for_duration_ns=2 * MINUTE)
    (checkout,) = replay(rule, series([10, 300, 300, 300, 300, 10, 300]), MINUTE)  # type: ignore[arg-type]
    assert checkout.tags == {"service": "checkout"}
    assert [s for _, s in checkout.states] == [
        "normal", "pending", "pending", "firing", "firing", "resolved", "pending",
    ]  # fmt: skip
    assert checkout.firing == [(3 * MINUTE, 5 * MINUTE)]
    assert checkout.points[1] == (MINUTE, 300)
