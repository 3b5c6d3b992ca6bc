"""The pre-aggregation checkpoint: how the spool can be acknowledged while windows are open.

Open windows hold points from spool records the delivery loop has read; the spool
may only forget those records once their contribution is safe elsewhere. So, at
every hand-out, the delivery loop writes one file (temp + fsync + rename + directory
fsync) holding the spool position up to which everything was read, the windows' state
at that position and the output about to be delivered (the "outbox"); only then does
it deliver the outbox and acknowledge the spool up to that position. After a crash:

* the outbox is delivered again (the same points: storage overwrites them);
* the windows resume from the saved state and the spool is read from the saved
  position, so no record counts twice and none is skipped.

Nothing computed from records past the saved position ever reached the sink (the
outbox is the only way out for aggregated and late points), so reading them again
with a different clock changes nothing already stored.

Layout: 8-byte magic, then frames (``crisp.core.framing``): a JSON header (position,
window state), then one spool record (``records``) per outbox entry.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crisp.collector.aggregation import Aggregator, Output
from crisp.collector.records import decode_record, encode_record
from crisp.collector.spool import Position
from crisp.core.durable import fsync_dir
from crisp.core.framing import FRAME, frame, frame_end

log = logging.getLogger(__name__)

MAGIC = b"CRAGG001"
CHECKPOINT_FILE = "aggregation.checkpoint"


@dataclass
class Checkpoint:
    position: Position
    state: dict[str, Any] = field(default_factory=dict)
    outbox: list[Output] = field(default_factory=list)


class CheckpointFile:
    def __init__(self, directory: Path) -> None:
        self.path = directory / CHECKPOINT_FILE

    def save(self, checkpoint: Checkpoint) -> None:
        """Write durably (blocking: call it in a worker thread)."""
        header = {
            "position": [checkpoint.position.segment, checkpoint.position.offset],
            "state": checkpoint.state,
        }
        parts = [MAGIC, frame(json.dumps(header).encode())]
        parts += [frame(encode_record(o.database, o.rp, o.batch)) for o in checkpoint.outbox]
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(b"".join(parts))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
        fsync_dir(self.path.parent)

    def load(self) -> Checkpoint | None:
        """The saved checkpoint; None when there is none (or it is damaged: set aside)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return _decode(data)
        except ValueError as error:
            # Written atomically, so only a failing disk gets here: keep it for an
            # operator and start from the spool's own acknowledged position.
            aside = self.path.with_name(self.path.name + ".corrupt")
            self.path.rename(aside)
            log.error("pre-aggregation checkpoint %s is damaged (%s): moved to %s; open "
                      "windows it held are not restored", self.path, error, aside.name)  # fmt: skip
            return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        fsync_dir(self.path.parent)


@dataclass
class PreAggregation:
    """What the delivery loop needs to pre-aggregate: rules + state, checkpoint, clock."""

    aggregator: Aggregator
    checkpoints: CheckpointFile
    clock_ns: Callable[[], int] = time.time_ns


def _decode(data: bytes) -> Checkpoint:
    if not data.startswith(MAGIC):
        raise ValueError("no checkpoint header")
    payloads: list[bytes] = []
    pos = len(MAGIC)
    while pos < len(data):
        end, problem = frame_end(data, pos)
        if problem is not None:
            raise ValueError(problem)
        payloads.append(data[pos + FRAME.size : end])
        pos = end
    if not payloads:
        raise ValueError("no checkpoint body")
    header = json.loads(payloads[0])
    segment, offset = header["position"]
    outbox = []
    for payload in payloads[1:]:
        record = decode_record(payload)
        outbox.append(Output(record.database, record.rp, record.batch))
    return Checkpoint(Position(int(segment), int(offset)), header["state"], outbox)
