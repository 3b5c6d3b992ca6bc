"""A worker behind schedule still reaches every rule: most overdue first, new rules first
of all (found by ``crisp bench alerts``: 5,000 new rules, the lowest ids ran again and
again while the others never ran)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from crisp.alerting.rules import load_alert_file
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.actions import do_import_alert_file
from crisp.console.alerts.worker import AlertWorker, WorkerOptions
from crisp.console.alerts.worker_metrics import WorkerMetrics
from tests.unit.console.alerts.test_worker import Clock, ScriptedBackend

pytestmark = pytest.mark.django_db

RULES = 5


def rules_file() -> str:
    rules = "\n".join(
        f"  - {{name: r{i}, threshold: 250, interval: 1s, query: 'SELECT max(duration_ms) "
        f"FROM api_latency WHERE time > now() - 1m GROUP BY service'}}"
        for i in range(RULES)
    )
    return f"alert_rules:\n{rules}\n"


def test_an_overloaded_worker_evaluates_every_rule_before_any_twice() -> None:
    team = Team.objects.create(name="Team A", slug="team-a")
    do_import_alert_file(team, load_alert_file(rules_file()), has_routes=False)
    backend, clock = ScriptedBackend(), Clock()
    backend.values = {"api": 20.0}
    worker = AlertWorker(
        lambda: backend,
        WorkerMetrics(CollectorRegistry()),
        options=WorkerOptions(default_database="metrics", batch=2),  # 2 rules a tick
        clock=clock,
        environ={},
    )
    evaluated: list[set[str]] = []
    for _ in range(3):
        worker.tick()
        clock.advance(10)  # every rule evaluated so far is overdue again
        ran = models.AlertRule.objects.filter(last_eval_at__isnull=False)
        evaluated.append(set(ran.values_list("name", flat=True)))
    worker.close()

    assert [len(names) for names in evaluated] == [2, 4, 5]
