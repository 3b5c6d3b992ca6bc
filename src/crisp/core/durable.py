"""Making file-system changes survive a crash: shared by the WAL, manifest and spool."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Make a create, rename or unlink in ``directory`` durable.

    A file's own fsync covers its bytes, not its name: the directory entry is only
    on disk once the directory itself is fsynced.
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
