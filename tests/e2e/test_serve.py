"""``crisp serve`` as a user runs it: start, write, query, stop cleanly, restart."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import crisp

pytestmark = pytest.mark.e2e


def query(url: str, q: str, db: str = "") -> dict[str, object]:
    response = httpx.post(f"{url}/query", params={"db": db, "epoch": "s"}, data={"q": q})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_serve_prints_urls_keeps_acknowledged_points_across_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = (
        "serve",
        *("--data-dir", str(tmp_path / "data"), "--spool-dir", str(tmp_path / "spool")),
        *("--listen", f"127.0.0.1:{port}", "--collector-listen", f"127.0.0.1:{free_port()}"),
        *("--console-listen", f"127.0.0.1:{free_port()}"),
    )
    with crisp(*args) as server:
        server.wait_ready()
        assert any(url in line for line in server.output), server.output
        assert httpx.get(f"{url}/ping").status_code == 204
        query(url, "CREATE DATABASE shop")
        body = "api_latency,service=checkout duration_ms=42.5 1700000000\n" * 1
        body += "api_latency,service=cart duration_ms=7 1700000010\n"
        written = httpx.post(f"{url}/write", params={"db": "shop", "precision": "s"}, content=body)
        assert written.status_code == 204, written.text
        metrics = httpx.get(f"{url}/metrics").text
        assert "crisp_storage_points_written_total 2.0" in metrics
        assert 'crisp_http_requests_total{endpoint="write",status="204"} 1.0' in metrics
        assert server.stop(signal.SIGTERM) == 0

    with crisp(*args) as server:
        server.wait_ready()
        result = query(url, "SELECT duration_ms, service FROM api_latency WHERE time > 0", "shop")
        series = result["results"][0]["series"][0]  # type: ignore[index]
        assert series["values"] == [[1700000000, 42.5, "checkout"], [1700000010, 7.0, "cart"]]
        assert server.stop(signal.SIGINT) == 0


def test_serve_refuses_a_busy_port_with_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    args = (
        "serve",
        *("--data-dir", str(tmp_path / "d"), "--spool-dir", str(tmp_path / "s")),
        *("--listen", f"127.0.0.1:{port}", "--collector-listen", f"127.0.0.1:{free_port()}"),
        *("--console-listen", f"127.0.0.1:{free_port()}"),
    )
    with crisp(*args) as first:
        first.wait_ready()
        with crisp(
            "serve", "--data-dir", str(tmp_path / "d2"), "--listen", f"127.0.0.1:{port}"
        ) as second:
            assert second.process.wait(timeout=60) == 1
            output = "".join(second.output)
            assert f"cannot listen on 127.0.0.1:{port}" in output
            assert "Traceback" not in output
        first.stop()


def test_serve_collector_delivers_seed_json_into_the_same_storage(tmp_path: Path) -> None:
    port, collector_port = free_port(), free_port()
    url, collector = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{collector_port}"
    args = (
        "serve",
        "--data-dir", str(tmp_path / "data"),
        "--spool-dir", str(tmp_path / "spool"),
        "--listen", f"127.0.0.1:{port}",
        "--collector-listen", f"127.0.0.1:{collector_port}",
        "--console-listen", f"127.0.0.1:{free_port()}",
        "--writer-flush-interval", "100ms",
    )  # fmt: skip
    with crisp(*args) as server:
        server.wait_ready()
        assert any(collector in line for line in server.output), server.output
        point = {
            "measurement": "api_latency",
            "tags": {"service": "user-api", "host": "server-01"},
            "fields": {"duration_ms": 12.5},
            "timestamp": 1672531200000000000,
        }
        accepted = httpx.post(f"{collector}/api/v1/metrics", params={"db": "seed"}, json=point)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json() == {"message": "Metric accepted for batching"}
        deadline = time.monotonic() + 30
        while True:
            response = httpx.get(
                f"{url}/query",
                params={"db": "seed", "q": "SELECT duration_ms FROM api_latency WHERE time > 0"},
            )
            series = response.json()["results"][0].get("series")
            if series or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert series == [
            {
                "name": "api_latency",
                "columns": ["time", "duration_ms"],
                "values": [["2023-01-01T00:00:00Z", 12.5]],
            }
        ]
        assert server.stop() == 0
