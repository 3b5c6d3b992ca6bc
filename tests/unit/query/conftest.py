"""Fixtures: a small hand-checkable measurement in a test-only Storage."""

from __future__ import annotations

import pytest

from crisp.core.batch import FieldType
from tests.unit.query.memory_storage import MemoryStorage, table

S = 10**9  # one second in ns
NOW = 120 * S

CPU_ROWS = [
    {"time": 0, "host": "a", "region": "eu", "value": 1.0, "n": 1},
    {"time": 10 * S, "host": "a", "region": "eu", "value": 2.0, "n": 2},
    {"time": 20 * S, "host": "a", "region": "eu", "value": 4.0, "n": 3},
    {"time": 60 * S, "host": "a", "region": "eu", "value": 8.0, "n": 4},
    {"time": 0, "host": "b", "region": "us", "value": 10.0},
    {"time": 30 * S, "host": "b", "region": "us", "value": 20.0},
    {"time": 5 * S, "host": "c", "value": 100.0, "s": "x"},
]


@pytest.fixture
def storage() -> MemoryStorage:
    memory = MemoryStorage()
    memory.add(
        "db",
        "cpu",
        table(
            CPU_ROWS,
            ["host", "region"],
            {"value": FieldType.FLOAT, "n": FieldType.INTEGER, "s": FieldType.STRING},
        ),
    )
    memory.add(
        "db",
        "mem",
        table([{"time": 0, "host": "a", "free": 5}], ["host"], {"free": FieldType.INTEGER}),
    )
    return memory
