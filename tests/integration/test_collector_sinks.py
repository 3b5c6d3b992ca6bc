"""``crisp collector --sink URL`` against real InfluxDB 1.x and VictoriaMetrics.

The collector re-encodes batches as line protocol for any InfluxDB-compatible
``/write``: these tests check that what clients send in several protocols lands in
the real servers, with the database created where the server needs one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from crisp.bench.servers import running_server
from tests.conftest import free_port, require_binary
from tests.e2e.crisp_process import crisp

pytestmark = pytest.mark.integration

POINTS = 50


def send(collector_url: str) -> None:
    lines = "".join(
        f"load,host=h{i % 3},note=a\\ b seq={i}i,ratio={i / 7} {1_700_000_000_000_000_000 + i}\n"
        for i in range(POINTS)
    )
    response = httpx.post(f"{collector_url}/write", params={"db": "itest"}, content=lines)
    assert response.status_code == 204, response.text
    seed = [
        {"measurement": "seed", "tags": {"service": "api"}, "fields": {"seq": i},
         "timestamp": 1_700_000_000_000_000_000 + i}
        for i in range(POINTS)
    ]
    response = httpx.post(f"{collector_url}/api/v1/metrics", params={"db": "itest"}, json=seed)
    assert response.status_code == 202, response.text


def eventually(read: Callable[[], int], expected: int) -> int:
    deadline = time.monotonic() + 30
    value = read()
    while value < expected and time.monotonic() < deadline:
        time.sleep(0.3)
        value = read()
    return value




def test_influxdb_1x_sink(tmp_path: Path) -> None:
    require_binary("influxd", "apt-get install influxdb")
    with running_server("influxdb", tmp_path / "influx") as server:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = (
            "collector", "--listen", f"127.0.0.1:{port}", "--sink", server.url,
            "--spool-dir", str(tmp_path / "spool"), "--writer-flush-interval", "100ms",
        )
        with crisp(*args, env={"CRISP_LOG_LEVEL": "warning"}) as collector:
            collector.wait_ready()
            send(url)

            def count(measurement: str) -> int:
                response = httpx.get(
                    f"{server.url}/query",
                    params={"db": "itest", "q": f"SELECT count(seq) FROM {measurement}"},
                )
                series = response.json()["results"][0].get("series", [])
                return int(series[0]["values"][0][1]) if series else 0

            assert eventually(lambda: count("load"), POINTS) == POINTS
            assert eventually(lambda: count("seed"), POINTS) == POINTS
            tags = httpx.get(
                f"{server.url}/query",
                params={"db": "itest", "q": 'SHOW TAG VALUES FROM "load" WITH KEY = "note"'},
            ).json()["results"][0]["series"][0]["values"]
            assert tags == [["note", "a b"]]  # escapes survived the re-encoding
            collector.stop()


def test_victoriametrics_sink(tmp_path: Path) -> None:
    require_binary("victoria-metrics", "apt-get install victoria-metrics")
    with running_server("victoriametrics", tmp_path / "vm") as server:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = (
            "collector", "--listen", f"127.0.0.1:{port}", "--sink", server.url,
            "--spool-dir", str(tmp_path / "spool"), "--writer-flush-interval", "100ms",
        )
        with crisp(*args, env={"CRISP_LOG_LEVEL": "warning"}) as collector:
            collector.wait_ready()
            send(url)

            def samples(metric: str) -> int:
                httpx.get(f"{server.url}/internal/force_flush")
                response = httpx.get(
                    f"{server.url}/api/v1/export",
                    params={"match[]": f'{{__name__="{metric}",db="itest"}}'},
                )
                return sum(
                    len(httpx.Response(200, content=line).json()["values"])
                    for line in response.content.splitlines()
                    if line.strip()
                )

            # VictoriaMetrics names an Influx field <measurement>_<field>.
            assert eventually(lambda: samples("load_seq"), POINTS) == POINTS
            assert eventually(lambda: samples("seed_seq"), POINTS) == POINTS
            collector.stop()
