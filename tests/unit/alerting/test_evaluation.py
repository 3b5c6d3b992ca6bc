"""Every state transition of issue 7, driven by a fake clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from crisp.alerting.evaluation import (
    InstanceKey,
    InstanceState,
    QueryFailed,
    State,
    Transition,
    evaluate,
    last_value,
    to_ns,
)
from crisp.alerting.rules import Condition, Rule, Severity, StatePolicy
from crisp.alerting.silences import Matcher, Silence, is_silenced
from crisp.query.influxql.durations import MINUTE, SECOND
from crisp.query.results import Series, StatementResult

T0 = 1_700_000_000 * SECOND


class FakeClock:
    def __init__(self, start: int = T0) -> None:
        self.now = start

    def advance(self, ns: int) -> int:
        self.now += ns
        return self.now


def result(*series: tuple[Mapping[str, str], Any]) -> StatementResult:
    out: list[Series] = []
    for tags, value in series:
        out.append(
            {
                "name": "api_latency",
                "tags": dict(tags),
                "columns": ["time", "p95"],
                "values": [[T0 - MINUTE, None], [T0, value]],
            }
        )
    return {"statement_id": 0, "series": out}


def empty() -> StatementResult:
    return {"statement_id": 0}


API = {"service": "api"}
KEY: InstanceKey = (("service", "api"),)


class Engine:
    """Feeds results through ``evaluate`` keeping states and a transition log."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.clock = FakeClock()
        self.states: dict[InstanceKey, InstanceState] = {}
        self.log: list[Transition] = []

    def run(self, res: StatementResult | BaseException, after: int = 0) -> list[Transition]:
        now = self.clock.advance(after)
        self.states, transitions = evaluate(self.rule, res, self.states, now)
        self.log.extend(transitions)
        return transitions

    def state(self, key: InstanceKey = KEY) -> State | None:
        st = self.states.get(key)
        return st.state if st else None


def p95_rule(**kw: Any) -> Rule:
    base: dict[str, Any] = {
        "name": "api_p95",
        "query": "SELECT percentile(duration_ms, 95) FROM api_latency GROUP BY service",
        "condition": Condition(">", 250.0),
        "for_duration_ns": MINUTE,
        "severity": Severity.CRITICAL,
        "labels": {"team": "api"},
        "annotations": {"summary": "p95 of {{ labels.service }} is {{ value }} ms"},
    }
    base.update(kw)
    return Rule(**base)


def moves(transitions: list[Transition]) -> list[tuple[str, str]]:
    return [(t.from_state.value, t.to_state.value) for t in transitions]


def test_normal_stays_normal_without_transitions() -> None:
    e = Engine(p95_rule())
    assert e.run(result((API, 100.0))) == []
    assert e.state() is State.NORMAL


def test_pending_then_firing_after_for_then_resolved_then_normal() -> None:
    e = Engine(p95_rule())
    assert moves(e.run(result((API, 300.0)))) == [("normal", "pending")]
    assert e.run(result((API, 310.0)), after=30 * SECOND) == []  # 30 s < for
    (fired,) = e.run(result((API, 320.0)), after=30 * SECOND)  # 60 s ≥ for
    assert (fired.from_state, fired.to_state) == (State.PENDING, State.FIRING)
    assert fired.value == 320.0
    assert fired.at_ns == e.clock.now
    assert fired.notifies
    assert dict(fired.labels) == {
        "service": "api",
        "team": "api",
        "alertname": "api_p95",
        "severity": "critical",
    }
    assert dict(fired.annotations) == {"summary": "p95 of api is 320 ms"}
    assert e.run(result((API, 330.0)), after=30 * SECOND) == []  # still firing

    (resolved,) = e.run(result((API, 100.0)), after=30 * SECOND)
    assert (resolved.to_state, resolved.value, resolved.notifies) == (State.RESOLVED, 100.0, True)
    assert resolved.annotations["summary"] == "p95 of api is 100 ms"
    (back,) = e.run(result((API, 90.0)), after=30 * SECOND)
    assert (back.from_state, back.to_state, back.notifies) == (
        State.RESOLVED,
        State.NORMAL,
        False,
    )


def test_zero_for_fires_at_once() -> None:
    e = Engine(p95_rule(for_duration_ns=0))
    assert moves(e.run(result((API, 300.0)))) == [("normal", "firing")]


def test_flapping_never_fires_while_it_does_not_hold_for_the_whole_for() -> None:
    e = Engine(p95_rule(for_duration_ns=2 * MINUTE))
    for _ in range(10):
        e.run(result((API, 300.0)), after=30 * SECOND)
        e.run(result((API, 100.0)), after=30 * SECOND)
    assert moves(e.log) == [("normal", "pending"), ("pending", "normal")] * 10
    assert not any(t.to_state is State.FIRING for t in e.log)


def test_pending_episode_restarts_after_a_flap() -> None:
    e = Engine(p95_rule())
    e.run(result((API, 300.0)))
    e.run(result((API, 100.0)), after=50 * SECOND)
    e.run(result((API, 300.0)), after=5 * SECOND)
    # 65 s since the first breach but only 10 s since the episode began.
    assert e.run(result((API, 300.0)), after=10 * SECOND) == []
    assert e.state() is State.PENDING
    assert moves(e.run(result((API, 300.0)), after=50 * SECOND)) == [("pending", "firing")]


def test_keep_firing_for_holds_the_alert_through_short_recoveries() -> None:
    e = Engine(p95_rule(for_duration_ns=0, keep_firing_for_ns=2 * MINUTE))
    e.run(result((API, 300.0)))
    assert e.run(result((API, 100.0)), after=MINUTE) == []
    assert e.state() is State.FIRING
    assert e.run(result((API, 300.0)), after=MINUTE) == []  # breaching again: timer resets
    assert e.run(result((API, 100.0)), after=MINUTE) == []
    assert e.run(result((API, 100.0)), after=59 * SECOND) == []
    assert moves(e.run(result((API, 100.0)), after=SECOND)) == [("firing", "resolved")]


def test_one_instance_per_series() -> None:
    e = Engine(p95_rule(for_duration_ns=0))
    transitions = e.run(result((API, 300.0), ({"service": "web"}, 100.0), ({"service": "db"}, 999)))
    assert sorted(t.labels["service"] for t in transitions) == ["api", "db"]
    assert set(e.states) == {KEY, (("service", "web"),), (("service", "db"),)}


def test_value_is_the_last_non_null_value() -> None:
    assert last_value(["time", "v"], [[1, 5.0], [2, 7.0], [3, None]]) == 7.0
    assert last_value(["time", "v"], [[1, None]]) is None
    assert last_value(["v"], [[4]]) == 4


def test_no_data_state_nodata_is_its_own_state_and_recovers() -> None:
    e = Engine(p95_rule())
    e.run(result((API, 100.0)))
    (t,) = e.run(empty(), after=30 * SECOND)
    assert (t.from_state, t.to_state, t.notifies) == (State.NORMAL, State.NODATA, True)
    assert e.run(empty(), after=30 * SECOND) == []
    assert moves(e.run(result((API, 100.0)), after=30 * SECOND)) == [("nodata", "normal")]


def test_no_data_on_a_rule_that_never_returned_anything_uses_the_rule_level_instance() -> None:
    e = Engine(p95_rule())
    (t,) = e.run(empty())
    assert (t.key, t.to_state) == ((), State.NODATA)
    assert t.annotations["summary"] == "p95 of  is  ms"  # missing values render empty
    # Once series arrive, the rule-level instance clears and is forgotten.
    assert moves(e.run(result((API, 100.0)), after=30 * SECOND)) == [("nodata", "normal")]
    assert set(e.states) == {KEY}


def test_no_data_state_ok_forgets_vanished_series() -> None:
    e = Engine(p95_rule(no_data_state=StatePolicy.OK))
    e.run(result((API, 100.0), ({"service": "web"}, 100.0)))
    assert e.run(result((API, 100.0)), after=30 * SECOND) == []
    assert set(e.states) == {KEY}


def test_vanished_firing_series_resolves_when_no_data_means_ok() -> None:
    e = Engine(p95_rule(for_duration_ns=0, no_data_state=StatePolicy.OK))
    e.run(result((API, 300.0)))
    (t,) = e.run(empty(), after=30 * SECOND)
    assert (t.to_state, t.value) == (State.RESOLVED, 300.0)  # last known value


def test_vanished_series_goes_through_no_data_rules() -> None:
    e = Engine(p95_rule(for_duration_ns=0))
    e.run(result((API, 300.0), ({"service": "web"}, 100.0)))
    transitions = e.run(result(({"service": "web"}, 100.0)), after=30 * SECOND)
    assert [(t.key, t.from_state, t.to_state) for t in transitions] == [
        (KEY, State.FIRING, State.NODATA)
    ]


def test_no_data_state_alerting_honours_for() -> None:
    e = Engine(p95_rule(no_data_state=StatePolicy.ALERTING))
    e.run(result((API, None)))
    assert e.state() is State.PENDING
    assert moves(e.run(result((API, None)), after=MINUTE)) == [("pending", "firing")]


def test_nodata_condition_fires_when_the_query_returns_nothing() -> None:
    e = Engine(p95_rule(condition=Condition("nodata"), for_duration_ns=0))
    assert e.run(result((API, 1.0))) == []
    (t,) = e.run(empty(), after=30 * SECOND)
    assert (t.key, t.to_state) == (KEY, State.FIRING)
    assert moves(e.run(result((API, 1.0)), after=30 * SECOND)) == [("firing", "resolved")]


def test_query_error_puts_every_instance_in_error_and_recovery_clears_it() -> None:
    e = Engine(p95_rule(for_duration_ns=0))
    e.run(result((API, 300.0)))
    failed: StatementResult = {"statement_id": 0, "error": "database not found: app"}
    (t,) = e.run(failed, after=30 * SECOND)
    assert (t.from_state, t.to_state, t.error) == (State.FIRING, State.ERROR, failed["error"])
    assert moves(e.run(result((API, 100.0)), after=30 * SECOND)) == [("error", "normal")]


def test_query_exception_without_previous_instances() -> None:
    e = Engine(p95_rule())
    (t,) = e.run(QueryFailed("timeout after 10s"))
    assert (t.key, t.to_state, t.error) == ((), State.ERROR, "timeout after 10s")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (StatePolicy.OK, None),
        (StatePolicy.ALERTING, State.FIRING),
        (StatePolicy.NODATA, State.NODATA),
        (StatePolicy.ERROR, State.ERROR),
    ],
)
def test_error_state_policy(policy: StatePolicy, expected: State | None) -> None:
    e = Engine(p95_rule(for_duration_ns=0, error_state=policy))
    e.run(result((API, 100.0)))
    transitions = e.run(QueryFailed("boom"), after=30 * SECOND)
    assert [t.to_state for t in transitions] == ([expected] if expected else [])


def test_non_numeric_value_is_an_error_for_that_instance() -> None:
    e = Engine(p95_rule())
    (t,) = e.run(result((API, "high")))
    assert (t.to_state, t.error) == (State.ERROR, "value 'high' is not a number")


@pytest.mark.parametrize(
    ("op", "value", "fires"),
    [
        (">", 251.0, True),
        (">", 250.0, False),
        (">=", 250.0, True),
        ("<", 249.0, True),
        ("<=", 250.0, True),
        ("<=", 251.0, False),
        ("==", 250.0, True),
        ("!=", 250.0, False),
        ("!=", 1.0, True),
    ],
)
def test_condition_operators(op: str, value: float, fires: bool) -> None:
    e = Engine(p95_rule(condition=Condition(op, 250.0), for_duration_ns=0))
    e.run(result((API, value)))
    assert (e.state() is State.FIRING) is fires


def test_silence_mutes_firing_transition_but_not_other_services() -> None:
    e = Engine(p95_rule(for_duration_ns=0))
    silence = Silence(
        (Matcher("alertname", "=", "api_p95"), Matcher("service", "=~", "api|db")),
        starts_at_ns=T0,
        ends_at_ns=T0 + 10 * MINUTE,
        comment="deploy",
        created_by="alice",
    )
    transitions = e.run(result((API, 300.0), ({"service": "web"}, 300.0)))
    muted = {t.labels["service"]: is_silenced(t.labels, [silence], t.at_ns) for t in transitions}
    assert muted == {"api": True, "web": False}
    # After the window ends the same alert is no longer muted.
    assert not is_silenced(transitions[0].labels, [silence], T0 + 10 * MINUTE)


def test_evaluate_is_pure() -> None:
    rule = p95_rule()
    previous = {KEY: InstanceState(State.PENDING, T0, API, 300.0, T0, T0)}
    frozen = dict(previous)
    first = evaluate(rule, result((API, 300.0)), previous, T0 + MINUTE)
    second = evaluate(rule, result((API, 300.0)), previous, T0 + MINUTE)
    assert first == second
    assert previous == frozen
    assert first.states[KEY].state is State.FIRING


def test_now_may_be_an_aware_datetime() -> None:
    assert to_ns(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) == T0
    with pytest.raises(ValueError, match="timezone-aware"):
        to_ns(datetime(2023, 11, 14))
