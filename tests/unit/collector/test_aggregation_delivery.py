"""Pre-aggregation in the delivery loop: checkpoint, spool acknowledgement, crash recovery."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from crisp.collector.aggregation import Aggregator
from crisp.collector.aggregation_checkpoint import CheckpointFile, PreAggregation
from crisp.collector.aggregation_rules import AggregationRules
from crisp.collector.deadletter import DeadLetters
from crisp.collector.delivery import Delivery, DeliveryOptions
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import encode_record
from crisp.collector.spool import Spool
from crisp.core.batch import PointBatch
from tests.unit.collector.helpers import lp_batch

S = 1_000_000_000
T0 = 1_767_225_600 * S
OPTIONS = DeliveryOptions(
    batch_size=100, flush_interval=0.02, retry_initial=0.01, retry_max=0.02, drain_seconds=1
)
RULES = AggregationRules.from_document(
    {"rules": [{"measurement": "hits", "window": "5s", "fields": {"n": "sum"}}]}
)


class StorageSink:
    """Keeps the last value per (measurement, tags, time, field), as storage does."""

    name = "fake storage"

    def __init__(self) -> None:
        self.points: dict[tuple[Any, ...], Any] = {}
        self.writes = 0

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        self.writes += 1
        for m in batch:
            for row in m.table.to_pylist():
                tags = tuple(sorted((k, row[k]) for k in m.tag_keys if row[k] is not None))
                for name in m.field_types:
                    if row[name] is not None:
                        self.points[(m.measurement, tags, row["time"], name)] = row[name]
        return 0

    async def close(self) -> None:
        return None

    def total(self, measurement: str) -> int:
        return sum(v for k, v in self.points.items() if k[0] == measurement)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def start(tmp_path: Path, sink: StorageSink, clock: Clock) -> tuple[Spool, Delivery]:
    spool = Spool(tmp_path / "spool", max_bytes=10**8)
    aggregation = PreAggregation(Aggregator(RULES), CheckpointFile(spool.directory), clock)
    metrics = CollectorMetrics(CollectorRegistry())
    delivery = Delivery(
        spool, sink, DeadLetters(tmp_path / "dead"), metrics, OPTIONS, aggregation=aggregation
    )
    delivery.start()
    return spool, delivery


async def append(spool: Spool, text: str) -> None:
    await spool.append(encode_record("db", None, lp_batch(text)))


async def wait_until(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def crash(spool: Spool, delivery: Delivery) -> None:
    """Stop without draining or acknowledging anything more, as kill -9 would."""
    task = delivery._task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await spool.close()


def test_windows_reach_the_sink_summed_and_the_spool_is_freed_after(tmp_path: Path) -> None:
    sink, clock = StorageSink(), Clock()

    async def go() -> None:
        spool, delivery = start(tmp_path, sink, clock)
        for i in range(20):
            await append(spool, f"hits,svc=a n=1i {T0 + i * S // 4}\nother v={i} {T0 + i}")
        await wait_until(lambda: len([k for k in sink.points if k[0] == "other"]) == 20)
        assert sink.total("hits") == 0  # the window [T0, T0+5s) has not ended yet
        # The spool was acknowledged: the open window's points are in the checkpoint.
        await wait_until(lambda: spool.size_bytes == 0)
        checkpoint = CheckpointFile(spool.directory).load()
        assert checkpoint is not None
        [window] = checkpoint.state["windows"]
        assert window["fields"]["n"][2] == 20  # the running sum
        clock.now = T0 + 5 * S
        await wait_until(lambda: sink.total("hits") == 20)
        await wait_until(lambda: spool.size_bytes == 0)
        assert [k for k in sink.points if k[0] == "hits"] == [("hits", (("svc", "a"),), T0, "n")]
        await delivery.stop()
        await spool.close()

    asyncio.run(go())


def test_a_crash_with_open_windows_loses_and_doubles_nothing(tmp_path: Path) -> None:
    sink, clock = StorageSink(), Clock()

    async def first_run() -> None:
        spool, delivery = start(tmp_path, sink, clock)
        for i in range(10):
            await append(spool, f"hits,svc=a n={i}i {T0 + i * S}")  # two windows
        # The first window is handed out and acknowledged; the second stays open.
        clock.now = T0 + 5 * S
        await wait_until(lambda: sink.total("hits") == sum(range(5)))
        await wait_until(lambda: delivery._spool.acknowledged == delivery._spool.end)
        for i in range(10, 13):  # more points of the open window, read but not acked
            await append(spool, f"hits,svc=a n={i}i {T0 + 9 * S}")
        await asyncio.sleep(0.1)
        await crash(spool, delivery)

    async def second_run() -> None:
        spool, delivery = start(tmp_path, sink, clock)
        clock.now = T0 + 10 * S
        await wait_until(lambda: sink.total("hits") == sum(range(13)))
        await delivery.stop()
        await spool.close()

    asyncio.run(first_run())
    asyncio.run(second_run())
    assert sink.points[("hits", (("svc", "a"),), T0 + 5 * S, "n")] == sum(range(5, 13))


def test_the_windows_of_a_stopped_collector_are_finished_by_the_next_run(tmp_path: Path) -> None:
    sink, clock = StorageSink(), Clock()

    async def first_run() -> None:
        spool, delivery = start(tmp_path, sink, clock)
        await append(spool, f"hits n=2i {T0}\nhits n=3i {T0 + S}")
        await asyncio.sleep(0.1)
        await delivery.stop()  # graceful: the open window goes into the checkpoint
        assert spool.size_bytes == 0
        await spool.close()

    async def second_run() -> None:
        spool, delivery = start(tmp_path, sink, clock)
        await append(spool, f"hits n=4i {T0 + 2 * S}")
        clock.now = T0 + 5 * S
        await wait_until(lambda: sink.total("hits") == 9)
        await delivery.stop()
        await spool.close()

    asyncio.run(first_run())
    assert sink.total("hits") == 0
    asyncio.run(second_run())
    assert sink.points == {("hits", (), T0, "n"): 9}
