"""The real storage engine answers like the test-only Storage the other tests use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crisp.core.batch import MeasurementBatch, PointBatch
from crisp.query.executor import execute
from crisp.query.guards import QueryGuards
from crisp.query.results import StatementResult
from crisp.storage.api import Storage
from crisp.storage.engine import Engine
from crisp.storage.options import EngineOptions
from tests.unit.query.conftest import NOW
from tests.unit.query.memory_storage import MemoryStorage

QUERIES = [
    "SHOW MEASUREMENTS; SHOW TAG KEYS; SHOW FIELD KEYS; SHOW SERIES",
    "SHOW TAG VALUES WITH KEY IN (host, region) WHERE host != 'b'",
    "SELECT * FROM cpu WHERE time >= 0",
    "SELECT value, host FROM cpu WHERE host =~ /a|c/ AND time >= 0 ORDER BY time DESC LIMIT 2",
    "SELECT mean(value), count(n), max(value), percentile(value, 50) FROM cpu GROUP BY host",
    "SELECT sum(value) FROM cpu WHERE time >= 0 AND time < 90s GROUP BY time(30s), * fill(0)",
    "SELECT derivative(mean(value)) FROM cpu WHERE time >= 0 GROUP BY time(30s)",
    "SELECT max(value), host FROM /.*/ WHERE region = ''",
]


@pytest.fixture
def engine(tmp_path: Path, storage: MemoryStorage) -> Iterator[Engine]:
    with Engine(tmp_path / "data", EngineOptions(background=False)) as real:
        real.create_database("db")
        for name in storage.measurements("db"):
            batch = PointBatch()
            batch.add(MeasurementBatch(name, storage.data["db"][name]))
            real.write("db", None, batch)
        yield real


def run(storage: Storage, q: str) -> list[StatementResult]:
    guards = QueryGuards(require_time_bound=False)
    return execute(q, storage=storage, database="db", rp=None, now_ns=NOW, guards=guards)


@pytest.mark.parametrize("flushed", [False, True], ids=["buffer", "parquet"])
@pytest.mark.parametrize("q", QUERIES)
def test_engine_matches_memory_storage(
    engine: Engine, storage: MemoryStorage, q: str, flushed: bool
) -> None:
    if flushed:
        engine.flush()
    expected = run(storage, q)
    assert all("error" not in r for r in expected), expected
    assert run(engine, q) == expected
