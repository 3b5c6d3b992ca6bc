"""collector → NATS JetStream → ``crisp consume`` → ``crisp storage``, all real processes.

Against the nats-server with JetStream that runs on this machine (127.0.0.1:4222);
each test uses its own stream, deleted afterwards. What a user relies on: points
sent to the collector reach storage; while storage is down the stream holds the
backlog and, once storage is back, every acknowledged point is there exactly once; a
restarted consumer resumes where it stopped; a batch storage refuses is kept in a
dead-letter file and does not block the stream.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js.api import ConsumerInfo, StreamInfo

from crisp.collector.deadletter import DeadLetters, read_dead_letter
from tests.conftest import free_port, require_binary, require_server
from tests.e2e.crisp_process import QUIET, CrispProcess, crisp, query_rows

pytestmark = pytest.mark.integration

NATS = "nats://127.0.0.1:4222"
DURABLE = "crisp-storage"


async def _stream_info(stream: str) -> StreamInfo:
    client = await nats.connect(NATS)
    try:
        return await client.jetstream().stream_info(stream)
    finally:
        await client.close()


async def _consumer_info(stream: str) -> ConsumerInfo:
    client = await nats.connect(NATS)
    try:
        return await client.jetstream().consumer_info(stream, DURABLE)
    finally:
        await client.close()


async def _delete_stream(stream: str) -> None:
    client = await nats.connect(NATS)
    try:
        await client.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await client.close()


def stream_messages(stream: str) -> int:
    return int(asyncio.run(_stream_info(stream)).state.messages)


def eventually(read: Callable[[], int], done: Callable[[int], bool], seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


@pytest.fixture
def stream() -> Iterator[str]:
    require_server("nats-server (JetStream)", "127.0.0.1", 4222)
    name = f"crisp_test_{uuid.uuid4().hex[:12]}"
    yield name
    asyncio.run(_delete_stream(name))


class Stack:
    def __init__(
        self, tmp_path: Path, stream: str, stream_bytes: int = 100_000_000, nats: str = NATS
    ) -> None:
        self.stream = stream
        self.storage_port = free_port()
        self.collector_port = free_port()
        self.storage_url = f"http://127.0.0.1:{self.storage_port}"
        self.collector_url = f"http://127.0.0.1:{self.collector_port}"
        self.consume_spool = tmp_path / "consume"
        self.consume_url = f"http://127.0.0.1:{free_port()}"
        self.storage_args = (
            "storage", "--data-dir", str(tmp_path / "data"),
            "--listen", f"127.0.0.1:{self.storage_port}",
        )  # fmt: skip
        self.collector_args = (
            "collector", "--listen", f"127.0.0.1:{self.collector_port}",
            "--sink", f"{nats}/{stream}", "--spool-dir", str(tmp_path / "spool"),
            "--writer-flush-interval", "50ms", "--nats-stream-max-bytes", str(stream_bytes),
            "--sink-retry-initial", "50ms", "--sink-retry-max", "500ms",
        )  # fmt: skip
        self.consume_args = (
            "consume", "--nats", f"{nats}/{stream}", "--sink", self.storage_url,
            "--spool-dir", str(self.consume_spool), "--sink-retry-initial", "50ms",
            "--sink-retry-max", "500ms", "--sink-timeout", "2s",
            "--listen", self.consume_url.removeprefix("http://"),
        )  # fmt: skip

    @contextmanager
    def process(self, args: tuple[str, ...]) -> Iterator[CrispProcess]:
        with crisp(*args, env=QUIET) as process:
            process.wait_ready()
            yield process
            assert process.stop() == 0, "".join(process.output)

    def storage(self) -> AbstractContextManager[CrispProcess]:
        return self.process(self.storage_args)

    def collector(self) -> AbstractContextManager[CrispProcess]:
        return self.process(self.collector_args)

    def consumer(self) -> AbstractContextManager[CrispProcess]:
        return self.process(self.consume_args)

    def write(self, client: httpx.Client, start: int, n: int, measurement: str = "load") -> None:
        body = "".join(
            f"{measurement},writer=w seq={i}i {1_000_000_000 + i}\n"
            for i in range(start, start + n)
        )
        response = client.post("/write", params={"db": "natsdb"}, content=body)
        assert response.status_code == 204, response.text

    def query(self, q: str) -> list[list[Any]]:
        return query_rows(self.storage_url, "natsdb", q)

    def count(self, measurement: str = "load") -> int:
        rows = self.query(f"SELECT count(seq) FROM {measurement} WHERE time >= 0")
        return int(rows[0][1]) if rows else 0

    def wait_count(self, expected: int, measurement: str = "load") -> int:
        return eventually(lambda: self.count(measurement), lambda n: n >= expected)


def test_points_flow_and_survive_a_storage_outage_while_the_stream_fills(
    tmp_path: Path, stream: str
) -> None:
    stack = Stack(tmp_path, stream)
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    sent = 0
    with stack.collector(), stack.consumer():
        with stack.storage():
            stack.write(client, 0, 200)
            sent = 200
            assert stack.wait_count(sent) == sent
            health = client.get("/health").json()
            assert health["sink"] == f"{NATS}/{stream}"

        # Storage is down: the collector still acknowledges (JetStream has the
        # batches) and the stream holds the backlog.
        for _ in range(10):
            stack.write(client, sent, 100)
            sent += 100
        def spooled() -> int:
            return int(client.get("/health").json()["spool_bytes"])

        assert eventually(spooled, lambda n: n == 0) == 0  # all published to JetStream
        assert stream_messages(stream) >= 1

        def naked() -> int:
            metrics = httpx.get(f"{stack.consume_url}/metrics").text
            line = next(
                (x for x in metrics.splitlines()
                 if x.startswith('crisp_consume_messages_total{outcome="naked"}')),
                "x 0",
            )  # fmt: skip
            return int(float(line.split()[-1]))

        assert eventually(naked, lambda n: n > 0) > 0  # storage down: back to the stream

        with stack.storage():
            assert stack.wait_count(sent) == sent
            assert eventually(lambda: stream_messages(stream), lambda n: n == 0) == 0
            time.sleep(0.5)  # nothing more arrives: each point once
            assert stack.count() == sent
            rows = stack.query("SELECT sum(seq) FROM load WHERE time >= 0")
            assert rows[0][1] == sum(range(sent))
    client.close()


def test_a_restarted_consumer_resumes_where_it_stopped(tmp_path: Path, stream: str) -> None:
    stack = Stack(tmp_path, stream)
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    with stack.storage(), stack.collector():
        with stack.consumer():
            stack.write(client, 0, 100)
            assert stack.wait_count(100) == 100
        # Stopped cleanly: its acks reached JetStream, which removed those messages.
        assert stream_messages(stream) == 0

        stack.write(client, 100, 100)
        stack.write(client, 200, 100)
        assert eventually(lambda: stream_messages(stream), lambda n: n >= 1) >= 1
        assert stack.count() == 100

        with stack.consumer():
            assert stack.wait_count(300) == 300
            assert eventually(lambda: stream_messages(stream), lambda n: n == 0) == 0
            info = asyncio.run(_consumer_info(stream))
            assert info.num_pending == 0
            assert info.num_ack_pending == 0
            assert info.num_redelivered == 0  # nothing was read twice
        assert stack.count() == 300
    client.close()


def test_a_batch_storage_refuses_is_dead_lettered_and_does_not_block(
    tmp_path: Path, stream: str
) -> None:
    stack = Stack(tmp_path, stream)
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    with stack.storage(), stack.collector(), stack.consumer():
        response = client.post("/write", params={"db": "natsdb"}, content=b"typed v=1i 1\n")
        assert response.status_code == 204
        assert eventually(lambda: len(stack.query("SELECT v FROM typed WHERE time >= 0")),
                          lambda n: n == 1) == 1  # fmt: skip
        # Same field as a float: storage answers 400 (field type conflict).
        response = client.post("/write", params={"db": "natsdb"}, content=b"typed v=2.5 2\n")
        assert response.status_code == 204
        letters = DeadLetters(stack.consume_spool / "dead-letter")
        assert eventually(lambda: len(letters.files()), lambda n: n == 1) == 1
        letter = read_dead_letter(letters.files()[0])
        assert letter.database == "natsdb"
        assert letter.status == 400
        assert "typed v=2.5 2" in letter.body.decode()
        # The refused message was terminated: later ones flow.
        stack.write(client, 0, 10, measurement="later")
        assert stack.wait_count(10, measurement="later") == 10
        assert eventually(lambda: stream_messages(stream), lambda n: n == 0) == 0
    client.close()


STREAM_BYTES = 40_000


def test_a_full_stream_leaves_batches_in_the_collector_spool_until_there_is_room(
    tmp_path: Path, stream: str
) -> None:
    stack = Stack(tmp_path, stream, stream_bytes=STREAM_BYTES)
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    with stack.storage(), stack.collector():
        sent = 0
        for _ in range(40):  # far more than the stream holds, no consumer yet
            stack.write(client, sent, 100)
            sent += 100
            time.sleep(0.06)  # one batch per flush interval

        def spooled() -> int:
            return int(client.get("/health").json()["spool_bytes"])

        # JetStream refuses what does not fit (discard new); the spool keeps it.
        assert eventually(spooled, lambda n: n > 0) > 0
        info = asyncio.run(_stream_info(stream))
        assert info.state.bytes <= STREAM_BYTES
        assert "crisp_collector_sink_retries_total" in client.get("/metrics").text

        with stack.consumer():
            assert stack.wait_count(sent) == sent
            assert eventually(spooled, lambda n: n == 0) == 0
        assert stack.count() == sent
    client.close()


@contextmanager
def own_nats_server(store: Path, port: int) -> Iterator[None]:
    """A nats-server of this test's own, so the test may stop it."""
    process = subprocess.Popen(
        ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("nats-server did not start") from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_nats_outage_is_absorbed_by_the_collector_spool(tmp_path: Path) -> None:
    require_binary("nats-server", "apt-get install nats-server")
    port = free_port()
    stack = Stack(tmp_path, "outage", nats=f"nats://127.0.0.1:{port}")
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    store = tmp_path / "nats"
    # Collector and consumer start before NATS does: both retry until it is there.
    with stack.storage(), stack.collector(), stack.consumer():
        with own_nats_server(store, port):
            stack.write(client, 0, 100)
            assert stack.wait_count(100) == 100
        sent = 100
        # NATS is down: the collector keeps acknowledging, from its spool.
        for _ in range(5):
            stack.write(client, sent, 100)
            sent += 100
        assert int(client.get("/health").json()["spool_bytes"]) > 0

        def consume_health() -> int:
            return httpx.get(f"{stack.consume_url}/health").status_code

        assert eventually(consume_health, lambda c: c == 503) == 503
        assert httpx.get(f"{stack.consume_url}/health").json()["message"] == (
            "not connected to NATS"
        )
        with own_nats_server(store, port):
            assert stack.wait_count(sent) == sent
            assert eventually(consume_health, lambda c: c == 200) == 200
        assert stack.count() == sent
    client.close()


def test_kill_9_of_the_consumer_mid_load_loses_nothing(tmp_path: Path, stream: str) -> None:
    stack = Stack(tmp_path, stream)
    client = httpx.Client(base_url=stack.collector_url, timeout=10)
    with stack.storage(), stack.collector():
        sent = 0
        with crisp(*stack.consume_args, env=QUIET) as consumer:
            consumer.wait_ready()
            for _ in range(30):
                stack.write(client, sent, 200)
                sent += 200
                if sent == 2000:
                    eventually(stack.count, lambda n: n > 0)
                    consumer.stop(signal.SIGKILL)  # mid-load, acks possibly in flight
        for _ in range(5):  # and while no consumer runs
            stack.write(client, sent, 200)
            sent += 200
        with stack.consumer():
            assert stack.wait_count(sent) == sent
            assert eventually(lambda: stream_messages(stream), lambda n: n == 0) == 0
        assert stack.count() == sent
        rows = stack.query("SELECT sum(seq) FROM load WHERE time >= 0")
        assert rows[0][1] == sum(range(sent))
    client.close()
