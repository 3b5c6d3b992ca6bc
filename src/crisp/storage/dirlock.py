"""One engine per data directory: an exclusive ``flock`` on ``<data dir>/LOCK``.

Two processes (or two engines in one process) writing one directory would interleave
WAL segments, reuse sequence numbers and delete each other's files. The lock is held
for the engine's lifetime and released by the kernel when the process dies, so a
crash never leaves a stale lock behind; the file keeps the holder's pid for the
message a second opener gets.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from crisp.storage.api import StorageError

LOCK_FILE = "LOCK"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        path = data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StorageError(
                f"data directory {data_dir} is in use by another Crisp storage engine "
                f"(pid {holder}); stop it or choose another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
