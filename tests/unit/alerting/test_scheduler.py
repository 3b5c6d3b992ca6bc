from collections import Counter
from itertools import pairwise

import pytest

from crisp.alerting.rules import Rule
from crisp.alerting.scheduler import (
    due,
    initial_last_run,
    next_run_ns,
    next_wakeup_ns,
    offset_ns,
    slot_at_or_before,
)
from crisp.query.influxql.durations import MINUTE, SECOND

T0 = 1_700_000_000 * SECOND


def rule(name: str, interval: int = 30 * SECOND, query: str | None = None) -> Rule:
    # Each rule its own query unless told: rules sharing a query share a slot.
    text = query or f"SELECT mean(v) FROM m WHERE host = '{name}'"
    return Rule(name, text, interval_ns=interval)


def test_offset_is_stable_and_within_the_interval() -> None:
    # A fixed value: the schedule must not change between processes or releases.
    assert offset_ns("cpu_high", 30 * SECOND) == offset_ns("cpu_high", 30 * SECOND)
    for i in range(200):
        assert 0 <= offset_ns(f"r{i}", 30 * SECOND) < 30 * SECOND
    with pytest.raises(ValueError, match="positive"):
        offset_ns("x", 0)


def test_five_thousand_rules_spread_evenly_over_the_interval() -> None:
    interval = 30 * SECOND
    buckets = Counter(offset_ns(f"rule-{i}", interval) // SECOND for i in range(5000))
    assert set(buckets) == set(range(30))
    # ~167 per second on average; no second gets more than 1.5x its share.
    assert max(buckets.values()) < 250
    assert min(buckets.values()) > 100


def test_each_rule_runs_once_per_interval_at_its_offset() -> None:
    rules = [rule(f"r{i}") for i in range(50)]
    last_run = initial_last_run(rules, T0)
    runs: dict[str, list[int]] = {r.name: [] for r in rules}
    now = T0
    while now < T0 + 2 * MINUTE:  # a 1 s worker tick for two minutes
        now += SECOND
        for r in due(rules, last_run, now):
            runs[r.name].append(now)
            last_run[r.name] = now
    for r in rules:
        times = runs[r.name]
        assert len(times) == 4
        assert all(b - a == 30 * SECOND for a, b in pairwise(times))
        # Runs land within one tick after the rule's slot.
        assert all(0 <= t - slot_at_or_before(r, t) < SECOND for t in times)
    # The first runs are spread over the first interval, not bunched at start-up.
    firsts = sorted(times[0] - T0 for times in runs.values())
    assert firsts[0] <= 5 * SECOND
    assert firsts[-1] >= 25 * SECOND


def test_never_run_rules_are_due_at_once_and_missed_slots_collapse() -> None:
    r = rule("cpu_high")
    assert due([r], {}, T0) == [r]
    # Worker was down for ten intervals: one catch-up run, not ten.
    last = T0
    now = T0 + 10 * 30 * SECOND + SECOND
    assert due([r], {"cpu_high": last}, now) == [r]
    assert due([r], {"cpu_high": now}, now) == []


def test_intervals_differ_per_rule() -> None:
    fast, slow = rule("fast", SECOND), rule("slow", 5 * MINUTE)
    last_run = {"fast": T0, "slow": T0}
    assert next_run_ns(fast, T0) - T0 <= SECOND
    assert next_run_ns(slow, T0) - T0 <= 5 * MINUTE
    assert next_wakeup_ns([fast, slow], last_run, T0) == next_run_ns(fast, T0)
    assert next_wakeup_ns([], {}, T0) is None
    assert next_wakeup_ns([fast], {}, T0) == T0


def test_rules_on_the_same_query_share_a_slot_and_others_spread() -> None:
    shared = "SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 1m"
    warning, critical = rule("p95_warning", query=shared), rule("p95_critical", query=shared)
    assert slot_at_or_before(warning, T0) == slot_at_or_before(critical, T0)
    # The same text on another database is another query.
    elsewhere = Rule("p95_other_db", shared, database="other", interval_ns=30 * SECOND)
    slots = {slot_at_or_before(rule(f"r{i}"), T0) for i in range(50)}
    assert len(slots) > 30
    assert {slot_at_or_before(elsewhere, T0 + s * SECOND) for s in range(30)} != {
        slot_at_or_before(warning, T0 + s * SECOND) for s in range(30)
    }
    # A rule without a query is placed by its name.
    assert slot_at_or_before(Rule("a", None), T0) != slot_at_or_before(Rule("b", None), T0)
