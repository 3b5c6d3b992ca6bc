import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry

from crisp.collector.deadletter import DeadLetters, read_dead_letter
from crisp.collector.delivery import Delivery, DeliveryOptions
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.sinks import SinkRejected, SinkUnavailable
from crisp.collector.spool import Spool
from crisp.core.batch import PointBatch
from crisp.protocols.line_protocol import parse_line_protocol
from tests.unit.collector.helpers import record, seqs

FAST = DeliveryOptions(
    batch_size=4, flush_interval=0.05, retry_initial=0.01, retry_max=0.02, drain_seconds=1
)


class FakeSink:
    name = "fake"

    def __init__(self, failures: int = 0, reject_db: str | None = None) -> None:
        self.failures = failures
        self.reject_db = reject_db
        self.delivered: list[tuple[str, str | None, list[int]]] = []
        self.attempts = 0

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise SinkUnavailable("503 from a fake")
        if database == self.reject_db:
            raise SinkRejected(400, "field type conflict")
        self.delivered.append((database, rp, seqs(batch)))
        return 0

    async def close(self) -> None:
        return None

    def seqs(self) -> list[int]:
        return [s for _, _, batch in self.delivered for s in batch]


def make(tmp_path: Path, sink: FakeSink) -> tuple[Spool, Delivery, CollectorMetrics]:
    spool = Spool(tmp_path / "spool", max_bytes=10**8)
    metrics = CollectorMetrics(CollectorRegistry())
    delivery = Delivery(spool, sink, DeadLetters(tmp_path / "dead"), metrics, FAST)
    return spool, delivery, metrics


async def wait_until(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


def test_delivers_in_order_in_batches_and_frees_the_spool(tmp_path: Path) -> None:
    sink = FakeSink()

    async def go() -> None:
        spool, delivery, metrics = make(tmp_path, sink)
        delivery.start()
        for i in range(10):
            await spool.append(record(i))
        await wait_until(lambda: len(sink.seqs()) == 10)
        await delivery.stop()
        await spool.close()
        assert sink.seqs() == list(range(10))
        assert max(len(b) for _, _, b in sink.delivered) <= 4 + 3  # size trigger honoured
        assert spool.size_bytes == 0
        assert metrics.points_delivered._value.get() == 10

    asyncio.run(go())


def test_retries_a_failing_sink_then_delivers_each_point_once(tmp_path: Path) -> None:
    sink = FakeSink(failures=3)

    async def go() -> None:
        spool, delivery, metrics = make(tmp_path, sink)
        delivery.start()
        for i in range(3):
            await spool.append(record(i))
        await wait_until(lambda: len(sink.seqs()) == 3)
        await delivery.stop()
        await spool.close()
        assert sink.seqs() == [0, 1, 2]
        assert metrics.sink_retries._value.get() == 3

    asyncio.run(go())


def test_refused_batches_go_to_dead_letters_and_others_flow(tmp_path: Path) -> None:
    sink = FakeSink(reject_db="bad")

    async def go() -> None:
        spool, delivery, metrics = make(tmp_path, sink)
        delivery.start()
        await spool.append(record(1, database="bad", rp="weekly"))
        await spool.append(record(2, database="good"))
        await wait_until(lambda: sink.seqs() == [2])
        await delivery.stop()
        await spool.close()
        assert metrics.dead_letter_points._value.get() == 1

    asyncio.run(go())
    [path] = DeadLetters(tmp_path / "dead").files()
    letter = read_dead_letter(path)
    assert (letter.database, letter.rp, letter.status) == ("bad", "weekly", 400)
    assert letter.reason == "field type conflict"
    parsed = parse_line_protocol(letter.body, default_time_ns=0)
    assert not parsed.errors
    assert seqs(parsed.batch) == [1]


def test_stop_with_the_sink_down_keeps_the_spool_for_the_next_start(tmp_path: Path) -> None:
    down = FakeSink(failures=10**9)

    async def first_run() -> None:
        spool, delivery, _ = make(tmp_path, down)
        delivery.start()
        for i in range(5):
            await spool.append(record(i))
        await wait_until(lambda: down.attempts >= 2)
        started = asyncio.get_running_loop().time()
        await spool.close()
        await delivery.stop()
        assert asyncio.get_running_loop().time() - started < FAST.drain_seconds + 1.5
        assert spool.size_bytes > 0

    asyncio.run(first_run())
    up = FakeSink()

    async def second_run() -> None:
        spool, delivery, _ = make(tmp_path, up)
        delivery.start()
        await wait_until(lambda: len(up.seqs()) == 5)
        await delivery.stop()
        await spool.close()

    asyncio.run(second_run())
    assert up.seqs() == [0, 1, 2, 3, 4]


def test_stop_drains_what_was_spooled_when_the_sink_is_up(tmp_path: Path) -> None:
    sink = FakeSink()
    slow = DeliveryOptions(batch_size=1000, flush_interval=60, drain_seconds=2)

    async def go() -> None:
        spool = Spool(tmp_path / "spool", max_bytes=10**8)
        metrics = CollectorMetrics(CollectorRegistry())
        delivery = Delivery(spool, sink, DeadLetters(tmp_path / "dead"), metrics, slow)
        delivery.start()
        for i in range(3):
            await spool.append(record(i))
        await spool.close()
        await delivery.stop()  # long flush interval: only the shutdown drain sends them
        assert sink.seqs() == [0, 1, 2]
        assert spool.size_bytes == 0

    asyncio.run(go())


def test_an_unexpected_error_restarts_delivery_from_the_spool(tmp_path: Path) -> None:
    class Flaky(FakeSink):
        async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
            if self.attempts == 0:
                self.attempts += 1
                raise RuntimeError("a bug")
            return await super().write(database, rp, batch)

    sink = Flaky()

    async def go() -> None:
        spool, delivery, _ = make(tmp_path, sink)
        delivery.start()
        for i in range(3):
            await spool.append(record(i))
        await wait_until(lambda: sink.seqs() == [0, 1, 2])
        assert delivery.failures == 1
        await spool.close()
        await delivery.stop()

    asyncio.run(go())
