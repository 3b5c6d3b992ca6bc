"""A test-only Storage: Arrow tables per measurement, read through a real DuckDB.

It stands in for ``crisp.storage.engine`` (built concurrently) so the query layer is
tested against the Storage protocol, not against an engine's internals.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from crisp.core.batch import (
    KIND_TAG,
    FieldType,
    MeasurementBatch,
    PointBatch,
    column_kind,
    measurement_schema,
)
from crisp.storage.api import (
    DatabaseNotFound,
    RetentionPolicy,
    RetentionPolicyNotFound,
    TimeRange,
    WriteResult,
)

WEEK = 7 * 24 * 3600 * 10**9


def table(rows: list[dict[str, Any]], tags: list[str], fields: dict[str, FieldType]) -> pa.Table:
    """Rows ({"time": ns, tag: str, field: value}) as a crisp measurement table."""
    schema = measurement_schema(tags, fields)
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
    )


@dataclass
class MemorySnapshot:
    connection: Any
    schema: pa.Schema


@dataclass
class MemoryStorage:
    data: dict[str, dict[str, pa.Table]] = field(default_factory=dict)
    policies: dict[str, list[RetentionPolicy]] = field(default_factory=dict)
    deletes: list[tuple[str, str | None, TimeRange, dict[str, str] | None]] = field(
        default_factory=list
    )
    snapshots: list[tuple[str, str | None, str, TimeRange]] = field(default_factory=list)

    def add(self, database: str, measurement: str, points: pa.Table) -> None:
        if database not in self.data:
            self.create_database(database)
        self.data[database][measurement] = points

    def _db(self, name: str) -> dict[str, pa.Table]:
        if name not in self.data:
            raise DatabaseNotFound(name)
        return self.data[name]

    def databases(self) -> list[str]:
        return list(self.data)

    def create_database(self, name: str) -> None:
        if name not in self.data:
            self.data[name] = {}
            self.policies[name] = [RetentionPolicy("autogen", 0, WEEK, 1, True)]

    def drop_database(self, name: str) -> None:
        self._db(name)
        del self.data[name]
        del self.policies[name]

    def retention_policies(self, database: str) -> list[RetentionPolicy]:
        self._db(database)
        return list(self.policies[database])

    def create_retention_policy(self, database: str, rp: RetentionPolicy) -> None:
        self._db(database)
        if rp.default:
            self.policies[database] = [replace(p, default=False) for p in self.policies[database]]
        self.policies[database].append(rp)

    def alter_retention_policy(
        self,
        database: str,
        name: str,
        *,
        duration_ns: int | None = None,
        shard_group_duration_ns: int | None = None,
        replication: int | None = None,
        default: bool | None = None,
    ) -> None:
        policies = self.retention_policies(database)
        if name not in {p.name for p in policies}:
            raise RetentionPolicyNotFound(database, name)
        updated = []
        for p in policies:
            if p.name == name:
                p = RetentionPolicy(
                    name,
                    p.duration_ns if duration_ns is None else duration_ns,
                    p.shard_group_duration_ns
                    if shard_group_duration_ns is None
                    else shard_group_duration_ns,
                    p.replication if replication is None else replication,
                    p.default if default is None else default,
                )
            elif default:
                p = replace(p, default=False)
            updated.append(p)
        self.policies[database] = updated

    def drop_retention_policy(self, database: str, name: str) -> None:
        policies = self.retention_policies(database)
        if name not in {p.name for p in policies}:
            raise RetentionPolicyNotFound(database, name)
        self.policies[database] = [p for p in policies if p.name != name]

    def write(self, database: str, rp: str | None, batch: PointBatch) -> WriteResult:
        for m in batch:
            self.add(database, m.measurement, m.table)
        return WriteResult(batch.num_points, batch.num_values)

    def measurements(self, database: str) -> list[str]:
        return sorted(self._db(database))

    def tag_keys(self, database: str, measurement: str) -> list[str]:
        return MeasurementBatch(measurement, self._db(database)[measurement]).tag_keys

    def tag_values(self, database: str, measurement: str, key: str) -> list[str]:
        column = self._db(database)[measurement].column(key)
        return sorted({v for v in column.to_pylist() if v is not None})

    def field_types(self, database: str, measurement: str) -> dict[str, FieldType]:
        return MeasurementBatch(measurement, self._db(database)[measurement]).field_types

    def series(self, database: str, measurement: str) -> Iterator[dict[str, str]]:
        points = self._db(database)[measurement]
        keys = [f.name for f in points.schema if column_kind(f) == KIND_TAG]
        seen = set()
        for row in points.select(keys).to_pylist():
            tags = tuple((k, v) for k, v in row.items() if v is not None)
            if tags not in seen:
                seen.add(tags)
                yield dict(tags)

    @contextmanager
    def snapshot(
        self,
        database: str,
        rp: str | None,
        measurement: str,
        time_range: TimeRange,
        *,
        shared: bool = False,
    ) -> Iterator[MemorySnapshot]:
        self.snapshots.append((database, rp, measurement, time_range))
        points = self._db(database)[measurement]
        mask = pc.greater_equal(points["time"], time_range.start_ns or -(2**63))
        if time_range.end_ns is not None:
            mask = pc.and_(mask, pc.less(points["time"], time_range.end_ns))
        visible = points.filter(mask)
        with duckdb.connect(":memory:") as con:
            con.register("points", visible)
            yield MemorySnapshot(con, points.schema)

    def drop_measurement(self, database: str, measurement: str) -> None:
        self._db(database).pop(measurement, None)

    def delete(
        self,
        database: str,
        measurement: str | None,
        time_range: TimeRange,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.deletes.append((database, measurement, time_range, tags))

    def close(self) -> None:
        pass

