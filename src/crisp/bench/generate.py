"""Generated data as a file, a stream, or request bodies of N lines each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa

from crisp.bench import api_latency, cpu_only, devops, iot, line_format
from crisp.bench.dataset import DatasetSpec


def line_chunks(spec: DatasetSpec) -> Iterator[pa.Array]:
    """Lines in data-set order as Arrow string arrays, each line ending in ``\\n``."""
    makers = {
        "cpu-only": cpu_only.line_chunks,
        "devops": devops.line_chunks,
        "iot": iot.line_chunks,
        "api-latency": api_latency.line_chunks,
    }
    return makers[spec.use_case](spec)


def generate_batches(spec: DatasetSpec, batch_lines: int) -> Iterator[bytes]:
    """Bodies of exactly ``batch_lines`` lines (the last may be shorter).

    The lines do not depend on ``batch_lines``: concatenating the bodies gives the
    same bytes as :func:`write_dataset`.
    """
    if batch_lines < 1:
        raise ValueError("batch_lines must be at least 1")
    pending: list[pa.Array] = []
    pending_lines = 0
    for chunk in line_chunks(spec):
        pending.append(chunk)
        pending_lines += len(chunk)
        if pending_lines < batch_lines:
            continue
        joined = pa.concat_arrays(pending)
        full = len(joined) - len(joined) % batch_lines
        for begin in range(0, full, batch_lines):
            yield line_format.to_bytes(joined.slice(begin, batch_lines))
        rest = joined.slice(full)
        pending, pending_lines = ([rest], len(rest)) if len(rest) else ([], 0)
    if pending_lines:
        yield line_format.to_bytes(pa.concat_arrays(pending))


def write_dataset(spec: DatasetSpec, out: BinaryIO) -> int:
    """Writes all lines to ``out``; returns how many."""
    written = 0
    for chunk in line_chunks(spec):
        out.write(line_format.to_bytes(chunk))
        written += len(chunk)
    return written
