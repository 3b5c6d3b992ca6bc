"""What differs between the servers benchmarked: write path and database creation.

All three take InfluxDB line protocol at ``/write``; VictoriaMetrics has no
databases (the ``db`` parameter becomes a label), so creating one is a no-op there.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

TARGETS = ("crisp", "influxdb", "victoriametrics")


def write_path(target: str, db: str) -> str:
    _check(target)
    return "/write?" + urlencode({"db": db, "precision": "ns"})


def create_database(target: str, url: str, db: str) -> None:
    """Raises RuntimeError when the server refuses."""
    _check(target)
    if target == "victoriametrics":
        return
    response = httpx.post(f"{url}/query", data={"q": f'CREATE DATABASE "{db}"'}, timeout=30)
    if response.status_code != 200 or '"error"' in response.text:
        raise RuntimeError(
            f"CREATE DATABASE {db} failed: {response.status_code} {response.text[:200]}"
        )


def _check(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
