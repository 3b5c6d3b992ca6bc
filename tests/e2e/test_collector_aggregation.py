"""``crisp collector --collector-aggregation-file``: fewer, aggregated points at storage."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.crisp_process import QUIET, collector_stack, crisp, query_rows

pytestmark = pytest.mark.e2e

RULES = """\
rules:
  - measurement: hits
    window: 5s
    max_lateness: 5m
    fields:
      n: sum
      latency: max
"""


def query(storage_url: str, q: str) -> list[list[object]]:
    return query_rows(storage_url, "edge", q)


def test_points_are_summed_per_series_and_window_before_storage(tmp_path: Path) -> None:
    rules = tmp_path / "aggregation.yaml"
    rules.write_text(RULES)
    stack = collector_stack(
        tmp_path, "--writer-flush-interval", "100ms", "--collector-aggregation-file", str(rules)
    )
    storage_url, collector_url = stack.storage_url, stack.collector_url
    # Four whole 5 s windows that ended a minute ago: handed out at the first flush.
    start_s = (int(time.time()) // 5) * 5 - 60
    lines = [
        f"hits,svc={svc} n=1i,latency={i % 7} {start_s + i // 10}"
        for i in range(200)
        for svc in ("a", "b")
    ] + [f"plain,svc=a v={i} {start_s + i}" for i in range(10)]
    with (
        crisp(*stack.storage_args, env=QUIET) as storage,
        crisp(*stack.collector_args, env=QUIET) as collector,
    ):
        storage.wait_ready()
        collector.wait_ready()
        for chunk in range(0, len(lines), 50):
            body = "\n".join(lines[chunk : chunk + 50])
            response = httpx.post(
                f"{collector_url}/write", params={"db": "edge", "precision": "s"}, content=body
            )
            assert response.status_code == 204, response.text
        # Aggregated windows and the points of other measurements are delivered in
        # batches of their own, in either order: wait for both.
        deadline = time.monotonic() + 30
        sums: list[list[object]] = []
        plain: list[list[object]] = []
        while time.monotonic() < deadline:
            sums = query(storage_url, "SELECT sum(n) FROM hits WHERE time >= 0 GROUP BY svc")
            plain = query(storage_url, "SELECT count(v) FROM plain WHERE time >= 0")
            if [row[1] for row in sums] == [200, 200] and [row[1] for row in plain] == [10]:
                break
            time.sleep(0.3)
        assert [row[1] for row in sums] == [200, 200]
        # One point per series and window instead of 200 per series.
        rows = query(storage_url, "SELECT n, latency FROM hits WHERE time >= 0 GROUP BY svc")
        assert len(rows) == 8
        assert {row[1] for row in rows} == {50}
        assert {row[2] for row in rows} == {6.0}
        # A measurement without a rule arrives point by point.
        assert [row[1] for row in plain] == [10]
        metrics = httpx.get(f"{collector_url}/metrics").text
        assert 'crisp_collector_aggregation_points_total{outcome="aggregated"} 400.0' in metrics
        assert collector.stop() == 0
        assert storage.stop() == 0


def test_kill_9_with_open_windows_loses_and_doubles_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "aggregation.yaml"
    rules.write_text(RULES)
    stack = collector_stack(
        tmp_path, "--writer-flush-interval", "50ms", "--collector-aggregation-file", str(rules)
    )
    storage_url, collector_url = stack.storage_url, stack.collector_url
    # Points from 20 s ago to 3 s ahead: closed windows and windows still open.
    start_s = int(time.time()) - 20
    bodies = [
        "\n".join(f"hits,svc=a n=1i,latency=1 {start_s + (b + i) % 24}" for i in range(10))
        for b in range(20)
    ]

    def send(body: str) -> None:
        response = httpx.post(
            f"{collector_url}/write", params={"db": "edge", "precision": "s"}, content=body
        )
        assert response.status_code == 204, response.text

    with crisp(*stack.storage_args, env=QUIET) as storage:
        storage.wait_ready()
        with crisp(*stack.collector_args, env=QUIET) as collector:
            collector.wait_ready()
            for body in bodies[:10]:
                send(body)
            time.sleep(0.3)  # some windows handed out, some open in the checkpoint
            collector.stop(signal.SIGKILL)
        with crisp(*stack.collector_args, env=QUIET) as collector:
            collector.wait_ready()
            for body in bodies[10:]:
                send(body)
            deadline = time.monotonic() + 60
            total = 0
            while time.monotonic() < deadline:
                sums = query(storage_url, "SELECT sum(n) FROM hits WHERE time >= 0")
                total = int(str(sums[0][1])) if sums else 0
                if total >= 200:
                    break
                time.sleep(0.3)
            time.sleep(0.5)  # nothing more should come
            sums = query(storage_url, "SELECT sum(n) FROM hits WHERE time >= 0")
            assert sums[0][1] == 200
            assert len(query(storage_url, "SELECT n FROM hits WHERE time >= 0")) <= 6
            assert collector.stop() == 0
        assert storage.stop() == 0
