"""Several collector processes on one port (``CRISP_COLLECTOR_WORKERS``).

Python parses on one core per process, so ``crisp collector`` with N workers becomes a
small supervisor that starts N ``crisp collector`` processes with the same settings.
Each binds the listen port itself: granian's embedded server sets ``SO_REUSEPORT``
on Linux, so the kernel spreads incoming connections over the workers. The
supervisor checks the port is free first (``SO_REUSEPORT`` would otherwise let a
second, unrelated collector join silently), waits until every worker is ready, keeps
them running (a worker that dies is started again: its spool is replayed, nothing it
acknowledged is lost) and forwards SIGTERM/SIGINT for a graceful stop.

The loss-free rule holds per worker: worker N acknowledges a request once the points
are fsynced in its own spool ``SPOOL_DIR/worker-N`` (dead letters under it too), and
only it delivers from that spool. Only one process may own an embedded engine's data
directory, so workers need an ``http(s)://`` or ``nats://`` sink. What stays per
worker: ``/metrics`` and ``/health`` answer for the worker the connection reached,
and the cardinality guard counts per worker. UDP is read by worker 0 only.

Why not granian's own workers: its process workers import the app by name and run
only the ASGI app, not the spool and delivery components around it; its embedded
server (the one Crisp uses, in our own loop) has no process workers.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from crisp.core.settings import Settings
from crisp.influxapi.server import check_port_free

log = logging.getLogger(__name__)

READY_PREFIX = "Crisp is ready"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
RESTART_DELAY_S = 1.0


def worker_spool_dir(spool_dir: Path, index: int) -> Path:
    return spool_dir / f"worker-{index}"


def worker_settings(settings: Settings, index: int) -> Settings:
    """Worker ``index``'s own settings: its spool directory, UDP on worker 0 only."""
    return dataclasses.replace(
        settings,
        spool_dir=worker_spool_dir(settings.spool_dir, index),
        collector_udp_listen=settings.collector_udp_listen if index == 0 else None,
        collector_workers=1,
    )


def check_workers(settings: Settings) -> None:
    """``ValueError`` when N workers cannot run with these settings."""
    if settings.sink == "embedded":
        raise ValueError(
            f"CRISP_COLLECTOR_WORKERS={settings.collector_workers} needs a sink the workers "
            "can share: with --sink embedded only one process may own the data directory; "
            "run `crisp storage` and use --sink http://HOST:PORT (or a nats:// stream)"
        )
    try:
        check_port_free(settings.collector_listen)
    except OSError as error:
        raise ValueError(str(error)) from None


class Supervisor:
    """Runs one process per command line, restarts those that die, stops them all."""

    def __init__(self, commands: Sequence[Sequence[str]], settings: Settings) -> None:
        self._commands = [list(c) for c in commands]
        self._settings = settings
        self._processes: list[subprocess.Popen[str]] = []
        self._ready = [threading.Event() for _ in commands]
        self._stop = threading.Event()
        self._print_lock = threading.Lock()

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self._processes = [self._spawn(i) for i in range(len(self._commands))]
            if not self._wait_ready():
                self._stop_all()
                return 1
            self._print_ready()
            while not self._stop.wait(0.2):
                self._restart_dead()
            return self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _spawn(self, index: int) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            self._commands[index], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        threading.Thread(target=self._pump, args=(index, process), daemon=True).start()
        return process

    def _pump(self, index: int, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY_PREFIX):
                self._ready[index].set()
            with self._print_lock:
                sys.stdout.write(f"worker-{index} | {line}")
                sys.stdout.flush()

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(ready.is_set() for ready in self._ready):
            failed = [i for i, p in enumerate(self._processes) if p.poll() is not None]
            if failed or self._stop.is_set() or time.monotonic() > deadline:
                for index in failed:
                    code = self._processes[index].returncode
                    log.error("collector worker %d exited during start-up (status %s)",
                              index, code)  # fmt: skip
                return False
            time.sleep(0.05)
        return True

    def _print_ready(self) -> None:
        s = self._settings
        url = s.collector_listen.url
        lines = [
            "Crisp is ready:",
            f"  {'collector ingest API':<24} {url}/write?db=DB",
            f"  {'workers':<24} {len(self._processes)} processes sharing {s.collector_listen}",
            f"  {'spool directories':<24} {worker_spool_dir(s.spool_dir.resolve(), 0)} …",
            "Stop with Ctrl-C (SIGINT) or SIGTERM; buffered data is flushed first.",
        ]
        with self._print_lock:
            print("\n".join(lines), flush=True)

    def _restart_dead(self) -> None:
        for index, process in enumerate(self._processes):
            if process.poll() is None or self._stop.is_set():
                continue
            log.error("collector worker %d exited (status %s); starting it again in %.0f s",
                      index, process.returncode, RESTART_DELAY_S)  # fmt: skip
            if self._stop.wait(RESTART_DELAY_S):
                return
            self._processes[index] = self._spawn(index)

    def _stop_all(self) -> int:
        """SIGTERM every worker, wait for each; 0 when all stopped cleanly."""
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        status = 0
        for index, process in enumerate(self._processes):
            try:
                code = process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.error("collector worker %d did not stop within %.0f s: killed; its spool "
                          "is replayed at the next start", index, STOP_TIMEOUT_S)  # fmt: skip
                process.kill()
                code = process.wait()
            if code != 0:
                status = 1
        return status
