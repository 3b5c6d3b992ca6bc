"""Run ``crisp`` as a real process, the way a user or an init system does, and read
what a running storage holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port

# Start-up banners and warnings only: the tests read the output on failure.
QUIET = {"CRISP_LOG_LEVEL": "warning"}


class CrispProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.output: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("Crisp is ready"):
                self._ready.set()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("crisp did not become ready:\n" + "".join(self.output))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextmanager
def crisp(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[CrispProcess]:
    process = subprocess.Popen(
        [sys.executable, "-m", "crisp", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    running = CrispProcess(process)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_crisp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A one-off ``crisp`` command (``manage``, ``alerts import`` …), which must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "crisp", *args],
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def query_rows(storage_url: str, db: str, q: str) -> list[list[Any]]:
    """The rows of every series ``q`` answers; none while ``db`` does not exist yet
    (nothing delivered)."""
    response = httpx.get(f"{storage_url}/query", params={"db": db, "q": q}, timeout=10)
    result = response.json()["results"][0]
    series = result.get("series", []) if "error" not in result else []
    return [values for s in series for values in s["values"]]


@dataclass(frozen=True)
class CollectorStack:
    """The command lines of a ``crisp storage`` and of a ``crisp collector`` writing to
    it, on free ports."""

    storage_port: int
    collector_port: int
    storage_args: tuple[str, ...]
    collector_args: tuple[str, ...]

    @property
    def storage_url(self) -> str:
        return f"http://127.0.0.1:{self.storage_port}"

    @property
    def collector_url(self) -> str:
        return f"http://127.0.0.1:{self.collector_port}"


def collector_stack(tmp_path: Path, *collector_flags: str) -> CollectorStack:
    """Storage data in ``tmp_path/data``, the collector's spool in ``tmp_path/spool``;
    ``collector_flags``, what a test is about, end the collector's command line."""
    storage_port, collector_port = free_port(), free_port()
    return CollectorStack(
        storage_port,
        collector_port,
        ("storage", "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{storage_port}"),
        (
            "collector", "--listen", f"127.0.0.1:{collector_port}",
            "--sink", f"http://127.0.0.1:{storage_port}", "--spool-dir", str(tmp_path / "spool"),
            *collector_flags,
        ),
    )  # fmt: skip


# Short flush and retry delays: tests stop and restart the sink and wait for delivery.
QUICK_DELIVERY = (
    "--writer-flush-interval", "100ms", "--sink-retry-initial", "50ms", "--sink-retry-max", "500ms",
)  # fmt: skip


class ProcessStack:
    """A ``crisp storage`` and a ``crisp collector`` writing to it (quick delivery),
    each started when a test asks, so it can stop one while the other runs."""

    def __init__(self, tmp_path: Path) -> None:
        commands = collector_stack(tmp_path, *QUICK_DELIVERY)
        self.storage_url = commands.storage_url
        self.collector_url = commands.collector_url
        self.storage_args = commands.storage_args
        self.collector_args = commands.collector_args

    @contextmanager
    def storage(self) -> Iterator[CrispProcess]:
        with crisp(*self.storage_args, env=QUIET) as process:
            process.wait_ready()
            yield process
            process.stop()

    @contextmanager
    def collector(self) -> Iterator[CrispProcess]:
        with crisp(*self.collector_args, env=QUIET) as process:
            process.wait_ready()
            yield process
