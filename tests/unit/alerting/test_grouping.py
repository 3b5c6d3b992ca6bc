"""Grouping: group_wait, group_interval, repeat_interval and resolved alerts, by the clock."""

from crisp.alerting.evaluation import State, Transition
from crisp.alerting.grouping import (
    AlertEntry,
    GroupState,
    add_alert,
    after_flush,
    due_alerts,
    entry_for,
    notification_status,
)
from crisp.alerting.routes import Timing

S = 1_000_000_000
TIMING = Timing(group_wait_ns=10 * S, group_interval_ns=60 * S, repeat_interval_ns=600 * S)


def alert(name: str, status: str = "firing", at: int = 0) -> AlertEntry:
    return AlertEntry(name, status, "firing" if status == "firing" else "resolved",  # type: ignore[arg-type]
                      {"alertname": name}, {}, 1.0, at)  # fmt: skip


def flush(state: GroupState, now: int) -> tuple[list[str] | None, GroupState | None]:
    due = due_alerts(state, now, TIMING)
    sent = None if due is None else [f"{a.fingerprint}:{a.status}" for a in due]
    return sent, after_flush(state, due, True, now, TIMING)


def test_group_wait_collects_alerts_into_one_notification() -> None:
    state = add_alert(None, alert("a"), 0, TIMING)
    state = add_alert(state, alert("b"), 5 * S, TIMING)
    assert due_alerts(state, 9 * S, TIMING) is None
    sent, state2 = flush(state, 10 * S)
    assert sent == ["a:firing", "b:firing"]
    assert state2 is not None
    assert state2.next_flush_ns == 70 * S


def test_unchanged_group_waits_for_repeat_interval() -> None:
    _, state = flush(add_alert(None, alert("a"), 0, TIMING), 10 * S)
    assert state is not None
    sent, state = flush(state, 70 * S)
    assert sent is None  # nothing new: not sent at group_interval
    assert state is not None
    sent, state = flush(state, 610 * S)
    assert sent == ["a:firing"]  # still firing after repeat_interval: sent again


def test_a_new_alert_is_sent_at_the_next_group_interval() -> None:
    _, state = flush(add_alert(None, alert("a"), 0, TIMING), 10 * S)
    assert state is not None
    state = add_alert(state, alert("b"), 20 * S, TIMING)
    assert due_alerts(state, 30 * S, TIMING) is None
    sent, _ = flush(state, 70 * S)
    assert sent == ["a:firing", "b:firing"]


def test_resolved_alerts_are_sent_once_and_leave_the_group() -> None:
    _, state = flush(add_alert(None, alert("a"), 0, TIMING), 10 * S)
    assert state is not None
    state = add_alert(state, alert("a", "resolved"), 30 * S, TIMING)
    sent, state = flush(state, 70 * S)
    assert sent == ["a:resolved"]
    assert state is None  # empty: deleted


def test_a_failed_delivery_is_retried_at_the_next_interval() -> None:
    state = add_alert(None, alert("a"), 0, TIMING)
    due = due_alerts(state, 10 * S, TIMING)
    failed = after_flush(state, due, False, 10 * S, TIMING)
    assert failed is not None
    assert failed.sent == frozenset()
    assert due_alerts(failed, 70 * S, TIMING) is not None


def test_alerts_added_while_sending_are_kept() -> None:
    state = add_alert(None, alert("a"), 0, TIMING)
    due = due_alerts(state, 10 * S, TIMING)
    meanwhile = add_alert(state, alert("b"), 11 * S, TIMING)
    after = after_flush(meanwhile, due, True, 12 * S, TIMING)
    assert after is not None
    assert set(after.alerts) == {"a", "b"}
    assert due_alerts(after, 72 * S, TIMING) is not None  # b is news


def transition(from_state: State, to_state: State) -> Transition:
    return Transition("r", (), from_state, to_state, 5, 1.0, {"alertname": "r"}, {})


def test_what_receivers_hear_about_each_transition() -> None:
    assert notification_status(transition(State.PENDING, State.FIRING)) == "firing"
    assert notification_status(transition(State.FIRING, State.RESOLVED)) == "resolved"
    assert notification_status(transition(State.NORMAL, State.NODATA)) == "firing"
    assert notification_status(transition(State.ERROR, State.NORMAL)) == "resolved"
    assert notification_status(transition(State.NORMAL, State.PENDING)) is None
    assert notification_status(transition(State.PENDING, State.NORMAL)) is None
    assert notification_status(transition(State.RESOLVED, State.NORMAL)) is None
    resolved = entry_for(transition(State.FIRING, State.RESOLVED), "resolved", 1)
    assert (resolved.starts_at_ns, resolved.ends_at_ns) == (1, 5)
    assert AlertEntry.from_json(resolved.to_json()) == resolved
