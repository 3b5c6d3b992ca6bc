import asyncio
from pathlib import Path

import httpx
import pytest

from crisp.collector.deadletter import DeadLetters
from crisp.collector.replay import replay_dead_letters
from crisp.collector.sinks import EmbeddedSink, HTTPSink, SinkRejected, SinkUnavailable
from crisp.storage.engine import Engine, EngineOptions
from tests.unit.collector.helpers import lp_batch


class FakeInflux:
    """An InfluxDB-like /write and /query that answers as told and records requests."""

    def __init__(self, *statuses: int, known: set[str] | None = None) -> None:
        self.statuses = list(statuses)
        self.known = known if known is not None else {"db"}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/query":
            self.known.add(request.url.params["q"].split('"')[1])
            return httpx.Response(200, json={"results": [{"statement_id": 0}]})
        if request.url.params["db"] not in self.known:
            return httpx.Response(404, json={"error": 'database not found: "x"'})
        status = self.statuses.pop(0) if self.statuses else 204
        if status == 204:
            return httpx.Response(204)
        return httpx.Response(status, json={"error": f"told to answer {status}"})


def write(fake: FakeInflux, database: str = "db", token: str = "") -> None:
    async def go() -> None:
        sink = HTTPSink("http://sink", token=token, transport=httpx.MockTransport(fake))
        try:
            await sink.write(database, "rp1", lp_batch("m,h=a v=1i 5"))
        finally:
            await sink.close()

    asyncio.run(go())


def test_http_sink_posts_line_protocol_with_db_rp_and_token() -> None:
    fake = FakeInflux()
    write(fake, token="t0k")
    [request] = fake.requests
    assert request.url.path == "/write"
    assert dict(request.url.params) == {"db": "db", "rp": "rp1", "precision": "ns"}
    assert request.headers["Authorization"] == "Token t0k"
    assert request.content == b"m,h=a v=1i 5\n"


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_http_sink_5xx_and_throttling_are_retryable(status: int) -> None:
    with pytest.raises(SinkUnavailable):
        write(FakeInflux(status))


def test_http_sink_4xx_is_rejected_with_the_reason_and_body() -> None:
    with pytest.raises(SinkRejected) as raised:
        write(FakeInflux(400))
    assert raised.value.status == 400
    assert raised.value.reason == "told to answer 400"
    assert raised.value.body == b"m,h=a v=1i 5\n"


def test_http_sink_creates_a_missing_database_once() -> None:
    fake = FakeInflux(known=set())
    write(fake, database="new")
    paths = [r.url.path for r in fake.requests]
    assert paths == ["/write", "/query", "/write"]
    assert fake.requests[1].url.params["q"] == 'CREATE DATABASE "new"'


def test_http_sink_network_error_is_retryable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def go() -> None:
        sink = HTTPSink("http://sink", transport=httpx.MockTransport(refuse))
        try:
            await sink.write("db", None, lp_batch("m v=1 1"))
        finally:
            await sink.close()

    with pytest.raises(SinkUnavailable, match="ConnectError"):
        asyncio.run(go())


def test_embedded_sink_creates_database_and_rejects_conflicts(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "data", EngineOptions(background=False))
    try:
        sink = EmbeddedSink(engine)
        asyncio.run(sink.write("fresh", None, lp_batch("m v=1i 1")))
        assert "fresh" in engine.databases()
        with pytest.raises(SinkRejected):
            asyncio.run(sink.write("fresh", None, lp_batch('m v="text" 2')))
    finally:
        engine.close()


def test_replay_resends_and_removes_only_acknowledged_files(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path)
    letters.write("db", "rp1", 400, "type conflict", b"m v=1i 1\n")
    letters.write("other", None, 400, "x", b"m v=2i 2\n")
    fake = FakeInflux(400, known={"db", "other"})  # first resend refused again, second taken

    report = replay_dead_letters(tmp_path, "http://collector", transport=httpx.MockTransport(fake))
    assert (len(report.sent), len(report.refused), report.unreachable) == (1, 1, None)
    assert letters.files() == [report.refused[0][0]]
    assert dict(fake.requests[0].url.params) == {"db": "db", "rp": "rp1", "precision": "ns"}
    assert fake.requests[0].content == b"m v=1i 1\n"
