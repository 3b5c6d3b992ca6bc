import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisp.collector.records import decode_record
from crisp.collector.spool import (
    FRAME,
    SEGMENT_MAGIC,
    Position,
    Spool,
    SpoolFull,
    segment_name,
)
from tests.unit.collector.helpers import record, seqs


@pytest.fixture(autouse=True)
def _close_spools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Tests "crash" spools by dropping them; close their files afterwards all the same.
    opened: list[Spool] = []
    original = Spool.__init__

    def tracking(self: Spool, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Spool, "__init__", tracking)
    yield
    for spool in opened:
        asyncio.run(spool.close())


def read_all(spool: Spool, start: Position | None = None) -> tuple[list[int], Position]:
    position = spool.acknowledged if start is None else start
    out: list[int] = []
    while True:
        payloads, position = spool.read(position, 1 << 20)
        if not payloads:
            return out, position
        for payload in payloads:
            out += seqs(decode_record(payload).batch)


def append_all(spool: Spool, start: int, count: int, *, one_by_one: bool = False) -> None:
    async def go() -> None:
        if one_by_one:  # one group commit each, so segments rotate between records
            for i in range(start, start + count):
                await spool.append(record(i))
        else:
            await asyncio.gather(*(spool.append(record(i)) for i in range(start, start + count)))

    asyncio.run(go())


def test_concurrent_appends_share_fsyncs_and_read_back_in_order(tmp_path: Path) -> None:
    fsyncs: list[float] = []
    spool = Spool(tmp_path, max_bytes=10**8, on_fsync=fsyncs.append)
    append_all(spool, 0, 50)
    # gather() queues all 50 before the first flush runs: group commit, few fsyncs.
    assert 1 <= len(fsyncs) < 50
    got, end = read_all(spool)
    assert got == list(range(50))
    assert end == spool.end


def test_restart_replays_unacknowledged_records_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**8, segment_bytes=600)
    append_all(spool, 0, 30, one_by_one=True)  # several segments
    assert len(list(tmp_path.glob("*.spool"))) > 2
    got, _ = read_all(spool)
    assert got == list(range(30))
    # Deliver the first 10 only, then "crash" (no close).
    payloads, position = spool.read(spool.acknowledged, 1)
    while sum(len(seqs(decode_record(p).batch)) for p in payloads) < 10:
        more, position = spool.read(position, 1)
        payloads += more
    spool.acknowledge(position)

    reopened = Spool(tmp_path, max_bytes=10**8, segment_bytes=600)
    got, _ = read_all(reopened)
    assert got == list(range(10, 30))
    append_all(reopened, 30, 5)
    got, _ = read_all(reopened)
    assert got == list(range(10, 35))


def test_acknowledge_deletes_delivered_segments_and_shrinks_size(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**8, segment_bytes=600)
    append_all(spool, 0, 30, one_by_one=True)
    before = spool.size_bytes
    _, end = read_all(spool)
    spool.acknowledge(end)
    assert spool.size_bytes < before
    assert spool.size_bytes <= 0 + FRAME.size  # only the delivered part of the active one
    assert [p.name for p in tmp_path.glob("*.spool")] == [segment_name(end.segment)]


def test_torn_tail_of_last_segment_is_cut_off(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**8)
    append_all(spool, 0, 3)
    path = tmp_path / segment_name(spool.end.segment)
    good_size = path.stat().st_size
    with open(path, "ab") as handle:  # a crash mid-append: half a frame
        handle.write(FRAME.pack(1000, 0) + b"partial")
    reopened = Spool(tmp_path, max_bytes=10**8)
    assert path.stat().st_size == good_size
    assert read_all(reopened)[0] == [0, 1, 2]


def test_segment_torn_in_its_header_is_removed(tmp_path: Path) -> None:
    Spool(tmp_path, max_bytes=10**8)
    (tmp_path / segment_name(7)).write_bytes(SEGMENT_MAGIC[:3])
    reopened = Spool(tmp_path, max_bytes=10**8)
    assert not (tmp_path / segment_name(7)).exists()
    assert read_all(reopened)[0] == []


def test_corrupt_closed_segment_is_set_aside_and_delivery_goes_on(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**8, segment_bytes=200)
    append_all(spool, 0, 6, one_by_one=True)
    first = tmp_path / segment_name(1)
    data = bytearray(first.read_bytes())
    data[len(SEGMENT_MAGIC) + FRAME.size + 2] ^= 0xFF  # flip a payload byte: CRC fails
    first.write_bytes(bytes(data))
    got, _ = read_all(spool)
    assert got
    assert 0 not in got
    assert (tmp_path / (segment_name(1) + ".corrupt")).exists()


def test_size_cap_refuses_with_retry_after(tmp_path: Path) -> None:
    one = len(record(0)) + FRAME.size
    spool = Spool(tmp_path, max_bytes=3 * one + 10)
    append_all(spool, 0, 3)
    with pytest.raises(SpoolFull) as raised:
        spool.check_room(len(record(3)))
    assert raised.value.retry_after > 0
    with pytest.raises(SpoolFull):
        append_all(spool, 3, 1)
    # Delivery frees room: the same write is then accepted.
    _, end = read_all(spool)
    spool.acknowledge(end)
    append_all(spool, 3, 1)
    assert read_all(spool)[0] == [3]


def test_records_are_on_disk_when_append_returns(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**8)
    append_all(spool, 0, 1)
    size = os.path.getsize(tmp_path / segment_name(spool.end.segment))
    assert size == spool.end.offset > len(SEGMENT_MAGIC)


def test_closed_spool_refuses_appends(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**8)

    async def go() -> None:
        await spool.close()
        await spool.append(record(0))

    with pytest.raises(Exception, match="shutting down"):
        asyncio.run(go())


def test_failed_fsync_is_not_acknowledged_and_the_spool_moves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path, max_bytes=10**8)
    append_all(spool, 0, 2)
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_once(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr("crisp.collector.spool.os.fsync", failing_once)
    with pytest.raises(Exception, match="spool write failed"):
        append_all(spool, 2, 1)
    append_all(spool, 3, 1)  # a fresh segment: nothing is appended after a failed tail
    assert read_all(spool)[0] == [0, 1, 3]
