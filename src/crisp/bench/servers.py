"""Start one benchmark target at a time on a free loopback port with its own data dir.

Each target is the real server a user would run (Crisp's ``crisp storage``, Debian's
``influxd`` and ``victoria-metrics``), configured only where needed to run side by
side with nothing else: loopback ports, a temporary data dir, no telemetry.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 120.0  # a graceful stop may persist buffered data first

INFLUXD_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[retention]
  enabled = false
"""


class ServerUnavailable(Exception):
    """The target is not installed or did not start; the message says which and why."""


@dataclass
class RunningServer:
    target: str
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def peak_rss_bytes(self) -> int | None:
        """Kernel-kept high-water mark of resident memory (VmHWM), no sampling needed."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def cpu_seconds(self) -> float:
        try:
            times = psutil.Process(self.process.pid).cpu_times()
        except psutil.Error:
            return float("nan")
        return float(times.user + times.system)

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def disk_bytes(path: Path) -> int:
    """Bytes allocated on disk under ``path``, as ``du`` counts them."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def command_for(target: str, root: Path, data_dir: Path, port: int) -> tuple[list[str], str]:
    """The command line and the readiness path of ``target``."""
    if target == "crisp":
        listen = f"127.0.0.1:{port}"
        return [
            sys.executable,
            "-m",
            "crisp",
            "storage",
            "--data-dir",
            str(data_dir),
            "--listen",
            listen,
            "--log-level",
            "warning",
        ], "/ping"
    if target == "influxdb":
        binary = _which("influxd", "apt-get install influxdb")
        config = root / "influxdb.conf"
        config.write_text(
            INFLUXD_CONFIG.format(root=data_dir, http_port=port, rpc_port=free_port())
        )
        return [binary, "-config", str(config)], "/ping"
    if target == "victoriametrics":
        binary = _which("victoria-metrics", "apt-get install victoria-metrics")
        return [
            binary,
            f"-storageDataPath={data_dir}",
            f"-httpListenAddr=127.0.0.1:{port}",
            # Generated data starts in 2016: keep it instead of dropping it as too old.
            "-retentionPeriod=100y",
            # Time the query work, not VictoriaMetrics' result cache.
            "-search.disableCache",
            "-loggerLevel=ERROR",
        ], "/health"
    raise ValueError(f"unknown target {target!r}")


def _which(binary: str, install: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise ServerUnavailable(f"{binary} is not installed ({install})")
    return path


@contextlib.contextmanager
def running_server(target: str, root: Path) -> Iterator[RunningServer]:
    """Starts ``target`` under ``root``; stops it (SIGTERM, then SIGKILL) afterwards."""
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command, ready_path = command_for(target, root, data_dir, port)
    log_path = root / f"{target}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        server = RunningServer(target, f"http://127.0.0.1:{port}", data_dir, process, log_path)
        try:
            _wait_ready(server, ready_path)
            yield server
        finally:
            stop(server)


def _wait_ready(server: RunningServer, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + path, timeout=1).status_code in (200, 204):
                return
        if server.process.poll() is not None:
            raise ServerUnavailable(
                f"{server.target} exited with status {server.process.returncode} "
                f"during start-up: {_last_line(server.log_tail())}"
            )
        if time.monotonic() > deadline:
            raise ServerUnavailable(f"{server.target} not ready within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


def _last_line(log: str) -> str:
    """A traceback or fatal log ends with the line that says what went wrong."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def stop(server: RunningServer) -> None:
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
