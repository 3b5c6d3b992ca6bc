"""Notification groups: Alertmanager's group_wait / group_interval / repeat_interval, pure.

A group is the set of alerts that one channel hears about together (same route, same
values of the route's ``group_by`` labels). Its life:

- the first alert creates it; it is flushed ``group_wait`` later (alerts arriving
  meanwhile ride along);
- after a flush it is looked at again every ``group_interval``: it is sent when its
  alerts changed (new, or resolved) or, still firing, ``repeat_interval`` after the
  last send;
- resolved alerts leave the group once they were sent; an empty group is deleted.

The worker stores :class:`GroupState` in the database and calls these functions
under a lease, so this module decides everything and does no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from crisp.alerting.evaluation import State, Transition
from crisp.alerting.routes import Timing

Status = Literal["firing", "resolved"]


def fingerprint(labels: Mapping[str, str]) -> str:
    """Stable identity of an alert: a hash of its sorted labels."""
    text = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def group_key(channel: str, route_index: int, group_labels: Mapping[str, str]) -> str:
    text = json.dumps([channel, route_index, sorted(group_labels.items())], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notification_status(transition: Transition) -> Status | None:
    """What receivers hear about a transition: firing, resolved, or nothing."""
    if transition.to_state in (State.FIRING, State.NODATA, State.ERROR):
        return "firing"
    if transition.to_state is State.RESOLVED:
        return "resolved"
    if transition.from_state in (State.NODATA, State.ERROR, State.FIRING):
        # An instance leaving no-data/error straight to normal or pending was "firing"
        # for receivers; they must hear that it is over.
        return "resolved"
    return None


@dataclass(frozen=True)
class AlertEntry:
    """One alert as a notification shows it."""

    fingerprint: str
    status: Status
    state: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    value: float | None
    starts_at_ns: int
    ends_at_ns: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "state": self.state,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "value": self.value,
            "starts_at_ns": self.starts_at_ns,
            "ends_at_ns": self.ends_at_ns,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertEntry:
        return cls(
            fingerprint=str(data["fingerprint"]),
            status="resolved" if data["status"] == "resolved" else "firing",
            state=str(data.get("state", "")),
            labels=dict(data.get("labels") or {}),
            annotations=dict(data.get("annotations") or {}),
            value=data.get("value"),
            starts_at_ns=int(data["starts_at_ns"]),
            ends_at_ns=data.get("ends_at_ns"),
            error=data.get("error"),
        )


def entry_for(transition: Transition, status: Status, starts_at_ns: int) -> AlertEntry:
    return AlertEntry(
        fingerprint=fingerprint(transition.labels),
        status=status,
        state=transition.to_state.value,
        labels=dict(transition.labels),
        annotations=dict(transition.annotations),
        value=transition.value,
        starts_at_ns=starts_at_ns,
        ends_at_ns=transition.at_ns if status == "resolved" else None,
        error=transition.error,
    )


@dataclass(frozen=True)
class GroupState:
    alerts: Mapping[str, AlertEntry] = field(default_factory=dict)
    next_flush_ns: int | None = None
    last_flush_ns: int | None = None
    sent: frozenset[tuple[str, str]] = frozenset()
    """(fingerprint, status) of every alert in the last successful notification."""

    def digest(self) -> frozenset[tuple[str, str]]:
        return frozenset((a.fingerprint, a.status) for a in self.alerts.values())

    @property
    def firing(self) -> bool:
        return any(a.status == "firing" for a in self.alerts.values())


def add_alert(
    state: GroupState | None, entry: AlertEntry, now_ns: int, timing: Timing
) -> GroupState:
    """The group with ``entry`` in it (replacing the alert's previous entry)."""
    if state is None:
        return GroupState({entry.fingerprint: entry}, next_flush_ns=now_ns + timing.group_wait_ns)
    previous = state.alerts.get(entry.fingerprint)
    if previous is not None and previous.status == "firing":
        entry = replace(entry, starts_at_ns=previous.starts_at_ns)
    alerts = {**state.alerts, entry.fingerprint: entry}
    next_flush = state.next_flush_ns
    if next_flush is None:
        last = state.last_flush_ns if state.last_flush_ns is not None else now_ns
        next_flush = max(now_ns, last + timing.group_interval_ns)
    return replace(state, alerts=alerts, next_flush_ns=next_flush)


def due_alerts(state: GroupState, now_ns: int, timing: Timing) -> list[AlertEntry] | None:
    """The alerts to send now, or None when the group has nothing to say yet."""
    if state.next_flush_ns is None or now_ns < state.next_flush_ns or not state.alerts:
        return None
    changed = state.digest() != state.sent
    repeat = (
        state.firing
        and state.last_flush_ns is not None
        and now_ns - state.last_flush_ns >= timing.repeat_interval_ns
    )
    if not (changed or repeat):
        return None
    return sorted(state.alerts.values(), key=lambda a: (a.status != "firing", a.starts_at_ns))


def after_flush(
    current: GroupState, sent: list[AlertEntry] | None, delivered: bool, now_ns: int, timing: Timing
) -> GroupState | None:
    """The group after a flush attempt; None when it is empty and can be deleted.

    ``current`` is re-read after sending, so alerts that arrived meanwhile stay; only
    resolved alerts that were delivered leave. A failed delivery leaves ``sent`` as it
    was, so the next look (one ``group_interval`` on) tries again.
    """
    if sent is not None and delivered:
        delivered_keys = {(a.fingerprint, a.status) for a in sent}
        alerts = {
            fp: a
            for fp, a in current.alerts.items()
            if not (a.status == "resolved" and (fp, a.status) in delivered_keys)
        }
        if not alerts:
            return None
        current = replace(
            current,
            alerts=alerts,
            last_flush_ns=now_ns,
            sent=frozenset(delivered_keys & {(a.fingerprint, a.status) for a in alerts.values()}),
        )
    return replace(current, next_flush_ns=now_ns + timing.group_interval_ns)
