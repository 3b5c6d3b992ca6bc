"""Pure rule evaluation: (rule, query result, previous states, now) → states, transitions.

One alert instance per series; its key is the series' sorted tags, its value the last
non-null value of the series' first value column (the column after ``time``). Each
evaluation reduces an instance to an *outcome*:

- ``alerting`` — the condition holds (or the rule is a "no data" rule and there is none);
- ``ok``       — the condition does not hold;
- ``nodata``   — the series returned only nulls, or an instance seen before is absent
  from the result, or the result has no series at all (then the rule-level instance
  with empty key stands for it); the rule's ``no_data_state`` maps it to ok, alerting,
  nodata or error;
- ``error``    — the query failed (every known instance, or the empty-key instance),
  or the value is not a number; ``error_state`` maps it likewise.

States move as follows (``for`` = ``rule.for_duration_ns``)::

    normal/resolved/nodata/error --alerting--> pending (firing at once if for == 0)
    pending --alerting for ≥ for--> firing        pending --ok--> normal (a flap)
    firing  --ok--> resolved, unless the condition held within keep_firing_for
    resolved --next evaluation--> normal (or pending/firing if alerting again)
    any --nodata/error policy--> nodata/error     nodata/error --ok--> normal

A transition is emitted on every state change and carries the value, the labels
(series tags, then the rule's labels, then ``alertname`` and ``severity``) and the
rendered annotations. Instances that end an evaluation ``normal`` while absent from the
result are dropped, so vanished series do not accumulate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from crisp.alerting.rules import Rule, StatePolicy
from crisp.alerting.templates import TemplateError, parse_template
from crisp.query.results import StatementResult

InstanceKey = tuple[tuple[str, str], ...]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class State(StrEnum):
    NORMAL = "normal"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NODATA = "nodata"
    ERROR = "error"


class Outcome(StrEnum):
    OK = "ok"
    ALERTING = "alerting"
    NODATA = "nodata"
    ERROR = "error"


NOTIFYING_STATES = frozenset({State.FIRING, State.RESOLVED, State.NODATA, State.ERROR})


@dataclass(frozen=True)
class InstanceState:
    """What the engine remembers about one instance between evaluations."""

    state: State
    since_ns: int
    """When the instance entered ``state``."""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    value: float | None = None
    active_since_ns: int | None = None
    """Start of the current pending/firing episode (the first breaching evaluation)."""
    last_breach_ns: int | None = None
    """Last evaluation at which the condition held (for ``keep_firing_for``)."""
    error: str | None = None
    last_eval_ns: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))


@dataclass(frozen=True)
class Transition:
    rule: str
    key: InstanceKey
    from_state: State
    to_state: State
    at_ns: int
    value: float | None
    labels: Mapping[str, str] = field(hash=False)
    annotations: Mapping[str, str] = field(hash=False)
    error: str | None = None

    @property
    def notifies(self) -> bool:
        """Whether receivers hear about it (resolved → normal is history only)."""
        return self.to_state in NOTIFYING_STATES


class Evaluation(NamedTuple):
    states: dict[InstanceKey, InstanceState]
    transitions: list[Transition]


class QueryFailed(Exception):
    """A query error handed to ``evaluate`` when there is no StatementResult."""


@dataclass(frozen=True)
class _Observation:
    outcome: Outcome
    tags: Mapping[str, str]
    value: float | None = None
    error: str | None = None
    present: bool = True


def to_ns(now: datetime | int) -> int:
    if isinstance(now, int):
        return now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    delta = now - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def instance_key(tags: Mapping[str, str]) -> InstanceKey:
    return tuple(sorted(tags.items()))


def last_value(columns: list[str], values: list[list[Any]]) -> Any:
    """The last non-null value of the first value column (None if there is none)."""
    if not columns:
        return None
    index = 1 if columns[0] == "time" and len(columns) > 1 else 0
    for row in reversed(values):
        if index < len(row) and row[index] is not None:
            return row[index]
    return None


def evaluate(
    rule: Rule,
    result: StatementResult | BaseException,
    previous: Mapping[InstanceKey, InstanceState],
    now: datetime | int,
) -> Evaluation:
    now_ns = to_ns(now)
    observations = _observe(rule, result, previous)
    states: dict[InstanceKey, InstanceState] = {}
    transitions: list[Transition] = []
    for key, obs in observations.items():
        prev = previous.get(key)
        new = _step(rule, prev, obs, now_ns)
        if new.state is State.NORMAL and not obs.present:
            pass  # a vanished series that is back to normal is forgotten
        else:
            states[key] = new
        from_state = prev.state if prev is not None else State.NORMAL
        if new.state is not from_state:
            transitions.append(_transition(rule, key, from_state, new, now_ns))
    return Evaluation(states, transitions)


def _observe(
    rule: Rule,
    result: StatementResult | BaseException,
    previous: Mapping[InstanceKey, InstanceState],
) -> dict[InstanceKey, _Observation]:
    error: str | None = None
    if isinstance(result, BaseException):
        error = str(result) or type(result).__name__
    elif "error" in result:
        error = result["error"]
    if error is not None:
        keys = list(previous) or [()]
        return {
            k: _Observation(Outcome.ERROR, previous[k].tags if k in previous else {}, error=error)
            for k in keys
        }

    assert not isinstance(result, BaseException)
    seen: dict[InstanceKey, _Observation] = {}
    for series in result.get("series", []):
        tags = dict(series.get("tags") or {})
        raw = last_value(series["columns"], series["values"])
        seen[instance_key(tags)] = _classify(rule, tags, raw)

    observations = dict(seen)
    any_data = any(o.outcome is not Outcome.NODATA for o in seen.values())
    for key, prev in previous.items():
        if key in observations:
            continue
        if key == () and any_data:
            # The rule-level "no data" instance clears once series are back.
            observations[key] = _Observation(Outcome.OK, prev.tags, present=False)
        else:
            observations[key] = _Observation(
                _no_data_outcome(rule), prev.tags, prev.value, present=False
            )
    if not observations:
        observations[()] = _Observation(_no_data_outcome(rule), {}, present=False)
    return observations


def _no_data_outcome(rule: Rule) -> Outcome:
    return Outcome.ALERTING if rule.condition.is_no_data else Outcome.NODATA


def _classify(rule: Rule, tags: dict[str, str], raw: Any) -> _Observation:
    if raw is None:
        return _Observation(_no_data_outcome(rule), tags)
    if rule.condition.is_no_data:
        value = float(raw) if _is_number(raw) else None
        return _Observation(Outcome.OK, tags, value)
    if not _is_number(raw):
        return _Observation(Outcome.ERROR, tags, error=f"value {raw!r} is not a number")
    value = float(raw)
    if math.isnan(value):
        return _Observation(_no_data_outcome(rule), tags)
    outcome = Outcome.ALERTING if rule.condition.holds(value) else Outcome.OK
    return _Observation(outcome, tags, value)


def _is_number(raw: object) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


_POLICY_OUTCOME = {
    StatePolicy.OK: Outcome.OK,
    StatePolicy.ALERTING: Outcome.ALERTING,
}


def _resolve_outcome(rule: Rule, obs: _Observation) -> Outcome:
    if obs.outcome is Outcome.NODATA:
        policy = rule.no_data_state
    elif obs.outcome is Outcome.ERROR:
        policy = rule.error_state
    else:
        return obs.outcome
    if policy in _POLICY_OUTCOME:
        return _POLICY_OUTCOME[policy]
    return Outcome.NODATA if policy is StatePolicy.NODATA else Outcome.ERROR


def _step(rule: Rule, prev: InstanceState | None, obs: _Observation, now: int) -> InstanceState:
    if prev is None:
        prev = InstanceState(State.NORMAL, now, obs.tags)
    outcome = _resolve_outcome(rule, obs)
    value = obs.value if obs.value is not None else (prev.value if not obs.present else None)
    base = replace(prev, tags=obs.tags or prev.tags, value=value, last_eval_ns=now, error=None)

    def enter(state: State, **changes: Any) -> InstanceState:
        if state is prev.state:
            return replace(base, **changes)
        return replace(base, state=state, since_ns=now, **changes)

    current = prev.state
    if outcome is Outcome.ALERTING:
        if current is State.FIRING:
            return enter(State.FIRING, last_breach_ns=now)
        if current is State.PENDING and prev.active_since_ns is not None:
            if now - prev.active_since_ns >= rule.for_duration_ns:
                return enter(State.FIRING, last_breach_ns=now)
            return enter(State.PENDING, last_breach_ns=now)
        if rule.for_duration_ns == 0:
            return enter(State.FIRING, active_since_ns=now, last_breach_ns=now)
        return enter(State.PENDING, active_since_ns=now, last_breach_ns=now)

    if outcome is Outcome.OK:
        if current is State.FIRING:
            last = prev.last_breach_ns if prev.last_breach_ns is not None else now
            if rule.keep_firing_for_ns and now - last < rule.keep_firing_for_ns:
                return enter(State.FIRING)
            return enter(State.RESOLVED, active_since_ns=None)
        return enter(State.NORMAL, active_since_ns=None)

    state = State.NODATA if outcome is Outcome.NODATA else State.ERROR
    return enter(state, active_since_ns=None, error=obs.error)


def _transition(
    rule: Rule, key: InstanceKey, from_state: State, new: InstanceState, now: int
) -> Transition:
    labels = {**new.tags, **rule.labels, "alertname": rule.name, "severity": rule.severity.value}
    context: dict[str, object] = {
        "labels": labels,
        "value": new.value,
        "threshold": rule.condition.threshold,
        "rule": rule.name,
        "state": new.state.value,
    }
    annotations: dict[str, str] = {}
    for name, source in rule.annotations.items():
        try:
            annotations[name] = parse_template(source).render(context)
        except TemplateError:
            annotations[name] = source  # rules are validated on load; never lose the text
    return Transition(
        rule=rule.name,
        key=key,
        from_state=from_state,
        to_state=new.state,
        at_ns=now,
        value=new.value,
        labels=MappingProxyType(labels),
        annotations=MappingProxyType(annotations),
        error=new.error,
    )
