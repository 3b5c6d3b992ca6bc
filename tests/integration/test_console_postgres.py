"""The console's model and API suite, run again on the real PostgreSQL server.

Django is configured once per process, so the suite of ``tests/unit/console`` runs
in a child pytest with ``CRISP_DATABASE_URL`` pointing at a throwaway database on
127.0.0.1:5432 (trust auth, user postgres). Django's test runner creates
``test_<name>`` from it and drops it at the end; the test drops anything left over.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = "127.0.0.1", 5432


@pytest.fixture
def database_name() -> Iterator[str]:
    require_server("PostgreSQL", HOST, PORT)
    name = f"crisp_console_{uuid.uuid4().hex[:12]}"
    yield name
    import psycopg

    # Django drops its test database; this covers a child that died half-way.
    with psycopg.connect(f"host={HOST} port={PORT} user=postgres dbname=postgres") as conn:
        conn.autocommit = True
        for leftover in (name, f"test_{name}"):
            conn.execute(f'DROP DATABASE IF EXISTS "{leftover}"')


def test_console_suite_passes_on_postgresql(database_name: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CRISP_DATABASE_URL": f"postgres://postgres@{HOST}:{PORT}/{database_name}",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/unit/console",
            "-q",
            "-p",
            "no:cacheprovider",
            "--create-db",
            "-x",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_conftest_really_uses_postgresql(database_name: str) -> None:
    """Guards the test above: the child must not silently fall back to SQLite."""
    from crisp.console.conf import database_config
    from crisp.core.settings import load_settings

    url = f"postgres://postgres@{HOST}:{PORT}/{database_name}"
    config = database_config(load_settings({"CRISP_DATABASE_URL": url}))
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == database_name
