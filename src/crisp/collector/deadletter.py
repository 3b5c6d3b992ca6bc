"""Batches the sink refused for good (4xx): kept as line protocol files to resend.

A file is ``<dir>/<time ns>-<seq>.lp``: a first line
``# crisp-dead-letter db=<db> rp=<rp> status=<code> reason=<why>`` (values
percent-encoded) followed by the batch in line protocol. Being plain line protocol
(after the header), a file can be read, fixed by hand and resent; ``crisp collector
replay-dead-letters`` posts each to a collector's ``/write`` and removes it once
acknowledged.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from crisp.core.durable import fsync_dir

HEADER_PREFIX = b"# crisp-dead-letter "


@dataclass(frozen=True)
class DeadLetter:
    path: Path
    database: str
    rp: str | None
    status: int
    reason: str
    body: bytes


class DeadLetters:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seq = itertools.count()

    def write(self, database: str, rp: str | None, status: int, reason: str, body: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        header = (
            f"db={quote(database, safe='')} rp={quote(rp or '', safe='')} "
            f"status={status} reason={quote(reason, safe='')}\n"
        ).encode()
        path = self.directory / f"{time.time_ns()}-{next(self._seq)}.lp"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            handle.write(HEADER_PREFIX + header + body)
            handle.flush()
            # The spool segment holding these points may be deleted right after: the
            # dead letter must be on disk first.
            os.fsync(handle.fileno())
        tmp.replace(path)
        fsync_dir(self.directory)
        return path

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.lp"))


def read_dead_letter(path: Path) -> DeadLetter:
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if not header.startswith(HEADER_PREFIX):
        raise ValueError(f"{path}: not a crisp dead-letter file (no header line)")
    values = dict(
        item.split("=", 1) for item in header[len(HEADER_PREFIX) :].decode().split(" ") if item
    )
    return DeadLetter(
        path,
        unquote(values.get("db", "")),
        unquote(values.get("rp", "")) or None,
        int(values.get("status", "0")),
        unquote(values.get("reason", "")),
        body,
    )
