"""kill -9 of ``crisp storage`` under write load loses no acknowledged point.

Writers send numbered points over HTTP and record each body answered 204. The
process is killed with SIGKILL mid-load, restarted on the same data dir, and every
acknowledged point must be there (unacknowledged ones may or may not be).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import crisp

pytestmark = pytest.mark.e2e

WRITERS = 4
LINES_PER_BODY = 200


def body_for(writer: int, batch: int) -> bytes:
    start = batch * LINES_PER_BODY
    return "".join(
        f"load,writer=w{writer} seq={start + i}i {start + i + 1}\n" for i in range(LINES_PER_BODY)
    ).encode()


def test_kill_9_mid_load_keeps_every_acknowledged_point(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ("storage", "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}")
    acknowledged: dict[int, int] = dict.fromkeys(range(WRITERS), 0)  # batches acked, in order
    stop = threading.Event()

    def writer(index: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            batch = 0
            while not stop.is_set():
                try:
                    response = client.post(
                        "/write", params={"db": "k"}, content=body_for(index, batch)
                    )
                except httpx.HTTPError:
                    return  # the server died under us: this body was not acknowledged
                if response.status_code != 204:
                    return
                acknowledged[index] = batch + 1
                batch += 1

    with crisp(*args) as server:
        server.wait_ready()
        assert httpx.post(f"{url}/query", data={"q": "CREATE DATABASE k"}).status_code == 200
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while sum(acknowledged.values()) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert sum(acknowledged.values()) >= 40, "the load never got going"

    with crisp(*args) as server:
        server.wait_ready()
        for index, batches in acknowledged.items():
            response = httpx.get(
                f"{url}/query",
                params={
                    "db": "k",
                    "q": f"SELECT count(seq), max(seq) FROM load WHERE writer = 'w{index}' "
                    f"AND time >= 0",
                },
            )
            series = response.json()["results"][0].get("series", [])
            count, highest = series[0]["values"][0][1:] if series else (0, -1)
            expected = batches * LINES_PER_BODY
            # Every acknowledged point is there; a body in flight at the kill may be too.
            assert count >= expected, (index, count, expected)
            assert count % LINES_PER_BODY == 0, "a body was persisted partly"
            assert highest == count - 1
        server.stop()
