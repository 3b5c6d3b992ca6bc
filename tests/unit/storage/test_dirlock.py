"""One engine per data directory: a second opener gets a clear error, never a share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crisp.storage.api import StorageError
from crisp.storage.engine import Engine

from .conftest import make_batch, quiet_options, rows

_HOLDER = """
import sys, time
from pathlib import Path
from crisp.storage.engine import Engine, EngineOptions
engine = Engine(Path(sys.argv[1]), EngineOptions(background=False))
print("open", flush=True)
time.sleep(60)
"""


def test_a_second_engine_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    first = Engine(tmp_path, quiet_options())
    first.create_database("db")
    first.write("db", None, make_batch("m", [{"time": 1, "v": 1.0}]))
    with pytest.raises(StorageError, match=rf"in use by another .*\(pid {os.getpid()}\)"):
        Engine(tmp_path, quiet_options())
    # The refused opener changed nothing: the first engine still reads and writes.
    first.write("db", None, make_batch("m", [{"time": 2, "v": 2.0}]))
    assert [r["v"] for r in rows(first, "db", "m")] == [1.0, 2.0]
    first.close()
    with Engine(tmp_path, quiet_options()) as reopened:
        assert [r["v"] for r in rows(reopened, "db", "m")] == [1.0, 2.0]


def test_the_lock_of_a_killed_process_is_gone_with_it(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StorageError, match=rf"pid {holder.pid}\)"):
            Engine(tmp_path, quiet_options())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the lock with the process; no stale file blocks us
        try:
            Engine(tmp_path, quiet_options()).close()
            break
        except StorageError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
