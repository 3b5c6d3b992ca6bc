"""run_sql's guards on a real engine: the row cap and the timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from crisp.core.batch import FieldType, MeasurementBatch, PointBatch, measurement_schema
from crisp.query.errors import QueryError
from crisp.query.guards import QueryGuards
from crisp.query.sql_query import run_sql
from crisp.storage.api import TimeRange
from crisp.storage.engine import Engine, EngineOptions


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path, EngineOptions(background=False))
    engine.create_database("db")
    schema = measurement_schema(["host"], {"v": FieldType.INTEGER})
    rows = 5000
    table = pa.Table.from_arrays(
        [
            pa.array(range(rows)),
            pa.array([f"h{i % 50}" for i in range(rows)]),
            pa.array(range(rows)),
        ],
        schema=schema,
    )
    engine.write("db", None, PointBatch({"m": MeasurementBatch("m", table)}))
    yield engine
    engine.close()


def run(engine: Engine, q: str, guards: QueryGuards) -> pa.Table:
    return run_sql(q, storage=engine, database="db", rp=None, time_range=TimeRange(), guards=guards)


def test_more_rows_than_the_cap_is_refused_with_advice(engine: Engine) -> None:
    assert run(engine, "SELECT v FROM m", QueryGuards(max_points=5000)).num_rows == 5000
    with pytest.raises(QueryError, match="more than 4999 rows: add a LIMIT"):
        run(engine, "SELECT v FROM m", QueryGuards(max_points=4999))


def test_a_runaway_query_is_interrupted_at_the_timeout(engine: Engine) -> None:
    huge = "SELECT count(*) FROM m a, m b, m c"  # 125 billion rows: only a timeout ends it
    with pytest.raises(QueryError, match="query timeout"):
        run(engine, huge, QueryGuards(timeout_seconds=0.5))
