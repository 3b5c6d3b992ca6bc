"""Helpers for storage tests: small PointBatches and engines with no background threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
from crisp.storage.engine import Engine
from crisp.storage.options import EngineOptions

_TYPES = {float: FieldType.FLOAT, int: FieldType.INTEGER, bool: FieldType.BOOLEAN,
          str: FieldType.STRING}


def make_batch(measurement: str, rows: list[dict[str, Any]], *,
               tags: tuple[str, ...] = ("host", "region"),
               types: dict[str, FieldType] | None = None) -> PointBatch:
    """Rows are dicts with "time", tag keys (from ``tags``) and field values."""
    tag_keys = sorted({k for r in rows for k in r if k in tags})
    fields: dict[str, FieldType] = dict(types or {})
    for r in rows:
        for k, v in r.items():
            if k != "time" and k not in tags and k not in fields and v is not None:
                fields[k] = _TYPES[type(v)]
    schema = measurement_schema(tag_keys, fields)
    table = pa.Table.from_pylist(
        [{name: r.get(name) for name in schema.names} for r in rows], schema=schema
    )
    batch = PointBatch()
    batch.add(MeasurementBatch(measurement, table))
    return batch


def rows(engine: Engine, db: str, measurement: str, *, rp: str | None = None,
         start: int | None = None, end: int | None = None) -> list[dict[str, Any]]:
    from crisp.storage.api import TimeRange

    with engine.snapshot(db, rp, measurement, TimeRange(start, end)) as snap:
        cur = snap.connection
        result = cur.execute("SELECT * FROM points ORDER BY ALL").fetchall()
        names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in result]


def quiet_options(**overrides: Any) -> EngineOptions:
    return EngineOptions(background=False, **overrides)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    eng = Engine(data_dir, quiet_options())
    eng.create_database("db")
    yield eng
    eng.close()


def crash(engine: Engine) -> None:
    """Stop using an engine without close(), like kill -9: nothing is parsed, flushed or
    persisted; the directory lock goes as the kernel would drop it with the process."""
    engine._wal.close()
    engine._reads.close()
    engine._files.close()
    engine._dir_lock.release()
