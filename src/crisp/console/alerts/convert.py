"""Between stored rows and the values of :mod:`crisp.alerting` (one place for both ways)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from django.conf import settings

from crisp.alerting import evaluation, rules, silences
from crisp.alerting.grouping import AlertEntry, GroupState
from crisp.alerting.routes import Route as RouteValue
from crisp.alerting.routes import Timing, parse_route
from crisp.alerting.secrets import SecretBox, resolve_settings
from crisp.console.alerts import models


def secret_box() -> SecretBox:
    """Channel secrets are sealed with a key derived from the console's secret key."""
    return SecretBox(str(settings.SECRET_KEY))


def rule_value(rule: models.AlertRule) -> rules.Rule:
    """The stored spec as a Rule (specs are validated on write, so this holds)."""
    return rules.parse_rule(rule.spec)


def route_values(routes: Iterable[models.Route]) -> list[RouteValue]:
    return [parse_route(route.spec) for route in routes]


def channel_value(channel: models.Channel, environ: Mapping[str, str]) -> rules.Channel:
    """The channel with its secrets in clear, for sending; raises SecretError."""
    resolved = resolve_settings(channel.settings, secret_box(), environ)
    return rules.Channel(channel.name, rules.ChannelType(channel.type), resolved)


def silence_value(silence: models.Silence) -> silences.Silence:
    return silences.Silence(
        tuple(silences.parse_matcher(m) for m in silence.matchers),
        to_ns(silence.starts_at),
        to_ns(silence.ends_at),
        silence.comment,
        silence.created_by.get_username() if silence.created_by else "",
    )


def to_ns(moment: datetime) -> int:
    return evaluation.to_ns(moment)


def from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=(ns % 1_000_000_000) // 1000
    )


def instance_state(row: models.AlertInstance) -> evaluation.InstanceState:
    return evaluation.InstanceState(
        state=evaluation.State(row.state),
        since_ns=row.since_ns,
        tags=row.tags,
        value=row.value,
        active_since_ns=row.active_since_ns,
        last_breach_ns=row.last_breach_ns,
        error=row.error or None,
        last_eval_ns=row.last_eval_ns,
    )


def group_timing(group: models.NotificationGroup) -> Timing:
    return Timing(group.group_wait_ns, group.group_interval_ns, group.repeat_interval_ns)


def group_state(group: models.NotificationGroup) -> GroupState:
    return GroupState(
        alerts={fp: AlertEntry.from_json(a) for fp, a in group.alerts.items()},
        next_flush_ns=group.next_flush_ns,
        last_flush_ns=group.last_flush_ns,
        sent=frozenset((str(fp), str(status)) for fp, status in group.sent),
    )


def store_group_state(group: models.NotificationGroup, state: GroupState) -> None:
    group.alerts = {fp: a.to_json() for fp, a in state.alerts.items()}
    group.next_flush_ns = state.next_flush_ns
    group.last_flush_ns = state.last_flush_ns
    group.sent = sorted([fp, status] for fp, status in state.sent)
