"""Group spooled records into batches per (database, retention policy).

The delivery loop adds the records it reads from the spool and takes the batches out
when a batch reaches ``writer_batch_size`` points or its oldest point has waited
``writer_flush_interval`` (the seed's two triggers). Records whose columns cannot be
merged (a field that is an integer in one request and a float in another) start a new
batch, so the sink sees the same type conflict it would have seen from the clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from crisp.core.batch import MeasurementBatch, PointBatch

Key = tuple[str, str | None]


@dataclass
class PendingBatch:
    database: str
    rp: str | None
    batch: PointBatch
    first_added: float


@dataclass
class Batcher:
    batch_size: int
    flush_interval: float
    _open: dict[Key, PendingBatch] = field(default_factory=dict)
    _sealed: list[PendingBatch] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(p.batch.num_points for p in self._open.values()) + sum(
            p.batch.num_points for p in self._sealed
        )

    def add(self, database: str, rp: str | None, batch: PointBatch, now: float) -> None:
        if batch.num_points == 0:
            return
        key = (database, rp)
        pending = self._open.get(key)
        if pending is not None:
            merged = merged_batch(pending.batch, batch)
            if merged is not None:
                pending.batch = merged
            else:
                self._sealed.append(self._open.pop(key))
                pending = None
        if pending is None:
            pending = PendingBatch(database, rp, batch, now)
            self._open[key] = pending
        if pending.batch.num_points >= self.batch_size:
            self._sealed.append(self._open.pop(key))

    def due(self, now: float) -> bool:
        """Whether a batch is full or has waited its flush interval."""
        if self._sealed:
            return True
        return any(now - p.first_added >= self.flush_interval for p in self._open.values())

    def seconds_until_due(self, now: float) -> float:
        """How long until the oldest open batch reaches its flush interval (0 if due)."""
        if self._sealed or not self._open:
            return 0.0
        oldest = min(p.first_added for p in self._open.values())
        return max(0.0, oldest + self.flush_interval - now)

    def full(self) -> bool:
        return bool(self._sealed) or self.points >= self.batch_size

    def take_all(self) -> list[PendingBatch]:
        """Every batch, full or not, oldest first; the batcher is empty afterwards."""
        batches = self._sealed + sorted(self._open.values(), key=lambda p: p.first_added)
        self._sealed = []
        self._open = {}
        return batches


def merged_batch(left: PointBatch, right: PointBatch) -> PointBatch | None:
    """``left`` + ``right`` as a new batch, or None when a column's type clashes."""
    measurements = dict(left.measurements)
    for measurement in right:
        existing = measurements.get(measurement.measurement)
        if existing is None:
            measurements[measurement.measurement] = measurement
            continue
        try:
            table = pa.concat_tables(
                [existing.table, measurement.table], promote_options="default"
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        measurements[measurement.measurement] = MeasurementBatch(measurement.measurement, table)
    return PointBatch(measurements)
