"""A real load over HTTP into a small counting server: every line arrives exactly once."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from granian.constants import Interfaces
from granian.server.embed import Server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisp.bench.bodies import split_bodies
from crisp.bench.bodyfile import read_data_file
from crisp.bench.dataset import DatasetSpec
from crisp.bench.generate import generate_batches
from crisp.bench.loader import LoadPlan, run_load
from crisp.bench.targets import write_path, write_route
from crisp.cli.main import main
from tests.conftest import free_port

OTHER_PATHS = ("/api/v1/metrics", "/api/v1/write", "/v1/metrics")


@dataclass
class Received:
    lines: Counter[bytes] = field(default_factory=Counter)
    queries: list[str] = field(default_factory=list)
    fail_every: int = 0  # answer 500 to every n-th request, to test error counting
    requests: int = 0
    # Non-line-protocol requests: (path, Content-Type, Content-Encoding, body).
    others: list[tuple[str, str, str, bytes]] = field(default_factory=list)


def counting_app(received: Received) -> Starlette:
    async def write(request: Request) -> Response:
        received.requests += 1
        received.queries.append(request.url.query)
        if received.fail_every and received.requests % received.fail_every == 0:
            return Response('{"error":"injected"}', status_code=500)
        received.lines.update((await request.body()).splitlines())
        return Response(status_code=204)

    async def query(request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = parse_qs((await request.body()).decode())
        received.queries.append(form["q"][0])
        series = [{"name": "cpu", "columns": ["time", "v"], "values": [[0, 1], [1, 2]]}]
        return JSONResponse({"results": [{"statement_id": 0, "series": series}]})

    async def other(request: Request) -> Response:
        received.queries.append(request.url.query)
        headers = request.headers
        received.others.append(
            (
                request.url.path,
                headers.get("content-type", ""),
                headers.get("content-encoding", ""),
                await request.body(),
            )
        )
        return Response(status_code=204)

    return Starlette(
        routes=[
            *(Route(path, other, methods=["POST"]) for path in OTHER_PATHS),
            Route("/write", write, methods=["POST"]),
            Route("/query", query, methods=["POST"]),
        ]
    )


@pytest.fixture
def server() -> Iterator[tuple[str, Received]]:
    received = Received()
    port = free_port()
    loop = asyncio.new_event_loop()
    http = Server(
        counting_app(received),
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        log_enabled=False,
    )
    thread = threading.Thread(target=loop.run_until_complete, args=(http.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", received
    loop.call_soon_threadsafe(http.stop)
    thread.join(timeout=10)


def dataset() -> bytes:
    spec = DatasetSpec(hosts=10, duration_ns=300 * 10**9)  # 300 lines
    return b"".join(generate_batches(spec, 1000))


@pytest.mark.parametrize(("client", "processes"), [("raw", 1), ("httpx", 1), ("raw", 2)])
def test_every_line_arrives_exactly_once(
    server: tuple[str, Received], client: str, processes: int
) -> None:
    url, received = server
    data = dataset()
    bodies = split_bodies(data, 17)
    plan = LoadPlan(
        url, write_path("crisp", "bench"), connections=3, processes=processes, client=client
    )
    seen: list[int] = []
    result = run_load(plan, bodies, seen.append)
    sent = data.splitlines()
    assert len(sent) == 300
    assert received.lines == Counter(sent)
    assert result.lines == result.lines_sent == 300
    assert result.values == 3000
    assert result.requests == len(bodies) == 18
    assert result.errors_by_status == {}
    assert result.latency.count == 18
    assert result.ack_latency is None
    assert seen[-1] == 300
    assert result.client_cpu_s > 0
    assert set(received.queries) == {"db=bench&precision=ns"}


def test_errors_are_counted_by_status(server: tuple[str, Received]) -> None:
    url, received = server
    received.fail_every = 3
    bodies = split_bodies(dataset(), 10)
    result = run_load(LoadPlan(url, "/write?db=x", connections=1), bodies)
    assert result.errors_by_status == {"500": 10}
    assert result.lines == 200
    assert sum(received.lines.values()) == 200


def test_paced_load_reports_acknowledgement_latency(server: tuple[str, Received]) -> None:
    url, _ = server
    bodies = split_bodies(dataset(), 50)  # 6 bodies of 500 values
    started = time.perf_counter()
    result = run_load(LoadPlan(url, "/write?db=x", connections=2, rate=10_000.0), bodies)
    # The last body is due 0.25 s in: pacing, not the server, sets the duration.
    assert time.perf_counter() - started >= 0.25
    assert result.ack_latency is not None
    assert result.ack_latency.count == 6


def test_connection_errors_are_counted() -> None:
    bodies = split_bodies(dataset(), 100)
    result = run_load(LoadPlan(f"http://127.0.0.1:{free_port()}", "/write", connections=1), bodies)
    assert result.errors_by_status == {"connection": 3}
    assert result.lines == 0


def test_load_and_query_commands(server: tuple[str, Received], tmp_path: Path) -> None:
    url, received = server
    data = tmp_path / "cpu.lp"
    assert main(["bench", "generate", "--hosts", "5", "--duration", "10m", "-o", str(data)]) == 0
    out = tmp_path / "load.json"
    status = main(
        [
            "bench",
            "load",
            "--url",
            url,
            "--target",
            "influxdb",
            "--db",
            "d",
            "--file",
            str(data),
            "--batch",
            "100",
            "--connections",
            "2",
            "--create-db",
            "--json-out",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0
    assert received.queries[0] == 'CREATE DATABASE "d"'
    assert sorted(received.lines.elements()) == sorted(data.read_bytes().splitlines())
    result = json.loads(out.read_text())
    assert result["batch"] == 100
    assert result["result"]["lines_acknowledged"] == 300
    assert result["result"]["values_acknowledged"] == 3000
    assert result["result"]["latency_ms"]["count"] == 3
    assert result["result"]["ack_latency_ms"] is None

    out = tmp_path / "query.json"
    status = main(
        [
            "bench",
            "query",
            "--url",
            url,
            "--target",
            "crisp",
            "--db",
            "d",
            "--runs",
            "2",
            "--json-out",
            str(out),
        ]
    )
    assert status == 0
    timings = json.loads(out.read_text())["queries"]
    assert [(t["name"], t["runs"], t["points"]) for t in timings] == [
        ("Q1", 2, 2),
        ("Q2", 2, 2),
        ("Q3", 2, 2),
    ]
    assert received.queries[-1].startswith("SELECT percentile(usage_user, 95) FROM cpu")


@pytest.mark.parametrize(
    ("format_name", "path", "content_type", "encoding"),
    [
        ("json", "/api/v1/metrics", "application/json", ""),
        ("remote-write", "/api/v1/write", "application/x-protobuf", "snappy"),
        ("otlp", "/v1/metrics", "application/x-protobuf", ""),
    ],
)
def test_prebuilt_formats_go_to_their_endpoint_unchanged(
    server: tuple[str, Received],
    tmp_path: Path,
    format_name: str,
    path: str,
    content_type: str,
    encoding: str,
) -> None:
    url, received = server
    data = tmp_path / "data"
    generate = ["bench", "generate", "--hosts", "3", "--duration", "5m", "--batch", "40"]
    assert main([*generate, "--format", format_name, "-o", str(data)]) == 0
    bodies = read_data_file(data, None).bodies
    out = tmp_path / "load.json"
    load = ["bench", "load", "--url", url, "--target", "crisp", "--file", str(data)]
    assert main([*load, "--db", "d", "--no-progress", "--json-out", str(out)]) == 0
    assert sorted(r[3] for r in received.others) == sorted(b.data for b in bodies)
    assert {r[:3] for r in received.others} == {(path, content_type, encoding)}
    result = json.loads(out.read_text())
    assert result["format"] == format_name
    assert result["batch"] == 40
    assert result["result"]["lines_acknowledged"] == 90  # 3 hosts x 30 steps
    assert result["result"]["values_acknowledged"] == sum(b.values for b in bodies) == 900
    assert set(received.queries) == {"db=d"}


@pytest.mark.parametrize(
    ("target", "format_name", "message"),
    [
        ("influxdb", "json", "--target influxdb cannot take --format json: InfluxDB 1.x"),
        ("influxdb", "remote-write", "InfluxDB 1.x takes line protocol only"),
        ("victoriametrics", "otlp", "VictoriaMetrics 1.79 takes line protocol and remote-write"),
        ("victoriametrics", "json", "cannot take --format json"),
    ],
)
def test_a_format_the_target_cannot_take_is_refused_before_sending(
    target: str, format_name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    generate = ["bench", "generate", "--hosts", "1", "--duration", "1m", "--format", format_name]
    assert main([*generate, "-o", str(data)]) == 0
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: nothing may be sent
    assert main(["bench", "load", "--url", url, "--target", target, "--file", str(data)]) == 2
    assert message in capsys.readouterr().err


def test_routes_per_target_and_format() -> None:
    assert write_route("victoriametrics", "remote-write", "b").path == "/api/v1/write?db=b"
    assert write_route("influxdb", "lp", "b").path == "/write?db=b&precision=ns"
    route = write_route("crisp", "otlp", "b")
    assert route.path == "/v1/metrics?db=b"
    assert dict(route.headers) == {"Content-Type": "application/x-protobuf"}
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        write_route("crisp", "csv", "b")
