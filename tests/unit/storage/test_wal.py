from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from crisp.storage.api import StorageError
from crisp.storage.engine import Engine
from crisp.storage.wal import SEGMENT_MAGIC, Wal, list_segments, segment_name

from .conftest import crash, make_batch, quiet_options, rows


def _last_segment(data_dir: Path) -> Path:
    wal_dir = data_dir / "wal"
    return wal_dir / segment_name(list_segments(wal_dir)[-1])


def _write_three(data_dir: Path) -> None:
    eng = Engine(data_dir, quiet_options())
    eng.create_database("db")
    for t in range(3):
        eng.write("db", None, make_batch("m", [{"time": t, "v": t}]))
    crash(eng)


def test_torn_tail_is_truncated_not_fatal(data_dir: Path) -> None:
    _write_three(data_dir)
    seg = _last_segment(data_dir)
    data = seg.read_bytes()
    seg.write_bytes(data[:-7])  # the last record was cut mid-write
    with Engine(data_dir, quiet_options()) as eng:
        assert rows(eng, "db", "m") == [{"time": 0, "v": 0}, {"time": 1, "v": 1}]
        eng.write("db", None, make_batch("m", [{"time": 5, "v": 5}]))
    with Engine(data_dir, quiet_options()) as eng:
        assert [r["time"] for r in rows(eng, "db", "m")] == [0, 1, 5]


def test_garbage_tail_is_truncated(data_dir: Path) -> None:
    _write_three(data_dir)
    seg = _last_segment(data_dir)
    with open(seg, "ab") as f:
        f.write(b"\x10\x00\x00\x00\xde\xad\xbe\xefpartial")
    with Engine(data_dir, quiet_options()) as eng:
        assert len(rows(eng, "db", "m")) == 3


def test_corruption_in_the_middle_is_reported(data_dir: Path) -> None:
    _write_three(data_dir)
    seg = _last_segment(data_dir)
    data = bytearray(seg.read_bytes())
    data[len(SEGMENT_MAGIC) + 12] ^= 0xFF  # inside the first record's payload
    seg.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"corrupt at byte 8: CRC mismatch"):
        Engine(data_dir, quiet_options())


def test_group_commit_coalesces_concurrent_writers(tmp_path: Path) -> None:
    # A slow disk (2 ms per fsync) makes writers queue behind the leader's fsync.
    wal = Wal(
        tmp_path / "wal",
        fsync_always=True,
        segment_max_bytes=1 << 30,
        on_fsync=lambda seconds: time.sleep(0.002),
    )
    wal.open(1)
    applied: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def writer(n: int) -> None:
        start.wait()
        for i in range(20):

            def apply(v: int = n * 100 + i) -> None:
                with lock:
                    applied.append(v)

            wal.append(b"x" * 100, apply)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wal.close()
    assert len(applied) == 320
    assert wal.records_written == 320
    # One fsync per group, not per record.
    assert wal.fsync_count <= 160, wal.fsync_count
    payloads = list(Wal(tmp_path / "wal", fsync_always=True, segment_max_bytes=1).replay(1))
    assert len(payloads) == 320


def test_concurrent_engine_writers_all_durable(data_dir: Path) -> None:
    eng = Engine(data_dir, quiet_options())
    eng.create_database("db")
    on_fsync = eng._wal._on_fsync

    def slow_disk(seconds: float) -> None:
        time.sleep(0.002)
        on_fsync(seconds)

    eng._wal._on_fsync = slow_disk
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                eng.write("db", None, make_batch("m", [{"time": i, "host": f"h{n}", "v": i}]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert eng.metrics.registry.get_sample_value("crisp_storage_wal_records_total") == 200
    fsyncs = eng.wal_fsync_count
    assert fsyncs < 200, f"no group commit: {fsyncs} fsyncs for 200 writes"
    print(f"200 writes from 8 threads: {fsyncs} fsyncs")
    crash(eng)
    with Engine(data_dir, quiet_options()) as again:
        assert len(rows(again, "db", "m")) == 200
        assert len(list(again.series("db", "m"))) == 8


def test_interval_policy_returns_before_fsync(data_dir: Path) -> None:
    with Engine(data_dir, quiet_options(wal_fsync="interval")) as eng:
        eng.create_database("db")
        before = eng.wal_fsync_count
        eng.write("db", None, make_batch("m", [{"time": 1, "v": 1}]))
        assert eng.wal_fsync_count == before
        eng._wal.sync()
        assert eng.wal_fsync_count == before + 1


def test_segment_torn_before_its_header_is_dropped(data_dir: Path) -> None:
    _write_three(data_dir)
    wal_dir = data_dir / "wal"
    (wal_dir / segment_name(list_segments(wal_dir)[-1] + 1)).write_bytes(b"CRW")
    for _ in range(2):  # and the next open is clean too
        with Engine(data_dir, quiet_options()) as eng:
            assert len(rows(eng, "db", "m")) == 3


def test_write_records_round_trip_many_small_tables_and_old_records_still_read() -> None:
    import struct

    import pyarrow as pa

    from crisp.storage.wal import RECORD_WRITE, decode_write, encode_write

    tables = {
        f"metric_{i}": make_batch(
            f"metric_{i}", [{"time": t, "host": f"h{t % 3}", "v": float(i * t)} for t in range(5)]
        )
        .measurements[f"metric_{i}"]
        .table
        for i in range(101)
    }
    record = decode_write(encode_write(7, "db", "autogen", tables))
    assert (record.seq, record.database, record.rp) == (7, "db", "autogen")
    assert {k: t.to_pylist() for k, t in record.tables.items()} == {
        k: t.to_pylist() for k, t in tables.items()
    }

    # Type 1, as WALs written before type 3 hold it: each table compressed per buffer.
    options = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))

    def str16(text: str) -> bytes:
        return struct.pack("<H", len(text.encode())) + text.encode()

    parts = [struct.pack("<BQ", RECORD_WRITE, 9), str16("db"), str16("rp"), struct.pack("<I", 1)]
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, tables["metric_3"].schema, options=options) as writer:
        writer.write_table(tables["metric_3"])
    ipc = sink.getvalue().to_pybytes()
    parts += [str16("metric_3"), struct.pack("<Q", len(ipc)), ipc]
    old = decode_write(b"".join(parts))
    assert (old.seq, old.rp, list(old.tables)) == (9, "rp", ["metric_3"])
    assert old.tables["metric_3"].to_pylist() == tables["metric_3"].to_pylist()
