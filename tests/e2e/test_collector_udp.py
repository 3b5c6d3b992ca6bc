"""``crisp collector --collector-udp-listen``: line protocol over UDP reaches storage."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import QUIET, collector_stack, crisp, query_rows

pytestmark = pytest.mark.e2e


def count(storage_url: str) -> int:
    rows = query_rows(storage_url, "udpdb", "SELECT count(v) FROM sensor WHERE time >= 0")
    return int(rows[0][1]) if rows else 0


def test_udp_points_reach_storage_in_the_udp_database(tmp_path: Path) -> None:
    udp_port = free_port()
    stack = collector_stack(
        tmp_path, "--writer-flush-interval", "50ms",
        "--collector-udp-listen", f"127.0.0.1:{udp_port}", "--collector-udp-db", "udpdb",
        "--collector-udp-precision", "s",
    )  # fmt: skip
    storage_url = stack.storage_url
    with (
        crisp(*stack.storage_args, env=QUIET) as storage,
        crisp(*stack.collector_args, env=QUIET) as collector,
    ):
        storage.wait_ready()
        collector.wait_ready()
        assert f"udp://127.0.0.1:{udp_port}" in "".join(collector.output)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for i in range(50):
                sender.sendto(f"sensor,room=r{i % 5} v={i} {1_700_000_000 + i}\n".encode(),
                              ("127.0.0.1", udp_port))  # fmt: skip
                time.sleep(0.002)  # no flow control in UDP: do not outrun the socket buffer
        deadline = time.monotonic() + 30
        while count(storage_url) < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert count(storage_url) == 50
        assert collector.stop() == 0
        assert storage.stop() == 0
