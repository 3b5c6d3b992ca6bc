"""The reference ``lp_encode``'s column-wise path is compared against: every measurement
of a batch written row by row by ``crisp.collector.lp_rows`` (the encoder as it was
before the column-wise path, moved there unchanged)."""

from __future__ import annotations

from crisp.collector.lp_rows import Encoded, encode_rows
from crisp.core.batch import PointBatch


def encode_batch(batch: PointBatch) -> Encoded:
    parts = [encode_rows(measurement) for measurement in batch]
    return Encoded(
        b"".join(part.body for part in parts),
        sum(part.points for part in parts),
        sum(part.dropped_values for part in parts),
        sum(part.dropped_points for part in parts),
    )
