"""Rules evaluated in batches: the same states, history and notifications as one by one,
a failing query or a broken rule in a batch touches only its own rule, and rules that
share a query run it once per tick."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from crisp.alerting.rules import load_alert_file
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.actions import do_import_alert_file
from crisp.console.alerts.worker import AlertWorker, WorkerOptions
from crisp.console.alerts.worker_metrics import WorkerMetrics
from crisp.console.explore.backend import QueryRefused
from crisp.query.results import StatementResult
from tests.integration.alert_receivers import HTTPReceiver, http_receiver
from tests.unit.console.alerts.test_worker import Clock, ScriptedBackend

pytestmark = pytest.mark.django_db

# A ladder of three thresholds on one query, and two rules with queries of their own.
QUERY = "SELECT percentile(duration_ms, 95) FROM api_latency WHERE time > now() - 1m"
RULES = [
    ("p95_info", QUERY, 100, "0s"),
    ("p95_warning", QUERY, 250, "0s"),
    ("p95_critical", QUERY, 400, "2s"),
    ("p99_web", QUERY.replace("95", "99") + " AND service = 'web'", 250, "0s"),
    ("max_all", QUERY.replace("percentile(duration_ms, 95)", "max(duration_ms)"), 500, "1s"),
]


def rules_file(url: str) -> str:
    rules = "\n".join(
        f"  - {{name: {name}, threshold: {threshold}, duration: {duration}, interval: 1s, "
        f'database: metrics, notify: hook, query: "{query} GROUP BY service"}}'
        for name, query, threshold, duration in RULES
    )
    return f"""
channels:
  - {{name: hook, type: webhook, url: "{url}/hook"}}
alert_rules:
{rules}
routes:
  - {{group_by: [alertname, service], group_wait: 0s, group_interval: 1s, repeat_interval: 1h}}
"""


class PerQueryBackend(ScriptedBackend):
    """Values per service, scaled per query (p99 and max above p95); some queries refused."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    def query(
        self, influxql: str, database: str | None, params: Mapping[str, Any] | None = None
    ) -> list[StatementResult]:
        if any(word in influxql for word in self.refused):
            self.queries.append((influxql, database))
            raise QueryRefused("field not found")
        results = super().query(influxql, database, params)
        scale = 1.3 if "99" in influxql else 1.6 if "max" in influxql else 1.0
        for series in results[0]["series"]:
            series["values"] = [[0, v * scale] for _, v in series["values"]]
        return results


def run_scenario(hook: HTTPReceiver, options: WorkerOptions) -> dict[str, Any]:
    """Values over ten ticks that move every rule through its states; what was stored."""
    backend, clock = PerQueryBackend(), Clock()
    clock.now = 1_800_000_000 * 10**9
    worker = AlertWorker(
        lambda: backend,
        WorkerMetrics(CollectorRegistry()),
        options=options,
        name="w1",
        clock=clock,
        environ={},
    )
    steps: list[dict[str, float]] = [
        {"api": 50, "web": 50},
        {"api": 150, "web": 300},
        {"api": 300, "web": 450},
        {"api": 450, "web": 450},
        {"api": 450, "web": 450},
        {"api": 260},  # web's series vanishes: no data
        {"api": 260},
        {"api": 50, "web": 50},
        {"api": 50, "web": 50},
        {"api": 50, "web": 50},
    ]
    try:
        for values in steps:
            backend.values = values
            worker.tick()
            clock.advance(1)
    finally:
        worker.close()
    instances = sorted(
        (i.rule.name, tuple(sorted(i.tags.items())), i.state, i.since_ns, i.value, i.error)
        for i in models.AlertInstance.objects.select_related("rule")
    )
    history = [
        (t.rule.name, t.tags, t.from_state, t.to_state, t.at, t.value, t.labels, t.annotations)
        for t in models.AlertTransition.objects.select_related("rule").order_by(
            "at", "rule__name", "tags__service"
        )
    ]
    sent = sorted(
        (b["status"], b["group_labels"]["alertname"], b["group_labels"].get("service", ""))
        for b in hook.bodies()
    )
    rules = sorted(
        models.AlertRule.objects.values_list("name", "last_error", "last_eval_at", "next_eval_at")
    )
    return {"instances": instances, "history": history, "sent": sent, "rules": rules}


def reset() -> None:
    models.AlertInstance.objects.all().delete()
    models.AlertTransition.objects.all().delete()
    models.NotificationGroup.objects.all().delete()
    models.NotificationLog.objects.all().delete()
    models.AlertRule.objects.update(next_eval_at=None, last_eval_at=None, last_error="")


def test_batches_store_what_one_by_one_stores() -> None:
    team = Team.objects.create(name="Team A", slug="team-a")
    with http_receiver() as hook:
        do_import_alert_file(team, load_alert_file(rules_file(hook.url)), has_routes=True)
        one_by_one = run_scenario(hook, WorkerOptions("metrics", eval_batch=1, query_threads=1))
        reset()
        hook.requests.clear()
        batched = run_scenario(hook, WorkerOptions("metrics", eval_batch=50, query_threads=2))
    assert batched == one_by_one
    # The scenario did reach every kind of state, so the comparison says something.
    to_states = {row[3] for row in batched["history"]}
    assert {"pending", "firing", "resolved", "nodata", "normal"} <= to_states
    assert ("firing", "p95_critical", "web") in batched["sent"]


def test_a_refused_query_fails_only_its_rules_in_the_batch() -> None:
    team = Team.objects.create(name="Team A", slug="team-a")
    with http_receiver() as hook:
        do_import_alert_file(team, load_alert_file(rules_file(hook.url)), has_routes=True)
        backend, clock = PerQueryBackend(), Clock()
        backend.values = {"api": 300.0, "web": 450.0}
        backend.refused = {"max("}
        registry = CollectorRegistry()
        worker = AlertWorker(
            lambda: backend,
            WorkerMetrics(registry),
            options=WorkerOptions("metrics", eval_batch=50),
            clock=clock,
            environ={},
        )
        worker.tick()
        worker.close()
        errors = dict(models.AlertRule.objects.values_list("name", "last_error"))
        assert errors == {
            "p95_info": "",
            "p95_warning": "",
            "p95_critical": "",
            "p99_web": "",
            "max_all": "field not found",
        }
        states = {
            (i.rule.name, i.tags.get("service", "")): i.state
            for i in models.AlertInstance.objects.select_related("rule")
        }
        assert states[("max_all", "")] == "error"
        assert states[("p95_warning", "api")] == "firing"
        assert states[("p95_critical", "api")] == "normal"
        assert states[("p95_critical", "web")] == "pending"  # for: 2s
        assert not models.AlertRule.objects.exclude(lease_owner="").exists()  # all released
        ok = registry.get_sample_value("crisp_alerting_rules_evaluated_total", {"result": "ok"})
        failed = registry.get_sample_value(
            "crisp_alerting_rules_evaluated_total", {"result": "error"}
        )
        assert (ok, failed) == (4, 1)
        alertnames = {b["group_labels"]["alertname"] for b in hook.bodies()}
        assert {"p95_info", "p95_warning", "p99_web", "max_all"} == alertnames


def test_rules_on_one_query_run_it_once_a_tick() -> None:
    team = Team.objects.create(name="Team A", slug="team-a")
    do_import_alert_file(team, load_alert_file(rules_file("http://127.0.0.1:9")), has_routes=True)
    backend, clock = PerQueryBackend(), Clock()
    backend.values = {"api": 20.0}
    worker = AlertWorker(
        lambda: backend,
        WorkerMetrics(CollectorRegistry()),
        # This fake answers one aggregate per statement: no merged families.
        options=WorkerOptions("metrics", query_families=False),
        clock=clock,
        environ={},
    )
    worker.tick()
    worker.close()
    # Five rules, three distinct queries: the ladder's query ran once for its three rules.
    assert len(backend.queries) == 3
    assert worker.last_tick_queries == (5, 3, 3)
    assert models.AlertRule.objects.filter(last_eval_at__isnull=False).count() == 5
    # The ladder shares one slot, so its rules come due again together.
    ladder = models.AlertRule.objects.filter(name__startswith="p95_")
    assert len(set(ladder.values_list("next_eval_at", flat=True))) == 1
