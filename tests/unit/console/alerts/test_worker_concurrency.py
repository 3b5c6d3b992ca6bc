"""Several workers at once on one database: every notification is sent exactly once.

Real threads, each with its own database connection, race for the same rules and
groups. Runs on PostgreSQL (tests/integration/test_alert_workers_postgres.py runs this
file with CRISP_DATABASE_URL); SQLite's test database lives in one connection's memory.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from prometheus_client import CollectorRegistry

from crisp.alerting.rules import load_alert_file
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.actions import do_import_alert_file
from crisp.console.alerts.worker import AlertWorker, WorkerOptions
from crisp.console.alerts.worker_metrics import WorkerMetrics
from tests.integration.alert_receivers import http_receiver
from tests.unit.console.alerts.test_worker import ScriptedBackend, alert_file

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4
RULES = 20


def test_many_workers_send_each_notification_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs a database shared by connections: run with CRISP_DATABASE_URL")
    with http_receiver() as hook:
        team = Team.objects.create(name="Team A", slug="team-a")
        text = alert_file(hook.url)
        do_import_alert_file(team, load_alert_file(text), has_routes=True)
        rule = models.AlertRule.objects.get()
        for i in range(1, RULES):
            models.AlertRule.objects.create(
                team=team, name=f"p95_high_{i}", spec={**rule.spec, "name": f"p95_high_{i}"}
            )
        backend = ScriptedBackend()
        backend.values = {"api": 300.0, "web": 400.0}
        start = threading.Barrier(WORKERS)
        now = time.time_ns()  # one instant for all: every rule is due for everyone
        registries = [CollectorRegistry() for _ in range(WORKERS)]

        def run(name: str, registry: CollectorRegistry) -> None:
            worker = AlertWorker(
                lambda: backend,
                WorkerMetrics(registry),
                # Small batches, so the workers' claims of several rows at once race.
                options=WorkerOptions(default_database="metrics", eval_batch=3),
                name=name,
                clock=lambda: now,
                environ={},
            )
            try:
                start.wait()
                for _ in range(3):
                    worker.tick()
            finally:
                worker.close()
                connections.close_all()

        threads = [
            threading.Thread(target=run, args=(f"w{i}", registries[i])) for i in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # 20 rules x 2 services, grouped by (alertname, service): 40 groups, each once.
        keys = [(b["group_labels"]["alertname"], b["group_labels"]["service"])
                for b in hook.bodies()]  # fmt: skip
        assert len(keys) == RULES * 2
        assert len(set(keys)) == RULES * 2
        evaluations = [
            r.get_sample_value("crisp_alerting_rules_evaluated_total", {"result": "ok"}) or 0
            for r in registries
        ]
        assert sum(evaluations) == RULES  # each rule evaluated once, by one worker
        # The rules share one query: a worker runs it once per tick, whatever it holds.
        assert 1 <= len(backend.queries) <= WORKERS * 3
        assert models.AlertTransition.objects.count() == RULES * 2
        assert models.NotificationLog.objects.filter(ok=True).count() == RULES * 2
