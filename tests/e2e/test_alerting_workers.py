"""Two ``crisp worker`` processes on one PostgreSQL database, reading a real ``crisp
storage`` over HTTP: the firing rule is notified exactly once."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, require_server
from tests.e2e.crisp_process import crisp, run_crisp
from tests.integration.alert_receivers import http_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HOST, PORT = "127.0.0.1", 5432
ALERTS = """
channels:
  - {{name: oncall, type: webhook, url: "{url}/alerts"}}
alert_rules:
  - name: checkout_p95_high
    severity: critical
    threshold: 250
    duration: 0s
    interval: 1s
    database: shop
    query: >-
      SELECT percentile(duration_ms, 95) FROM api_latency
      WHERE time > now() - 1h GROUP BY service
    notify: oncall
routes:
  - {{group_by: [alertname, service], group_wait: 0s, group_interval: 1s, repeat_interval: 1h}}
"""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_server("PostgreSQL", HOST, PORT)
    import psycopg

    name = f"crisp_alerts_{uuid.uuid4().hex[:12]}"
    admin = f"host={HOST} port={PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@{HOST}:{PORT}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_workers_send_one_notification(tmp_path: Path, postgres_url: str) -> None:
    storage = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "CRISP_DATA_DIR": str(tmp_path / "data"),
        "CRISP_DATABASE_URL": postgres_url,
        "CRISP_SECRET_KEY": "e2e-secret",
        "CRISP_METRICS_URL": storage,
        "CRISP_LOG_LEVEL": "warning",
    }
    storage_args = ("storage", "--data-dir", str(tmp_path / "tsdb"),
                    "--listen", storage.removeprefix("http://"))  # fmt: skip
    with http_receiver() as hook, crisp(*storage_args, env=env) as node:
        node.wait_ready()
        httpx.post(f"{storage}/query", data={"q": "CREATE DATABASE shop"}).raise_for_status()
        now = time.time_ns()
        points = "".join(
            f"api_latency,service={s} duration_ms={v} {now - i * 10**9}\n"
            for i in range(20)
            for s, v in (("checkout", 900), ("search", 12))
        )
        httpx.post(f"{storage}/write", params={"db": "shop"}, content=points).raise_for_status()
        run_crisp("manage", "migrate", env=env)
        run_crisp(
            "manage", "shell", "-c",
            "from crisp.console.accounts.models import Team; "
            "Team.objects.create(name='Payments', slug='payments')",
            env=env,
        )  # fmt: skip
        alert_file = tmp_path / "alerts.yaml"
        alert_file.write_text(ALERTS.format(url=hook.url))
        run_crisp("alerts", "import", str(alert_file), "--team", "payments", env=env)

        metrics_ports = [free_port(), free_port()]
        with ExitStack() as stack:
            workers = [
                stack.enter_context(
                    crisp("worker", "--worker-listen", f"127.0.0.1:{port}", env=env)
                )
                for port in metrics_ports
            ]
            for worker in workers:
                worker.wait_ready()
            deadline = time.monotonic() + 30
            while not hook.requests:
                assert time.monotonic() < deadline, "no notification within 30 s"
                time.sleep(0.2)
            time.sleep(4)  # a duplicate, if any, would arrive within a few group intervals
            (body,) = hook.bodies()
            assert body["status"] == "firing"
            assert [a["labels"]["service"] for a in body["alerts"]] == ["checkout"]

            sent = evaluated = 0.0
            for port in metrics_ports:
                health = httpx.get(f"http://127.0.0.1:{port}/health")
                assert health.json() == {"status": "pass"}
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                for line in text.splitlines():
                    if line.startswith("crisp_alerting_notifications_sent_total{channel_type="):
                        sent += float(line.rsplit(" ", 1)[1])
                    if line.startswith('crisp_alerting_rules_evaluated_total{result="ok"}'):
                        evaluated += float(line.rsplit(" ", 1)[1])
            assert sent == 1
            assert evaluated >= 2  # the rule kept being evaluated, by one worker or both
            for worker in workers:
                assert worker.stop(signal.SIGTERM) == 0
        node.stop()
