"""Data files of pre-built request bodies, so ``crisp bench load`` never re-encodes.

Line protocol is stored as plain lines (readable by any Influx tool) and cut into
``--batch``-line bodies when loaded. The other formats are encoded once, at
``generate`` time, into one request body per ``--batch`` lines, stored as::

    MAGIC
    record: JSON header {"format": ..., "batch": ...}
    record: u32 lines | u32 values | body     (one per request)

Records use Crisp's log framing (``u32 length | u32 crc32 | payload``,
``crisp.core.framing``), so a truncated or damaged file is reported, not sent.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crisp.bench.bodies import Body, field_values, split_bodies
from crisp.bench.dataset import DatasetSpec
from crisp.bench.encoders import wire_format
from crisp.bench.generate import generate_batches, write_dataset
from crisp.bench.points import parse_lines
from crisp.core.framing import FRAME, frame, frame_end

MAGIC = b"CRISP-BENCH-BODIES 1\n"
_COUNTS = struct.Struct("<II")  # lines, values
DEFAULT_BATCH = 5000


@dataclass(frozen=True)
class BodyFile:
    format: str
    batch: int | None  # lines per body fixed at generate time; None for line protocol
    bodies: list[Body]


def encoded_bodies(spec: DatasetSpec, format_name: str, batch: int) -> Iterator[Body]:
    """The data set as ``format_name`` request bodies of ``batch`` lines each."""
    encode = wire_format(format_name).encode
    for lines in generate_batches(spec, batch):
        if encode is None:
            yield Body(lines, lines.count(b"\n"), field_values(lines))
            continue
        points = parse_lines(lines)
        encoded = encode(points)
        yield Body(encoded.data, len(points), encoded.values)


def write_data_file(spec: DatasetSpec, format_name: str, batch: int, out: BinaryIO) -> int:
    """Writes the data set in ``format_name``; returns how many lines (points) it holds."""
    if wire_format(format_name).encode is None:
        return write_dataset(spec, out)
    out.write(MAGIC)
    out.write(frame(json.dumps({"format": format_name, "batch": batch}).encode()))
    written = 0
    for body in encoded_bodies(spec, format_name, batch):
        out.write(frame(_COUNTS.pack(body.lines, body.values) + body.data))
        written += body.lines
    return written


def read_data_file(path: Path, batch: int | None) -> BodyFile:
    """Bodies of a generated file; ``batch`` cuts line protocol (default DEFAULT_BATCH lines).

    For a pre-built file, ``batch`` must be None or the size it was built with.
    """
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        return BodyFile("lp", None, split_bodies(data, batch or DEFAULT_BATCH))
    position = len(MAGIC)
    end, problem = frame_end(data, position)
    if problem:
        raise ValueError(f"{path}: damaged header record ({problem})")
    header = json.loads(data[position + FRAME.size : end])
    format_name, built = str(header["format"]), int(header["batch"])
    wire_format(format_name)  # an unknown format is an error here, not at send time
    if batch is not None and batch != built:
        raise ValueError(
            f"{path} holds {format_name} bodies of {built} lines built by generate; "
            f"--batch {batch} cannot re-cut them (regenerate with --batch {batch})"
        )
    bodies = []
    position = end
    while position < len(data):
        end, problem = frame_end(data, position)
        if problem:
            raise ValueError(f"{path}: damaged body record at byte {position} ({problem})")
        payload = data[position + FRAME.size : end]
        lines, values = _COUNTS.unpack_from(payload)
        bodies.append(Body(payload[_COUNTS.size :], lines, values))
        position = end
    return BodyFile(format_name, built, bodies)
