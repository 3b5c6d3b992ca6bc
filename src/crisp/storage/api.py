"""The storage interface the query layer and the sinks use.

``crisp.storage.engine.Engine`` implements it for the embedded engine; other storage
(an InfluxDB-compatible server over HTTP) is reached through the same verbs by the
router and the collector's sinks. Keep this surface narrow: anything the query layer
needs from storage is a method here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from crisp.core.batch import FieldType, PointBatch


class StorageError(Exception):
    """Base of errors storage reports to callers; ``str()`` is safe to show a user."""


class DatabaseNotFound(StorageError):
    def __init__(self, database: str) -> None:
        super().__init__(f'database not found: "{database}"')


class RetentionPolicyNotFound(StorageError):
    def __init__(self, database: str, rp: str) -> None:
        super().__init__(f"retention policy not found: {rp} (database {database})")


class FieldTypeConflict(StorageError):
    """A write gives a field a different type than it already has in its shard."""


class LimitExceeded(StorageError):
    """A configured limit (series per measurement, per database, ...) refused a write."""


@dataclass(frozen=True)
class RetentionPolicy:
    name: str
    duration_ns: int  # 0 = keep forever
    shard_group_duration_ns: int
    replication: int = 1
    default: bool = False


@dataclass(frozen=True)
class WriteResult:
    """What a write stored. Points refused one by one (field type conflict, a key that
    is a tag and a field, a new series past a limit) are dropped and counted here, as
    InfluxDB 1.x drops them; the rest of the write is stored."""

    points_written: int
    values_written: int
    dropped_points: int = 0
    drop_reasons: tuple[str, ...] = ()

    def partial_write_message(self) -> str:
        """InfluxDB's wording for a write that dropped points (empty when none)."""
        if not self.dropped_points:
            return ""
        return f"partial write: {'; '.join(self.drop_reasons)} dropped={self.dropped_points}"


@dataclass(frozen=True)
class TimeRange:
    """Half-open ``[start_ns, end_ns)``; either end may be open (None)."""

    start_ns: int | None = None
    end_ns: int | None = None


class Snapshot(Protocol):
    """A consistent read of one measurement over a time range.

    ``connection`` is a DuckDB connection on which a view or table named ``points``
    holds the measurement's rows (time, tag columns, field columns, as in
    ``crisp.core.batch``), deduplicated (same series and time: last write wins per
    field) and restricted to the snapshot's time range. Files it reads are not deleted
    while the snapshot is open; writes go on meanwhile and are not seen by it.
    """

    @property
    def connection(self) -> Any: ...

    @property
    def schema(self) -> pa.Schema: ...


class Storage(Protocol):
    # databases and retention policies
    def databases(self) -> list[str]: ...
    def create_database(self, name: str) -> None: ...
    def drop_database(self, name: str) -> None: ...
    def retention_policies(self, database: str) -> list[RetentionPolicy]: ...
    def create_retention_policy(self, database: str, rp: RetentionPolicy) -> None: ...
    def alter_retention_policy(
        self,
        database: str,
        name: str,
        *,
        duration_ns: int | None = None,
        shard_group_duration_ns: int | None = None,
        replication: int | None = None,
        default: bool | None = None,
    ) -> None: ...
    def drop_retention_policy(self, database: str, name: str) -> None: ...

    # writes: durable (WAL fsynced) when this returns
    def write(self, database: str, rp: str | None, batch: PointBatch) -> WriteResult: ...
    def write_lines(
        self, database: str, rp: str | None, body: bytes, precision: str, default_time_ns: int
    ) -> int:
        """Line protocol, durable when this returns, parsed just after; every read that
        starts later sees it. Lines refused by that parse are kept aside, not lost."""
        ...

    # catalog (fast: served from the in-memory catalog, not by scanning data)
    def measurements(self, database: str) -> list[str]: ...
    def tag_keys(self, database: str, measurement: str) -> list[str]: ...
    def tag_values(self, database: str, measurement: str, key: str) -> list[str]: ...
    def field_types(self, database: str, measurement: str) -> dict[str, FieldType]: ...
    def series(self, database: str, measurement: str) -> Iterator[dict[str, str]]:
        """Tag sets of the measurement's series, each as {tag key: value}."""
        ...

    # reads
    def snapshot(
        self,
        database: str,
        rp: str | None,
        measurement: str,
        time_range: TimeRange,
        *,
        shared: bool = False,
    ) -> AbstractContextManager[Snapshot]:
        """``shared``: the caller's SQL applies ``time_range`` itself and creates nothing
        on the connection, so ``points`` may be a view kept from an earlier snapshot of
        the same sources, holding rows outside the range (``crisp.storage.shared_views``).
        """
        ...

    # deletes
    def drop_measurement(self, database: str, measurement: str) -> None: ...
    def delete(
        self,
        database: str,
        measurement: str | None,
        time_range: TimeRange,
        tags: dict[str, str] | None = None,
    ) -> None: ...

    def close(self) -> None: ...
