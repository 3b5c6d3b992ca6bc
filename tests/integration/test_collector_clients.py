"""The collector against the real clients users point at it.

The official InfluxDB 1.x (``influxdb``) and 2.x (``influxdb-client``) Python clients,
OpenTelemetry's SDK with its OTLP/HTTP exporter, and a real Prometheus (Debian's
``prometheus``) scraping a target and remote-writing to the collector. Each test reads
what arrived back from a real ``crisp storage`` behind the collector: names, tags,
values and timestamps as the client sent them, through the collector's admin token
in each client's own credential form.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from influxdb import InfluxDBClient as InfluxDB1Client
from influxdb.exceptions import InfluxDBClientError
from influxdb_client.client.influxdb_client import InfluxDBClient as InfluxDB2Client
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from crisp.bench.servers import running_server
from tests.conftest import free_port, require_binary
from tests.e2e.crisp_process import crisp

pytestmark = pytest.mark.integration

TOKEN = "collector-admin-token"
BASE_S = 1_767_225_600  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Stack:
    collector_url: str
    storage_url: str

    def query(self, db: str, q: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.storage_url}/query", params={"db": db, "q": q}, timeout=10)
        response.raise_for_status()
        result = response.json()["results"][0]
        if "error" in result:  # the database does not exist yet: nothing delivered
            return []
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def rows(self, db: str, q: str, expected: int) -> list[dict[str, Any]]:
        """Rows of ``q`` as {column: value}, once there are ``expected`` of them."""
        deadline = time.monotonic() + 60
        while True:
            rows = [
                dict(zip(series["columns"], values, strict=True)) | series.get("tags", {})
                for series in self.query(db, q)
                for values in series["values"]
            ]
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.3)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("collector-clients")
    with running_server("crisp", root / "storage") as storage:
        port = free_port()
        args = (
            "collector", "--listen", f"127.0.0.1:{port}", "--sink", storage.url,
            "--spool-dir", str(root / "spool"), "--writer-flush-interval", "50ms",
        )  # fmt: skip
        env = {"CRISP_LOG_LEVEL": "warning", "CRISP_ADMIN_TOKEN": TOKEN}
        with crisp(*args, env=env) as collector:
            collector.wait_ready()
            yield Stack(f"http://127.0.0.1:{port}", storage.url)
            assert collector.stop() == 0


def by_tag(rows: list[dict[str, Any]], tag: str) -> dict[str, dict[str, Any]]:
    return {row[tag]: row for row in rows}


def test_influxdb_1x_client_writes_through_the_collector(stack: Stack) -> None:

    host, port = stack.collector_url.removeprefix("http://").split(":")
    # u/p query parameters, as the 1.x client sends credentials; gzip bodies.
    client = InfluxDB1Client(
        host=host, port=int(port), username="writer", password=TOKEN, database="v1db", gzip=True
    )
    points = [
        {
            "measurement": "cpu",
            "tags": {"host": f"h{i}", "region": "eu west"},
            "fields": {"usage": i / 4, "cores": i, "ok": i % 2 == 0, "note": f"n{i}"},
            "time": BASE_S + i,
        }
        for i in range(4)
    ]
    assert client.write_points(points, time_precision="s", batch_size=2)
    rows = stack.rows("v1db", "SELECT * FROM cpu WHERE time >= 0", 4)
    assert sorted(rows, key=lambda row: str(row["host"])) == [
        {
            "time": datetime.fromtimestamp(BASE_S + i, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "host": f"h{i}",
            "region": "eu west",
            "usage": i / 4,
            "cores": i,
            "ok": i % 2 == 0,
            "note": f"n{i}",
        }
        for i in range(4)
    ]
    # A wrong password is refused, as InfluxDB refuses it.
    intruder = InfluxDB1Client(host=host, port=int(port), username="x", password="wrong")
    with pytest.raises(InfluxDBClientError) as refused:
        intruder.write_points(points, database="v1db")
    assert refused.value.code == 401


def test_influxdb_2x_client_writes_to_a_bucket_through_the_collector(stack: Stack) -> None:

    # Authorization: Token …, bucket "db/rp" as InfluxDB 1.8's v2 compatibility API.
    with InfluxDB2Client(
        url=stack.collector_url, token=TOKEN, org="crisp", enable_gzip=True
    ) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        write.write(
            bucket="v2db/autogen",
            record=[
                Point("requests")
                .tag("service", service)
                .field("count", n)
                .field("latency", n * 1.5)
                .time(BASE_S * 1000 + n, WritePrecision.MS)
                for n, service in enumerate(["api", "web", "worker"], start=1)
            ],
            write_precision=WritePrecision.MS,
        )
        write.write(bucket="v2db", record="requests,service=batch count=9i,latency=0.5")
    rows = stack.rows("v2db", "SELECT count, latency FROM requests WHERE time >= 0", 4)
    found = by_tag(
        stack.rows("v2db", "SELECT count, latency FROM requests WHERE time >= 0 GROUP BY *", 4),
        "service",
    )
    assert len(rows) == 4
    assert {name: (row["count"], row["latency"]) for name, row in found.items()} == {
        "api": (1, 1.5), "web": (2, 3.0), "worker": (3, 4.5), "batch": (9, 0.5),
    }  # fmt: skip
    assert found["web"]["time"] == "2026-01-01T00:00:00.002Z"


def test_opentelemetry_sdk_exports_gauges_sums_and_histograms(stack: Stack) -> None:

    exporter = OTLPMetricExporter(
        endpoint=f"{stack.collector_url}/v1/metrics?db=otel",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    # A long interval: the test exports once, explicitly, on shutdown.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        metric_readers=[reader], resource=Resource.create({"service.name": "checkout"})
    )
    meter = provider.get_meter("crisp-test")
    orders = meter.create_counter("orders")
    orders.add(3, {"region": "eu"})
    orders.add(2, {"region": "eu"})
    orders.add(7, {"region": "us"})
    in_flight = meter.create_up_down_counter("in_flight")
    in_flight.add(5)
    in_flight.add(-2)
    temperature = meter.create_gauge("room.temperature")
    temperature.set(21.5, {"room": "lab"})
    latency = meter.create_histogram("latency", unit="ms")
    for value in (3, 7, 40, 40, 400):
        latency.record(value)
    provider.shutdown()  # exports what was recorded

    q = "SELECT last(value) FROM {} WHERE time >= 0 GROUP BY *"
    orders_rows = by_tag(stack.rows("otel", q.format("orders"), 2), "region")
    assert {region: row["last"] for region, row in orders_rows.items()} == {"eu": 5, "us": 7}
    assert {row["service.name"] for row in orders_rows.values()} == {"checkout"}
    assert [row["last"] for row in stack.rows("otel", q.format("in_flight"), 1)] == [3]
    gauge = stack.rows("otel", q.format('"room.temperature"'), 1)
    assert [(row["room"], row["last"]) for row in gauge] == [("lab", 21.5)]
    assert [row["last"] for row in stack.rows("otel", q.format("latency_count"), 1)] == [5.0]
    assert [row["last"] for row in stack.rows("otel", q.format("latency_sum"), 1)] == [490.0]
    buckets = by_tag(stack.rows("otel", q.format("latency_bucket"), 16), "le")
    # Cumulative counts per upper bound, as Prometheus stores a histogram.
    assert buckets["5"]["last"] == 1.0
    assert buckets["10"]["last"] == 2.0
    assert buckets["50"]["last"] == 4.0
    assert buckets["500"]["last"] == 5.0
    assert buckets["+Inf"]["last"] == 5.0


class MetricsTarget(http.server.BaseHTTPRequestHandler):
    """A scrape target: two series in the Prometheus text format."""

    body = (
        b"# TYPE app_requests_total counter\n"
        b'app_requests_total{path="/a"} 42\n'
        b'app_requests_total{path="/b"} 7\n'
        b"# TYPE app_temperature_celsius gauge\n"
        b"app_temperature_celsius 21.5\n"
    )

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scrape_target() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MetricsTarget)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["{target}"]
remote_write:
  - url: "{collector}/api/v1/write?db=prom"
    authorization:
      credentials: "{token}"
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
"""


@pytest.fixture
def prometheus(stack: Stack, scrape_target: str, tmp_path: Path) -> Iterator[str]:
    require_binary("prometheus", "apt-get install prometheus")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        PROMETHEUS_CONFIG.format(target=scrape_target, collector=stack.collector_url, token=TOKEN)
    )
    listen = f"127.0.0.1:{free_port()}"
    log_path = tmp_path / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address={listen}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: ready(f"http://{listen}/-/ready"), process, log_path)
            yield scrape_target
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"prometheus did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def test_prometheus_scrapes_and_remote_writes_through_the_collector(
    stack: Stack, prometheus: str
) -> None:
    q = "SELECT last(value) FROM {} WHERE time >= 0 GROUP BY *"
    requests = by_tag(stack.rows("prom", q.format("app_requests_total"), 2), "path")
    assert {path: row["last"] for path, row in requests.items()} == {"/a": 42.0, "/b": 7.0}
    # Prometheus's target labels arrive as tags.
    assert {(row["job"], row["instance"]) for row in requests.values()} == {("app", prometheus)}
    temperature = stack.rows("prom", q.format("app_temperature_celsius"), 1)
    assert [row["last"] for row in temperature] == [21.5]
    # And Prometheus's own series about the scrape.
    up = stack.rows("prom", q.format("up"), 1)
    assert [(row["instance"], row["last"]) for row in up] == [(prometheus, 1.0)]
