"""The UDP line protocol listener, on a real UDP socket, into a real spool."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from prometheus_client import CollectorRegistry

from crisp.collector.cardinality import SeriesGuard
from crisp.collector.metrics import CollectorMetrics
from crisp.collector.records import SpoolRecord, decode_record
from crisp.collector.spool import Spool
from crisp.collector.udp import UDPListener, UDPOptions
from crisp.core.settings import Address, load_settings

LOCAL = Address("127.0.0.1", 0)


def spooled(spool: Spool) -> list[SpoolRecord]:
    payloads, _ = spool.read(spool.acknowledged, 1 << 30)
    return [decode_record(p) for p in payloads]


def points(records: list[SpoolRecord], measurement: str, column: str) -> list[object]:
    return [
        value
        for r in records
        if measurement in r.batch.measurements
        for value in r.batch.measurements[measurement].table.column(column).to_pylist()
    ]


def sample(metrics: CollectorMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"crisp_collector_{name}", labels) or 0.0


def run_listener(
    tmp_path: Path, datagrams: list[bytes], options: UDPOptions, max_bytes: int = 1 << 30
) -> tuple[list[SpoolRecord], CollectorMetrics]:
    metrics = CollectorMetrics(CollectorRegistry())

    async def go() -> list[SpoolRecord]:
        spool = Spool(tmp_path / "spool", max_bytes=max_bytes)
        listener = UDPListener(spool, metrics, options, clock_ns=lambda: 7_000)
        await listener.start(LOCAL)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for datagram in datagrams:
                sender.sendto(datagram, listener.address)
        expected = sum(len(d) for d in datagrams)
        for _ in range(500):  # the datagrams arrive through the event loop
            if sample(metrics, "bytes_received_total", protocol="udp") >= expected:
                break
            await asyncio.sleep(0.01)
        await listener.stop()  # spools what it received
        records = spooled(spool)
        await spool.close()
        return records

    return asyncio.run(go()), metrics


def test_datagrams_land_in_the_spool_for_the_udp_database(tmp_path: Path) -> None:
    datagrams = [f"cpu,host=h{i} load={i}i {i}\n".encode() for i in range(20)]
    datagrams.append(b"mem used=1.5\n")
    records, metrics = run_listener(tmp_path, datagrams, UDPOptions(database="telegraf"))
    assert {r.database for r in records} == {"telegraf"}
    assert {r.rp for r in records} == {None}
    assert sorted(points(records, "cpu", "load")) == list(range(20))
    # No timestamp: the datagram's arrival time.
    assert points(records, "mem", "time") == [7_000]
    assert sample(metrics, "points_accepted_total", protocol="udp") == 21


def test_precision_applies_and_bad_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    datagrams = [b"cpu v=1 5\ncpu v=\ncpu v=2 6\n", b"not line protocol\n", b"cpu v=3 7\n"]
    records, metrics = run_listener(tmp_path, datagrams, UDPOptions(precision="s"))
    assert sorted(points(records, "cpu", "time")) == [5e9, 6e9, 7e9]
    assert sample(metrics, "points_rejected_total", protocol="udp") == 2


def test_a_field_type_clash_between_datagrams_is_spooled_as_two_records(tmp_path: Path) -> None:
    records, _ = run_listener(tmp_path, [b"m v=1i 1\n", b"m v=1.5 2\n"], UDPOptions())
    assert sorted(points(records, "m", "v")) == [1, 1.5]
    assert len(records) == 2


def test_a_full_spool_drops_datagrams_and_counts_them(tmp_path: Path) -> None:
    records, metrics = run_listener(tmp_path, [b"m v=1 1\n"], UDPOptions(), max_bytes=16)
    assert records == []
    assert sample(metrics, "udp_dropped_datagrams_total", reason="spool_full") == 1


def test_udp_is_off_unless_an_address_is_set() -> None:
    assert load_settings(environ={}).collector_udp_listen is None
    settings = load_settings(environ={"CRISP_COLLECTOR_UDP_LISTEN": "127.0.0.1:8089"})
    assert settings.collector_udp_listen == Address("127.0.0.1", 8089)


def test_the_series_guard_applies_to_udp_points(tmp_path: Path) -> None:
    guard = SeriesGuard(max_per_measurement=2, max_per_database=100)
    datagrams = [f"api,request_id=r{i} v={i} {i}\n".encode() for i in range(5)]
    records, metrics = run_listener(tmp_path, datagrams, UDPOptions(series_guard=guard))
    assert len(points(records, "api", "v")) == 2
    assert sample(metrics, "series_refused_points_total", limit="measurement") == 3
