"""Lines acknowledged by ``Engine.write_lines`` that parsing or the catalog refused.

A body written with ``write_lines`` is acknowledged once its raw bytes are fsynced in
the WAL; a line found bad afterwards can no longer get a 400. It is not dropped
silently either: it goes to ``rejected/<UTC date>.lp`` in the data directory, under a
comment naming where it was going and why, so an operator can fix the file and send
it again (same series and time overwrite). A record replayed after a crash may repeat
its lines in the file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from crisp.storage.wal import WalLines

log = logging.getLogger(__name__)

REJECTED_DIR = "rejected"


class RejectedLines:
    def __init__(self, data_dir: Path, clock: Callable[[], int]) -> None:
        self.directory = data_dir / REJECTED_DIR
        self._clock = clock
        self._lock = threading.Lock()

    def add(self, record: WalLines, rejected: Sequence[tuple[int, str]]) -> int:
        """Keep the record's lines numbered in ``rejected`` (1-based, with reasons).

        Returns how many lines were kept.
        """
        if not rejected:
            return 0
        lines = record.body.split(b"\n")
        now = datetime.fromtimestamp(self._clock() / 1e9, tz=UTC)
        out: list[bytes] = []
        for number, reason in rejected:
            header = (
                f"# {now:%Y-%m-%dT%H:%M:%SZ} db={record.database} rp={record.rp} "
                f"precision={record.precision} default_time_ns={record.default_time_ns} "
                f"line {number}: {reason}"
            )
            out += [header.replace("\n", " ").encode(), lines[number - 1].rstrip(b"\r")]
        path = self.directory / f"{now:%Y-%m-%d}.lp"
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as f:
                f.write(b"\n".join(out) + b"\n")
        log.warning(
            "%d line(s) of an acknowledged write to %s.%s refused after parsing, kept in %s; "
            "first: line %d: %s",
            len(rejected),
            record.database,
            record.rp,
            path,
            rejected[0][0],
            rejected[0][1],
        )
        return len(rejected)
