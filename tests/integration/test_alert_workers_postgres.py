"""Several alerting workers on the real PostgreSQL server send each notification once.

Django is configured once per process, so the worker tests run in a child pytest with
``CRISP_DATABASE_URL`` pointing at a throwaway database on 127.0.0.1:5432: the
concurrency test (threads racing on row leases), the worker's behaviour suite and its
batches (states stored with executemany, as on SQLite).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_console_postgres import HOST, PORT, database_name

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
__all__ = ["database_name"]  # the fixture, shared with the console's PostgreSQL test


def test_workers_on_postgresql_notify_once(database_name: str) -> None:
    env = {
        **os.environ,
        "CRISP_DATABASE_URL": f"postgres://postgres@{HOST}:{PORT}/{database_name}",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--create-db",
            "-rs",
            "tests/unit/console/alerts/test_worker_concurrency.py",
            "tests/unit/console/alerts/test_worker.py",
            "tests/unit/console/alerts/test_worker_batches.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "skipped" not in result.stdout, result.stdout[-2000:]
    assert " passed" in result.stdout
