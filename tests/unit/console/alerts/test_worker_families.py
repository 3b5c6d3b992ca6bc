"""Rules whose queries differ only in their aggregate, answered by one statement on the
real engine, end in exactly the states and values their own queries give them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from crisp.alerting.rules import load_alert_file
from crisp.console.accounts.models import Team
from crisp.console.alerts import models
from crisp.console.alerts.actions import do_import_alert_file
from crisp.console.alerts.worker import AlertWorker, WorkerOptions
from crisp.console.alerts.worker_metrics import WorkerMetrics
from crisp.console.explore.backend import InProcessBackend
from crisp.runtime.storage_node import parse_logged_lines
from crisp.storage.engine import Engine, EngineOptions
from tests.unit.console.alerts.test_worker import Clock

pytestmark = pytest.mark.django_db

WHERE = "WHERE time > now() - 5m GROUP BY service, endpoint"
CALLS = {
    "p10": "percentile(duration_ms, 10)",  # no rank in the one-point group: no series there
    "p50": "percentile(duration_ms, 50)",
    "p95": "percentile(duration_ms, 95)",
    "p99": "percentile(duration_ms, 99)",
    "mean": "mean(duration_ms)",
    "median": "median(duration_ms)",
    "max": "max(duration_ms)",
    "min": "min(duration_ms)",
    "count": "count(duration_ms)",
    "spread": "spread(duration_ms)",
    # One family on a string field: count works, mean is refused (its own error only).
    "count_note": "count(note)",
    "mean_note": "mean(note)",
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = Engine(tmp_path / "data", EngineOptions(background=False, parse_lines=parse_logged_lines))
    eng.create_database("metrics")
    now = time.time_ns()
    lines = []
    for i in range(40):
        for service, endpoint, scale in (("web", "/a", 1.0), ("api", "/a", 3.0)):
            value = scale * ((i * 37) % 41 + 1)
            lines.append(
                f"api_latency,service={service},endpoint={endpoint} duration_ms={value},"
                f'note="n{i}" {now - (i + 1) * 1_000_000_000}'
            )
    lines.append(f"api_latency,service=web,endpoint=/b duration_ms=5.5 {now - 2_000_000_000}")
    eng.write_lines("metrics", None, "\n".join(lines).encode(), "ns", now)
    yield eng
    eng.close()


def _run(engine: Engine, families: bool) -> tuple[dict[Any, Any], tuple[int, int, int]]:
    models.AlertInstance.objects.all().delete()
    models.AlertRule.objects.update(next_eval_at=None, last_eval_at=None)
    worker = AlertWorker(
        lambda: InProcessBackend(engine),
        WorkerMetrics(CollectorRegistry()),
        options=WorkerOptions("metrics", query_families=families),
        clock=Clock(),
        environ={},
    )
    worker.tick()
    worker.close()
    outcome = {
        (i.rule.name, tuple(sorted(i.tags.items()))): (i.state, i.value, i.error)
        for i in models.AlertInstance.objects.select_related("rule")
    }
    return outcome, worker.last_tick_queries


def test_a_family_answered_by_one_statement_matches_each_query_alone(engine: Engine) -> None:
    rules = "\n".join(
        f'  - {{name: {name}, threshold: 20, interval: 30s, query: "SELECT {call} '
        f'FROM api_latency {WHERE}"}}'
        for name, call in CALLS.items()
    )
    team = Team.objects.create(name="Team A", slug="team-a")
    do_import_alert_file(team, load_alert_file(f"alert_rules:\n{rules}\n"), has_routes=False)

    alone, alone_counts = _run(engine, families=False)
    merged, merged_counts = _run(engine, families=True)

    assert merged == alone
    # Every rule evaluated, firing where its value is above 20, some series without a p10.
    assert {name for name, _ in alone} == set(CALLS)
    assert alone[("max", (("endpoint", "/a"), ("service", "api")))][0] == "firing"
    assert ("p10", (("endpoint", "/b"), ("service", "web"))) not in alone
    assert alone[("mean_note", ())][0] == "error"
    assert alone[("count_note", (("endpoint", "/a"), ("service", "web")))] == ("firing", 40.0, "")
    # 12 queries: alone 12 statements; merged one per family (the string field's family
    # failed as one statement, then ran its two queries alone: not counted).
    assert alone_counts == (12, 12, 12)
    assert merged_counts == (12, 12, 2)
