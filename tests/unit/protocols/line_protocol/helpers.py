"""Turning parser output into plain values that tests compare."""

from __future__ import annotations

from typing import Any

from crisp.core.batch import KIND_FIELD, KIND_TAG, ParseResult, column_kind

from .reference_parser import RefResult


def points_by_measurement(result: ParseResult) -> dict[str, list[tuple[Any, ...]]]:
    """measurement → [(time, tags, fields with type names)] in row order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for measurement in result.batch:
        table = measurement.table
        types = {key: field_type.value for key, field_type in measurement.field_types.items()}
        kinds = {column.name: column_kind(column) for column in table.schema}
        rows = []
        for row in table.to_pylist():
            tags = {k: v for k, v in row.items() if kinds[k] == KIND_TAG and v is not None}
            fields = {
                k: (types[k], v) for k, v in row.items() if kinds[k] == KIND_FIELD and v is not None
            }
            rows.append((row["time"], tags, fields))
        out[measurement.measurement] = rows
    return out


def reference_by_measurement(result: RefResult) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for point in result.points:
        out.setdefault(point.measurement, []).append((point.time, point.tags, point.fields))
    return out
