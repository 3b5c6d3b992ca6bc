"""The http sink sends Arrow to Crisp storage and line protocol to anything else."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from prometheus_client import CollectorRegistry

from crisp.collector.deadletter import DeadLetters
from crisp.collector.delivery import Delivery, DeliveryOptions
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import encode_record
from crisp.collector.sinks import SinkRejected, SinkUnavailable
from crisp.collector.spool import Spool
from crisp.collector.storage_sink import StorageHTTPSink
from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
from crisp.influxapi.app import create_app
from crisp.influxapi.context import APIContext
from crisp.storage.api import TimeRange
from crisp.storage.engine import Engine, EngineOptions
from tests.unit.collector.helpers import lp_batch


class RecordingApp(httpx.AsyncBaseTransport):
    """The real storage API in process, recording the paths each request used."""

    def __init__(self, engine: Engine, token: str = "") -> None:
        ctx = APIContext(storage=engine, registry=CollectorRegistry(), admin_token=token)
        self.asgi = httpx.ASGITransport(app=create_app(ctx))
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.asgi.handle_async_request(request)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path / "data", EngineOptions(background=False))
    yield engine
    engine.close()


def values(engine: Engine, database: str, measurement: str, column: str) -> list[Any]:
    with engine.snapshot(database, None, measurement, TimeRange()) as snap:
        found = snap.connection.execute(f'SELECT "{column}" FROM points ORDER BY time').fetchall()
    return [row[0] for row in found]


def run(sink: StorageHTTPSink, *writes: tuple[str, PointBatch]) -> list[int]:
    async def go() -> list[int]:
        try:
            return [await sink.write(db, None, batch) for db, batch in writes]
        finally:
            await sink.close()

    return asyncio.run(go())


def test_batches_go_to_crisp_storage_as_arrow_into_a_new_database(engine: Engine) -> None:
    app = RecordingApp(engine)
    sink = StorageHTTPSink("http://storage", transport=app)
    dropped = run(
        sink,
        ("metrics", lp_batch('cpu,host=a load=0.5,n=3i,ok=true,s="x" 10\nmem used=7u 20')),
        ("metrics", lp_batch("cpu,host=b load=1.5 30")),
    )
    assert dropped == [0, 0]
    assert sink.columnar
    # One probe; the first write finds no database, creates it and writes again.
    assert app.paths == [
        "/ping", "/api/crisp/write_arrow", "/query", "/api/crisp/write_arrow",
        "/api/crisp/write_arrow",
    ]  # fmt: skip
    assert values(engine, "metrics", "cpu", "load") == [0.5, 1.5]
    assert values(engine, "metrics", "cpu", "s") == ["x", None]
    assert values(engine, "metrics", "mem", "used") == [7]


def test_nan_is_delivered_not_dropped(engine: Engine) -> None:
    engine.create_database("db")
    schema = measurement_schema([], {"v": FieldType.FLOAT})
    table = pa.table({"time": [1, 2], "v": [math.nan, 2.0]}, schema=schema)
    sink = StorageHTTPSink("http://storage", transport=RecordingApp(engine))
    assert run(sink, ("db", PointBatch({"up": MeasurementBatch("up", table)}))) == [0]
    stored = values(engine, "db", "up", "v")
    assert math.isnan(stored[0])
    assert stored[1] == 2.0


def test_the_token_is_sent_with_arrow_writes(engine: Engine) -> None:
    engine.create_database("db")
    app = RecordingApp(engine, token="t0k")
    with pytest.raises(SinkRejected) as refused:
        run(StorageHTTPSink("http://storage", transport=app), ("db", lp_batch("m v=1 1")))
    assert refused.value.status == 401
    sink = StorageHTTPSink("http://storage", token="t0k", transport=app)
    assert run(sink, ("db", lp_batch("m v=1 1"))) == [0]
    assert values(engine, "db", "m", "v") == [1.0]


def test_a_partial_write_is_rejected_without_an_arrow_body(engine: Engine) -> None:
    engine.create_database("db")
    sink = StorageHTTPSink("http://storage", transport=RecordingApp(engine))
    with pytest.raises(SinkRejected) as refused:
        run(sink, ("db", lp_batch("m v=1 1")), ("db", lp_batch('m v="text" 2\nn w=3 3')))
    assert refused.value.status == 400
    assert "dropped=1" in refused.value.reason
    assert values(engine, "db", "n", "w") == [3.0]  # the rest of the batch is stored
    # Dead letters get line protocol (replayable anywhere), made by the delivery loop.
    assert refused.value.body is None


def fake_influx(
    requests: list[httpx.Request], answer: Callable[[httpx.Request], httpx.Response] | None = None
) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if answer is not None:
            return answer(request)
        return httpx.Response(204, headers={"X-Influxdb-Version": "1.8.10"})

    return httpx.MockTransport(handle)


def test_other_servers_get_line_protocol() -> None:
    requests: list[httpx.Request] = []
    sink = StorageHTTPSink("http://influx", transport=fake_influx(requests))
    assert run(sink, ("db", lp_batch("m,h=a v=1i 5")), ("db", lp_batch("m v=2i 6"))) == [0, 0]
    assert not sink.columnar
    assert [r.url.path for r in requests] == ["/ping", "/write", "/write"]
    assert requests[1].content == b"m,h=a v=1i 5\n"


def test_a_storage_without_the_endpoint_gets_line_protocol_from_then_on() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ping":
            return httpx.Response(204, headers={"X-Crisp-Columnar-Write": "/api/crisp/write_arrow"})
        if request.url.path == "/write":
            return httpx.Response(204)
        return httpx.Response(404, text="Not Found")

    sink = StorageHTTPSink("http://old", transport=fake_influx(requests, answer))
    assert run(sink, ("db", lp_batch("m v=1i 5")), ("db", lp_batch("m v=2i 6"))) == [0, 0]
    assert [r.url.path for r in requests] == [
        "/ping", "/api/crisp/write_arrow", "/write", "/write",
    ]  # fmt: skip


def test_a_header_naming_another_host_is_ignored() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204, headers={"X-Crisp-Columnar-Write": "//evil.example/w"})

    sink = StorageHTTPSink("http://s", transport=fake_influx(requests, answer))
    run(sink, ("db", lp_batch("m v=1i 5")))
    assert [r.url.path for r in requests] == ["/ping", "/write"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_storage_errors_are_retryable(status: int) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ping":
            return httpx.Response(204, headers={"X-Crisp-Columnar-Write": "/api/crisp/write_arrow"})
        return httpx.Response(status, json={"error": "busy"})

    sink = StorageHTTPSink("http://s", transport=fake_influx([], answer))
    with pytest.raises(SinkUnavailable):
        run(sink, ("db", lp_batch("m v=1i 5")))


def test_storage_down_at_the_probe_is_retryable_and_probed_again() -> None:
    requests: list[httpx.Request] = []
    up = False

    def answer(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(204)

    sink = StorageHTTPSink("http://s", transport=fake_influx(requests, answer))

    async def go() -> None:
        nonlocal up
        with pytest.raises(SinkUnavailable):
            await sink.write("db", None, lp_batch("m v=1i 5"))
        up = True
        assert await sink.write("db", None, lp_batch("m v=1i 5")) == 0
        await sink.close()

    asyncio.run(go())
    assert [r.url.path for r in requests] == ["/ping", "/ping", "/write"]


def test_delivery_through_the_arrow_sink_stores_every_spooled_point_once(
    tmp_path: Path, engine: Engine
) -> None:
    """Spool → delivery → Arrow → storage API → engine, records of several protocols'
    shapes, each point once."""
    app = RecordingApp(engine)

    async def go() -> None:
        spool = Spool(tmp_path / "spool", max_bytes=10_000_000)
        for start in range(0, 300, 100):
            text = "".join(f"load,w=a seq={i}i {i}\n" for i in range(start, start + 100))
            await spool.append(encode_record("db", None, lp_batch(text)))
        sink = StorageHTTPSink("http://storage", transport=app)
        delivery = Delivery(
            spool, sink, DeadLetters(tmp_path / "dead"), CollectorMetrics(CollectorRegistry()),
            DeliveryOptions(batch_size=150, flush_interval=0.05, drain_seconds=5),
        )  # fmt: skip
        delivery.start()
        for _ in range(200):
            if spool.size_bytes == 0:
                break
            await asyncio.sleep(0.02)
        await spool.close()
        await delivery.stop()
        await sink.close()

    asyncio.run(go())
    assert values(engine, "db", "load", "seq") == list(range(300))
    assert "/write" not in app.paths
