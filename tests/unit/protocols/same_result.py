"""Comparing two parsers' results: the vectorised readers against the ones they replace."""

from __future__ import annotations

import math

from crisp.core.batch import ParseResult, PointBatch


def rows(batch: PointBatch) -> list[tuple[str, list[str], list[dict[str, object]]]]:
    """Measurements in order, their column names and rows (NaN made comparable)."""
    return [
        (
            measurement.measurement,
            measurement.table.schema.names,
            [
                {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                for row in measurement.table.to_pylist()
            ],
        )
        for measurement in batch
    ]


def assert_same(new: ParseResult, old: ParseResult) -> None:
    """Same errors, measurements, rows and schemas (metadata included)."""
    assert new.errors == old.errors
    assert rows(new.batch) == rows(old.batch)
    for name, measurement in old.batch.measurements.items():
        assert new.batch.measurements[name].table.schema.equals(
            measurement.table.schema, check_metadata=True
        )
