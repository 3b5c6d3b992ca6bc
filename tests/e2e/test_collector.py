"""``crisp collector`` in front of a real ``crisp storage``, both as real processes.

What a user relies on: points sent to the collector reach storage once; while storage
is down the collector keeps acknowledging (from its spool) and, once storage is back,
every acknowledged point arrives, exactly once; a collector killed with SIGKILL
mid-load delivers every acknowledged point after its restart.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import QUIET, ProcessStack, crisp, query_rows

pytestmark = pytest.mark.e2e


class Stack(ProcessStack):
    def count(self, db: str, measurement: str, where: str = "") -> int:
        condition = f"{where} AND time >= 0" if where else "time >= 0"
        q = f"SELECT count(seq) FROM {measurement} WHERE {condition}"
        rows = query_rows(self.storage_url, db, q)
        return int(rows[0][1]) if rows else 0

    def wait_count(self, db: str, measurement: str, expected: int, where: str = "") -> int:
        deadline = time.monotonic() + 60
        count = self.count(db, measurement, where)
        while count < expected and time.monotonic() < deadline:
            time.sleep(0.2)
            count = self.count(db, measurement, where)
        return count


def lp_body(start: int, n: int, writer: str = "w0") -> bytes:
    return "".join(
        f"load,writer={writer} seq={i}i {1_000_000_000 + i}\n" for i in range(start, start + n)
    ).encode()


def json_points(start: int, n: int) -> list[dict[str, object]]:
    return [
        {
            "measurement": "seed",
            "tags": {"service": "user-api"},
            "fields": {"seq": i},
            "timestamp": 2_000_000_000 + i,
        }
        for i in range(start, start + n)
    ]


def test_points_reach_storage_once_and_survive_a_storage_outage(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    sent_lp = sent_json = 0
    with stack.collector():
        with stack.storage():
            response = client.post("/write", params={"db": "e2e"}, content=lp_body(0, 100))
            assert response.status_code == 204, response.text
            response = client.post("/api/v1/metrics", params={"db": "e2e"}, json=json_points(0, 10))
            assert response.status_code == 202
            assert response.json() == {"message": "Metric accepted for batching"}
            sent_lp, sent_json = 100, 10
            assert stack.wait_count("e2e", "load", sent_lp) == sent_lp
            assert stack.wait_count("e2e", "seed", sent_json) == sent_json

        # Storage is down: the collector still acknowledges, from its spool.
        for batch in range(5):
            response = client.post(
                "/write", params={"db": "e2e"}, content=lp_body(sent_lp, 50)
            )
            assert response.status_code == 204, response.text
            sent_lp += 50
            response = client.post(
                "/api/v1/metrics", params={"db": "e2e"}, json=json_points(sent_json, 5)
            )
            assert response.status_code == 202, (batch, response.text)
            sent_json += 5
        health = client.get("/health").json()
        assert health["spool_bytes"] > 0

        with stack.storage():
            assert stack.wait_count("e2e", "load", sent_lp) == sent_lp
            assert stack.wait_count("e2e", "seed", sent_json) == sent_json
            time.sleep(0.5)  # nothing more arrives: exactly once
            assert stack.count("e2e", "load") == sent_lp
            assert stack.count("e2e", "seed") == sent_json
            metrics = client.get("/metrics").text
            assert "crisp_collector_sink_retries_total" in metrics
    client.close()


WRITERS = 3
LINES_PER_BODY = 100


def test_kill_9_of_the_collector_mid_load_loses_no_acknowledged_point(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    acknowledged = dict.fromkeys(range(WRITERS), 0)  # bodies acknowledged, in order
    stop = threading.Event()

    def writer(index: int) -> None:
        with httpx.Client(base_url=stack.collector_url, timeout=10) as client:
            batch = 0
            while not stop.is_set():
                body = lp_body(batch * LINES_PER_BODY, LINES_PER_BODY, writer=f"w{index}")
                try:
                    response = client.post("/write", params={"db": "k"}, content=body)
                except httpx.HTTPError:
                    return  # the collector died under us: this body was not acknowledged
                if response.status_code != 204:
                    return
                batch += 1
                acknowledged[index] = batch

    with stack.storage():
        with stack.collector() as collector:
            threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while sum(acknowledged.values()) < 30 and time.monotonic() < deadline:
                time.sleep(0.02)
            collector.process.send_signal(signal.SIGKILL)
            collector.process.wait(timeout=30)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert sum(acknowledged.values()) >= 30, "the load never got going"

        with stack.collector():
            for index, bodies in acknowledged.items():
                expected = bodies * LINES_PER_BODY
                count = stack.wait_count("k", "load", expected, where=f"writer = 'w{index}'")
                # Every acknowledged point is there; a body in flight at the kill may be too.
                assert count >= expected, (index, count, expected)
                assert count % LINES_PER_BODY == 0, "a body was delivered partly"


def test_embedded_sink_and_graceful_shutdown(tmp_path: Path) -> None:
    """``--sink embedded``: SIGTERM drains the spool into the engine before exit."""
    port = free_port()
    data = tmp_path / "data"
    args = (
        "collector", "--listen", f"127.0.0.1:{port}", "--sink", "embedded",
        "--data-dir", str(data), "--spool-dir", str(tmp_path / "spool"),
        # Longer than the test: only the shutdown flush can deliver these points.
        "--writer-flush-interval", "1h",
    )
    with crisp(*args, env=QUIET) as collector:
        collector.wait_ready()
        url = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{url}/write?db=emb", content=lp_body(0, 20)).status_code == 204
        response = httpx.post(f"{url}/api/v1/metrics?db=emb", json=json_points(0, 3))
        assert response.status_code == 202
        assert collector.stop(signal.SIGTERM) == 0

    stack = Stack(tmp_path)
    with stack.storage():
        assert stack.count("emb", "load") == 20
        assert stack.count("emb", "seed") == 3


def test_full_spool_answers_429_and_keeps_every_acknowledged_point(tmp_path: Path) -> None:
    """Storage down, spool capped: 429 + Retry-After, never an ack it cannot keep."""
    stack = Stack(tmp_path)
    stack.collector_args = (*stack.collector_args, "--spool-max-bytes", "60000")
    acknowledged = 0
    with stack.collector():
        client = httpx.Client(base_url=stack.collector_url, timeout=10)
        for batch in range(200):
            body = lp_body(batch * 20, 20)
            response = client.post("/write", params={"db": "cap"}, content=body)
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) > 0
                break
            assert response.status_code == 204, response.text
            acknowledged += 20
        else:
            pytest.fail("the spool never filled up")
        assert acknowledged > 0
        with stack.storage():
            assert stack.wait_count("cap", "load", acknowledged) == acknowledged
            # Delivered data leaves the spool: writes are accepted again.
            deadline = time.monotonic() + 30
            status = 429
            while status == 429 and time.monotonic() < deadline:
                status = client.post(
                    "/write", params={"db": "cap"}, content=lp_body(10_000, 20)
                ).status_code
                time.sleep(0.1)
            assert status == 204
        client.close()
