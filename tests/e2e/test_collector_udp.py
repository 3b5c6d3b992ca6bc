"""``crisp collector --collector-udp-listen``: line protocol over UDP reaches storage."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import crisp

pytestmark = pytest.mark.e2e

QUIET = {"CRISP_LOG_LEVEL": "warning"}


def count(storage_url: str) -> int:
    response = httpx.get(
        f"{storage_url}/query",
        params={"db": "udpdb", "q": "SELECT count(v) FROM sensor WHERE time >= 0"},
        timeout=10,
    )
    result = response.json()["results"][0]
    series = result.get("series", []) if "error" not in result else []
    return int(series[0]["values"][0][1]) if series else 0


def test_udp_points_reach_storage_in_the_udp_database(tmp_path: Path) -> None:
    storage_port, collector_port, udp_port = free_port(), free_port(), free_port()
    storage_url = f"http://127.0.0.1:{storage_port}"
    storage_args = (
        "storage", "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{storage_port}",
    )  # fmt: skip
    collector_args = (
        "collector", "--listen", f"127.0.0.1:{collector_port}", "--sink", storage_url,
        "--spool-dir", str(tmp_path / "spool"), "--writer-flush-interval", "50ms",
        "--collector-udp-listen", f"127.0.0.1:{udp_port}", "--collector-udp-db", "udpdb",
        "--collector-udp-precision", "s",
    )  # fmt: skip
    with crisp(*storage_args, env=QUIET) as storage, crisp(*collector_args, env=QUIET) as collector:
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
