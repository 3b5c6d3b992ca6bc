"""Small batches and spooled records for the collector's unit tests."""

from __future__ import annotations

from crisp.collector.records import encode_record
from crisp.core.batch import PointBatch
from crisp.protocols.line_protocol import parse_line_protocol


def lp_batch(text: str) -> PointBatch:
    result = parse_line_protocol(text.encode(), default_time_ns=0)
    assert not result.errors, result.errors
    return result.batch


def record(seq: int, database: str = "db", rp: str | None = None) -> bytes:
    return encode_record(database, rp, lp_batch(f"m,src=t seq={seq}i {seq}"))


def seqs(batch: PointBatch) -> list[int]:
    return [int(v) for m in batch for v in m.table.column("seq").to_pylist()]
