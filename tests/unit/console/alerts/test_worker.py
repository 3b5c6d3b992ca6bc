"""The worker against the console database, a scripted metrics answer and a real HTTP
receiver, on a fake clock: states, history, grouping, silences, leases, metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from crisp.alerting.rules import load_alert_file
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.actions import do_import_alert_file
from crisp.console.alerts.convert import from_ns
from crisp.console.alerts.worker import AlertWorker, WorkerOptions
from crisp.console.alerts.worker_metrics import WorkerMetrics
from crisp.console.explore.backend import MetricsBackend, QueryRefused
from crisp.query.results import StatementResult
from tests.integration.alert_receivers import HTTPReceiver, http_receiver

pytestmark = pytest.mark.django_db

S = 1_000_000_000


class ScriptedBackend(MetricsBackend):
    """Answers every query with the p95 per service it is told (None: a query error)."""

    def __init__(self) -> None:
        self.values: Mapping[str, float] | None = {}
        self.queries: list[tuple[str, str | None]] = []

    def query(
        self, influxql: str, database: str | None, params: Mapping[str, Any] | None = None
    ) -> list[StatementResult]:
        self.queries.append((influxql, database))
        if self.values is None:
            raise QueryRefused("measurement not found")
        series = [
            {"name": "api_latency", "tags": {"service": s}, "columns": ["time", "p95"],
             "values": [[0, v]]}
            for s, v in self.values.items()
        ]  # fmt: skip
        return [{"statement_id": 0, "series": series}]  # type: ignore[list-item]


def alert_file(url: str) -> str:
    return f"""
channels:
  - {{name: hook, type: webhook, url: "{url}/hook"}}
alert_rules:
  - name: p95_high
    severity: critical
    threshold: 250
    duration: 0s
    interval: 1s
    database: metrics
    query: >-
      SELECT percentile(duration_ms, 95) FROM api_latency
      WHERE time > now() - 1m GROUP BY service
    notify: hook
    annotations: {{summary: "p95 of {{{{ labels.service }}}} is {{{{ value }}}} ms"}}
routes:
  - {{group_by: [alertname, service], group_wait: 0s, group_interval: 1s, repeat_interval: 1h}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = time.time_ns()

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * S)


@pytest.fixture
def hook() -> Iterator[HTTPReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def team(hook: HTTPReceiver) -> Team:
    team = Team.objects.create(name="Team A", slug="team-a")
    text = alert_file(hook.url)
    do_import_alert_file(team, load_alert_file(text), has_routes=True)
    return team


def make_worker(
    backend: MetricsBackend,
    clock: Clock,
    name: str = "w1",
    registry: CollectorRegistry | None = None,
) -> AlertWorker:
    return AlertWorker(
        lambda: backend,
        WorkerMetrics(registry or CollectorRegistry()),
        options=WorkerOptions(default_database="metrics"),
        name=name,
        clock=clock,
        environ={},
    )


def history() -> list[tuple[str, str, str]]:
    return [
        (t.tags.get("service", ""), t.from_state, t.to_state)
        for t in models.AlertTransition.objects.order_by("at", "id")
    ]


def test_fires_notifies_once_then_resolves(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    registry = CollectorRegistry()
    worker = make_worker(backend, clock, registry=registry)
    backend.values = {"api": 300.0, "web": 20.0}
    worker.tick()
    assert backend.queries[0][1] == "metrics"
    states = {i.tags["service"]: i.state for i in models.AlertInstance.objects.all()}
    assert states == {"api": "firing", "web": "normal"}
    (firing,) = hook.bodies()
    assert firing["status"] == "firing"
    assert firing["group_labels"] == {"alertname": "p95_high", "service": "api"}
    assert firing["alerts"][0]["annotations"]["summary"] == "p95 of api is 300 ms"

    for _ in range(3):  # still firing: nothing new until repeat_interval
        clock.advance(1)
        worker.tick()
    assert len(hook.requests) == 1

    backend.values = {"api": 20.0, "web": 20.0}
    clock.advance(1)
    worker.tick()
    clock.advance(1)
    worker.tick()
    bodies = hook.bodies()
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    assert bodies[1]["alerts"][0]["ends_at"] is not None
    assert history() == [("api", "normal", "firing"), ("api", "firing", "resolved"),
                         ("api", "resolved", "normal")]  # fmt: skip
    assert not models.NotificationGroup.objects.exists()  # resolved and sent: gone
    log = list(models.NotificationLog.objects.order_by("id").values_list("status", "ok"))
    assert log == [("firing", True), ("resolved", True)]
    rule = models.AlertRule.objects.get()
    assert rule.last_error == ""
    assert rule.last_eval_at == from_ns(clock.now)
    assert rule.next_eval_at is not None
    assert rule.next_eval_at > rule.last_eval_at
    assert registry.get_sample_value("crisp_alerting_rules_evaluated_total", {"result": "ok"}) == 6
    assert (
        registry.get_sample_value(
            "crisp_alerting_notifications_sent_total", {"channel_type": "webhook"}
        )
        == 2
    )
    assert registry.get_sample_value("crisp_alerting_instances", {"state": "normal"}) == 2


def test_a_rule_is_not_evaluated_before_its_next_slot(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    worker = make_worker(backend, clock)
    worker.tick()
    worker.tick()
    assert len(backend.queries) == 1
    assert 0 < worker.tick() <= 1.0


def test_silenced_alerts_are_recorded_but_not_sent(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    models.Silence.objects.create(
        team=team, matchers=["service=api"], starts_at=from_ns(clock.now - S),
        ends_at=from_ns(clock.now + 3600 * S), comment="deploy",
    )  # fmt: skip
    backend.values = {"api": 300.0, "web": 300.0}
    make_worker(backend, clock).tick()
    sent = [b["group_labels"]["service"] for b in hook.bodies()]
    assert sent == ["web"]
    silenced = dict(models.AlertTransition.objects.values_list("tags__service", "silenced"))
    assert silenced == {"api": True, "web": False}


def test_a_query_error_is_the_error_state_and_notifies(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    registry = CollectorRegistry()
    backend.values = None
    make_worker(backend, clock, registry=registry).tick()
    (instance,) = models.AlertInstance.objects.all()
    assert instance.state == "error"
    assert instance.error == "measurement not found"
    assert models.AlertRule.objects.get().last_error == "measurement not found"
    (body,) = hook.bodies()
    assert body["alerts"][0]["state"] == "error"
    assert (
        registry.get_sample_value("crisp_alerting_rules_evaluated_total", {"result": "error"}) == 1
    )


def test_two_workers_share_the_work_and_send_once(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    backend.values = {"api": 300.0}
    first, second = make_worker(backend, clock, "w1"), make_worker(backend, clock, "w2")
    for _ in range(3):
        first.tick()
        second.tick()
        clock.advance(1)
    assert len(hook.requests) == 1
    # One evaluation per slot of the rule (interval 1s), whichever worker runs it.
    assert len(backend.queries) == 3


def test_a_row_leased_by_another_worker_is_left_alone(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    models.AlertRule.objects.update(
        lease_owner="other", lease_until=from_ns(clock.now) + timedelta(seconds=30)
    )
    make_worker(backend, clock).tick()
    assert backend.queries == []
    clock.advance(31)  # the other worker died: its lease runs out
    make_worker(backend, clock).tick()
    assert len(backend.queries) == 1


def test_a_failing_receiver_is_visible_and_retried(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    hook.failures.extend([404])
    backend.values = {"api": 300.0}
    worker = make_worker(backend, clock)
    worker.tick()
    channel = models.Channel.objects.get()
    assert "HTTP 404" in channel.last_error
    assert channel.last_failure_at is not None
    assert hook.requests == []
    clock.advance(1)  # group_interval later the group is sent again
    worker.tick()
    assert len(hook.requests) == 1


def test_a_muted_route_sends_nothing_until_its_window_ends(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    route = models.Route.objects.get(team=team)
    # Muted for the rest of the current minute, in UTC.
    minute = (clock.now // (60 * S)) % (24 * 60)
    start, end = minute, minute + 1
    window = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    route.spec = {**route.spec, "mute": [{"times": [window]}]}
    route.save()
    backend.values = {"api": 300.0}
    worker = make_worker(backend, clock)
    worker.tick()
    assert hook.requests == []
    assert models.AlertInstance.objects.get().state == "firing"  # evaluated all the same
    clock.now = (clock.now // (60 * S) + 1) * 60 * S + S  # the next minute: window over
    worker.tick()
    assert [b["status"] for b in hook.bodies()] == ["firing"]


class BrokenBackend(ScriptedBackend):
    """Fails unexpectedly (not a BackendError) for one rule's query: a bug, say."""

    def query(
        self, influxql: str, database: str | None, params: Mapping[str, Any] | None = None
    ) -> list[StatementResult]:
        if "web" in influxql:
            raise RuntimeError("boom")
        return super().query(influxql, database, params)


def test_a_broken_rule_is_recorded_and_does_not_stop_the_others(
    team: Team, hook: HTTPReceiver
) -> None:
    backend, clock = BrokenBackend(), Clock()
    first = models.AlertRule.objects.get()
    broken_spec = {**first.spec, "name": "web_rule", "query": first.spec["query"] + ", web"}
    models.AlertRule.objects.create(team=team, name="web_rule", spec=broken_spec)
    backend.values = {"api": 300.0}
    make_worker(backend, clock).tick()
    broken = models.AlertRule.objects.get(name="web_rule")
    assert broken.last_error == "internal error: RuntimeError: boom"
    assert broken.lease_owner == ""
    assert broken.next_eval_at is not None
    assert len(hook.requests) == 1  # the healthy rule still fired and notified


def test_history_past_its_retention_is_pruned(team: Team, hook: HTTPReceiver) -> None:
    backend, clock = ScriptedBackend(), Clock()
    rule = models.AlertRule.objects.get()
    models.AlertRule.objects.update(enabled=False)  # only pruning happens in this tick
    old, recent = from_ns(clock.now - 40 * 86400 * S), from_ns(clock.now - 86400 * S)
    for at in (old, recent):
        models.AlertTransition.objects.create(
            rule=rule, from_state="normal", to_state="firing", at=at
        )
        log = models.NotificationLog.objects.create(
            channel_name="hook", status="firing", ok=True, attempts=1
        )
        models.NotificationLog.objects.filter(pk=log.pk).update(created=at)
    make_worker(backend, clock).tick()
    assert list(models.AlertTransition.objects.values_list("at", flat=True)) == [recent]
    assert list(models.NotificationLog.objects.values_list("created", flat=True)) == [recent]
