"""``crisp collector --collector-workers N``: several processes on one port, nothing lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import QUIET, collector_stack, crisp, query_rows

pytestmark = pytest.mark.e2e

CONNECTIONS = 12
BODIES = 10
LINES = 50
BASE_NS = 1_767_225_600_000_000_000


def count(storage_url: str) -> int:
    rows = query_rows(storage_url, "load", "SELECT count(seq) FROM m WHERE time >= 0")
    return int(rows[0][1]) if rows else 0


def listeners(pid: int, port: int) -> set[int]:
    """The processes under ``pid`` listening on ``port``."""
    found = set()
    for child in psutil.Process(pid).children():
        if any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in child.net_connections("tcp")
        ):
            found.add(child.pid)
    return found


class Load:
    """Clients on their own connections; a failed request is resent, as clients do."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answered = 0
        self.resent = 0
        self.halfway = threading.Event()
        self._lock = threading.Lock()

    def send(self, connection: int) -> None:
        # One keep-alive connection per client: the kernel picks a worker per connection.
        client = httpx.Client(base_url=self.url, timeout=30)
        for body in range(BODIES):
            lines = "\n".join(
                f"m,conn=c{connection} seq={body * LINES + i}i "
                f"{BASE_NS + (body * LINES + i) * 1000}"
                for i in range(LINES)
            )
            while True:
                try:
                    response = client.post("/write", params={"db": "load"}, content=lines)
                except httpx.TransportError:  # the worker died under this connection
                    client.close()
                    client = httpx.Client(base_url=self.url, timeout=30)
                    with self._lock:
                        self.resent += 1
                    time.sleep(0.1)
                    continue
                assert response.status_code == 204, response.text
                break
            with self._lock:
                self.answered += 1
                if self.answered >= CONNECTIONS * BODIES // 3:
                    self.halfway.set()
        client.close()


def test_two_workers_share_the_port_and_every_point_arrives(tmp_path: Path) -> None:
    stack = collector_stack(
        tmp_path, "--writer-flush-interval", "100ms", "--collector-workers", "2"
    )
    storage_url, collector_port = stack.storage_url, stack.collector_port
    with (
        crisp(*stack.storage_args, env=QUIET) as storage,
        crisp(*stack.collector_args, env=QUIET) as collector,
    ):
        storage.wait_ready()
        collector.wait_ready()
        workers = listeners(collector.process.pid, collector_port)
        assert len(workers) == 2
        load = Load(stack.collector_url)
        threads = [threading.Thread(target=load.send, args=(c,)) for c in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        # A worker killed mid-load is started again; what it acknowledged is in its spool.
        assert load.halfway.wait(60)
        psutil.Process(min(workers)).send_signal(signal.SIGKILL)
        for thread in threads:
            thread.join()
        expected = CONNECTIONS * BODIES * LINES
        deadline = time.monotonic() + 60
        while count(storage_url) < expected and time.monotonic() < deadline:
            time.sleep(0.3)
        # Every point once: a resent body overwrites the same points (series and time).
        assert count(storage_url) == expected
        assert sorted((tmp_path / "spool").iterdir()) == [
            tmp_path / "spool" / "worker-0",
            tmp_path / "spool" / "worker-1",
        ]
        assert len(listeners(collector.process.pid, collector_port)) == 2
        assert collector.stop() == 0
        assert storage.stop() == 0


def test_workers_refuse_the_embedded_sink(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "crisp", "collector", "--sink", "embedded",
        "--collector-workers", "2", "--spool-dir", str(tmp_path / "spool"),
        "--listen", f"127.0.0.1:{free_port()}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "CRISP_COLLECTOR_WORKERS=2 needs a sink the workers can share" in result.stderr
