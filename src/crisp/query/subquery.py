"""Subquery results as a ``points`` table, so the outer SELECT runs like on a measurement.

The inner series become rows: their tags become tag columns and their value columns
become fields (typed from the values), marked with ``crisp.kind`` like stored data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from crisp.core.batch import FieldType, measurement_schema
from crisp.query.influxql import ast
from crisp.query.results import Series
from crisp.query.timecond import TimeBounds


@dataclass(frozen=True)
class MemorySnapshot:
    connection: Any
    schema: pa.Schema


def with_outer_bounds(inner: ast.SelectStatement, bounds: TimeBounds) -> ast.SelectStatement:
    """``inner`` with the outer query's time range ANDed in, as InfluxDB propagates it."""
    terms: list[ast.Expr] = []
    time = ast.VarRef("time")
    if bounds.start_ns is not None:
        terms.append(ast.BinaryExpr(">=", time, ast.IntegerLiteral(bounds.start_ns)))
    if bounds.end_ns is not None:
        terms.append(ast.BinaryExpr("<", time, ast.IntegerLiteral(bounds.end_ns)))
    condition = inner.condition
    for term in terms:
        condition = term if condition is None else ast.BinaryExpr("AND", condition, term)
    return ast.SelectStatement(**{**inner.__dict__, "condition": condition})


def series_tables(series: list[Series]) -> dict[str, pa.Table]:
    """One crisp-shaped table per series name."""
    by_name: dict[str, list[Series]] = {}
    for one in series:
        by_name.setdefault(one.get("name", ""), []).append(one)
    return {name: _table(members) for name, members in sorted(by_name.items())}


def _table(members: list[Series]) -> pa.Table:
    tag_keys = sorted({k for s in members for k in s.get("tags", {})})
    field_keys = sorted({c for s in members for c in s["columns"][1:]} - set(tag_keys))
    rows: list[dict[str, Any]] = []
    for s in members:
        tags = s.get("tags", {})
        for values in s["values"]:
            row = dict(zip(s["columns"], values, strict=True))
            row.update(tags)
            rows.append(row)
    fields = {key: _field_type([row.get(key) for row in rows]) for key in field_keys}
    schema = measurement_schema(tag_keys, fields)
    columns = {
        name: pa.array(
            [_coerce(row.get(name), fields.get(name)) for row in rows], schema.field(name).type
        )
        for name in schema.names
    }
    return pa.table(columns, schema=schema)


def _field_type(values: list[Any]) -> FieldType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return FieldType.BOOLEAN
    if present and all(isinstance(v, str) for v in present):
        return FieldType.STRING
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return FieldType.INTEGER
    return FieldType.FLOAT


def _coerce(value: Any, field_type: FieldType | None) -> Any:
    if value is None or field_type is not FieldType.FLOAT:
        return value
    return float(value)


@contextmanager
def memory_snapshot(table: pa.Table) -> Iterator[MemorySnapshot]:
    with duckdb.connect(":memory:") as connection:
        connection.register("points", table)
        yield MemorySnapshot(connection, table.schema)
