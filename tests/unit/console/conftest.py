"""Django for the console tests: configured from Crisp Settings, metrics in memory.

Django can be configured once per process, so it happens here, at collection. The
database is SQLite unless CRISP_DATABASE_URL names another (the PostgreSQL
integration test runs this same suite that way, in a child process).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings as django_settings

from crisp.console.conf import ConsoleOptions, configure
from crisp.console.explore.backend import InProcessBackend, MetricsBackend
from crisp.core.batch import FieldType
from crisp.core.settings import load_settings
from tests.unit.query.memory_storage import MemoryStorage, table

if TYPE_CHECKING:
    from tests.unit.console.fixtures import World

MINUTE = 60 * 10**9

if not django_settings.configured:
    _env = {k: v for k, v in os.environ.items() if k == "CRISP_DATABASE_URL"}
    _base = load_settings(_env)
    configure(
        replace(
            _base,
            data_dir=Path(tempfile.mkdtemp(prefix="crisp-console-test-")),
            secret_key="test-only-secret",
            debug=False,
        ),
        backend_factory=lambda: InProcessBackend(MemoryStorage()),
    )
    # Real hashers cost ~0.2 s a password by design; tests create many users.
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def latency_rows(now_ns: int) -> list[dict[str, Any]]:
    rows = []
    for i, value in enumerate([10.0, 20.0, 30.0, 40.0, 100.0]):
        rows.append(
            {
                "time": now_ns - (i + 1) * MINUTE,
                "service": "checkout",
                "endpoint": "/pay" if i % 2 else "/cart",
                "duration_ms": value,
            }
        )
    rows.append(
        {
            "time": now_ns - 2 * MINUTE,
            "service": 'o\'brien "q"',
            "endpoint": "/",
            "duration_ms": 7.0,
        }
    )
    return rows


@pytest.fixture
def storage() -> MemoryStorage:
    now = time.time_ns()
    memory = MemoryStorage()
    memory.add(
        "metrics",
        "api_latency",
        table(
            latency_rows(now),
            ["endpoint", "service"],
            {"duration_ms": FieldType.FLOAT},
        ),
    )
    memory.add(
        "secret",
        "cpu",
        table(
            [{"time": now - MINUTE, "host": "h1", "usage": 1.0}],
            ["host"],
            {"usage": FieldType.FLOAT},
        ),
    )
    return memory


def use_backend(settings: Any, backend: MetricsBackend) -> None:
    """Point the console at ``backend`` for one test (pytest-django restores settings)."""
    settings.CRISP = ConsoleOptions(backend_factory=lambda: backend)


@pytest.fixture
def backend(settings: Any, storage: MemoryStorage) -> MetricsBackend:
    metrics = InProcessBackend(storage, timeout=10)
    use_backend(settings, metrics)
    return metrics


@pytest.fixture
def world(backend: MetricsBackend) -> World:
    """The permission tests' teams, people and tokens (``fixtures.build_world``), with the
    console reading the in-memory metrics."""
    from tests.unit.console.fixtures import build_world

    return build_world()
