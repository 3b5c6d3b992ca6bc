"""Alerting as a user runs it: ``crisp serve``, a rule imported with ``crisp alerts``,
api_latency points through the collector, a webhook that hears "firing" once and then
"resolved" once the points are back to normal."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import crisp, query_rows, run_crisp
from tests.integration.alert_receivers import HTTPReceiver, http_receiver

pytestmark = pytest.mark.e2e

ALERTS = """
channels:
  - {{name: oncall, type: webhook, url: "{url}/alerts", format: alertmanager}}
alert_rules:
  - name: checkout_p95_high
    severity: critical
    threshold: 250
    duration: 2s
    interval: 1s
    database: shop
    query: >-
      SELECT percentile(duration_ms, 95) FROM api_latency
      WHERE time > now() - 4s GROUP BY service
    notify: oncall
    no_data_state: ok  # between the two phases below a service may have no point
    annotations: {{summary: "p95 of {{{{ labels.service }}}} is {{{{ value }}}} ms"}}
routes:
  - {{match: {{severity: critical}}, group_by: [alertname, service], group_wait: 0s,
     group_interval: 1s, repeat_interval: 1h}}
"""


def send_until(
    collector: str, duration_ms: float, hook: HTTPReceiver, done: Callable[[], bool]
) -> None:
    """Write a point for checkout (and a quiet service) every 300 ms until ``done``."""
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, f"no notification in time: {hook.bodies()}"
        now = time.time_ns()
        body = (
            f"api_latency,service=checkout duration_ms={duration_ms} {now}\n"
            f"api_latency,service=search duration_ms=12 {now}\n"
        )
        response = httpx.post(f"{collector}/write", params={"db": "shop"}, content=body)
        assert response.status_code == 204, response.text
        time.sleep(0.3)


def has_points(storage: str) -> bool:
    q = "SELECT count(duration_ms) FROM api_latency WHERE time > now() - 1m"
    return bool(query_rows(storage, "shop", q))


def test_p95_rule_fires_once_then_resolves(tmp_path: Path) -> None:
    import os

    storage = f"http://127.0.0.1:{free_port()}"
    collector = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "CRISP_DATA_DIR": str(tmp_path / "data"),
        "CRISP_SPOOL_DIR": str(tmp_path / "spool"),
        "CRISP_LISTEN": storage.removeprefix("http://"),
        "CRISP_COLLECTOR_LISTEN": collector.removeprefix("http://"),
        "CRISP_CONSOLE_LISTEN": f"127.0.0.1:{free_port()}",
        "CRISP_WRITER_FLUSH_INTERVAL": "100ms",
        "CRISP_SECRET_KEY": "e2e-secret",
        "CRISP_LOG_LEVEL": "warning",
    }
    with http_receiver() as hook, crisp("serve", env=env) as server:
        server.wait_ready()
        created = httpx.post(f"{storage}/query", data={"q": "CREATE DATABASE shop"})
        assert created.status_code == 200, created.text
        run_crisp(
            "manage", "shell", "-c",
            "from crisp.console.accounts.models import Team; "
            "Team.objects.create(name='Payments', slug='payments')",
            env=env,
        )  # fmt: skip
        # Normal traffic first, so the rule's first evaluation finds the measurement.
        send_until(collector, 20.0, hook, lambda: has_points(storage))
        alert_file = tmp_path / "alerts.yaml"
        alert_file.write_text(ALERTS.format(url=hook.url))
        imported = run_crisp("alerts", "import", str(alert_file), "--team", "payments", env=env)
        assert "rules: 1 created" in imported.stdout

        send_until(collector, 900.0, hook, lambda: len(hook.requests) >= 1)
        (firing,) = hook.bodies()
        assert firing["status"] == "firing"
        assert [a["labels"]["service"] for a in firing["alerts"]] == ["checkout"]
        assert firing["alerts"][0]["annotations"]["summary"] == "p95 of checkout is 900 ms"

        send_until(collector, 20.0, hook, lambda: len(hook.requests) >= 2)
        time.sleep(3)  # long enough for a duplicate to show up, were one sent
        bodies = hook.bodies()
        assert [b["status"] for b in bodies] == ["firing", "resolved"]
        assert bodies[1]["alerts"][0]["labels"]["service"] == "checkout"
        assert bodies[1]["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"

        metrics = httpx.get(f"{storage}/metrics").text
        assert 'crisp_alerting_notifications_sent_total{channel_type="webhook"} 2.0' in metrics
        assert server.stop(signal.SIGTERM) == 0
