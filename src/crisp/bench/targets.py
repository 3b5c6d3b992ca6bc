"""What differs between the servers benchmarked: write endpoints and database creation.

Which target takes which format, and where:

| format | crisp | influxdb | victoriametrics |
|---|---|---|---|
| lp | ``/write`` | ``/write`` | ``/write`` |
| json | ``/api/v1/metrics`` (collector) | – | – |
| remote-write | ``/api/v1/write`` (collector) | – | ``/api/v1/write`` |
| otlp | ``/v1/metrics`` (collector) | – | – (OTLP came in VictoriaMetrics 1.92) |

Crisp's storage node (``crisp storage``) takes line protocol only; the other formats
are the collector's (``crisp collector``, or port 8087 of ``crisp serve``), which also
takes ``/write``. VictoriaMetrics has no databases: ``db`` becomes a label of
line-protocol data, and creating one is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from crisp.bench.encoders import FORMAT_NAMES, wire_format

TARGETS = ("crisp", "influxdb", "victoriametrics")
COLLECTOR_HINT = (
    "crisp storage takes line protocol only; send this format to the Crisp collector "
    "(crisp collector, or port 8087 of crisp serve)"
)
_PATHS: dict[tuple[str, str], str] = {
    ("crisp", "lp"): "/write",
    ("crisp", "json"): "/api/v1/metrics",
    ("crisp", "remote-write"): "/api/v1/write",
    ("crisp", "otlp"): "/v1/metrics",
    ("influxdb", "lp"): "/write",
    ("victoriametrics", "lp"): "/write",
    ("victoriametrics", "remote-write"): "/api/v1/write",
}
_ACCEPTS = {
    "influxdb": "InfluxDB 1.x takes line protocol only",
    "victoriametrics": "VictoriaMetrics 1.79 takes line protocol and remote-write",
}


@dataclass(frozen=True)
class WriteRoute:
    path: str  # with the query string
    headers: tuple[tuple[str, str], ...]


def write_route(target: str, format_name: str, db: str) -> WriteRoute:
    """Where and how ``target`` takes ``format_name``; ValueError when it cannot."""
    _check(target)
    if format_name not in FORMAT_NAMES:
        raise ValueError(f"unknown format {format_name!r}; one of {', '.join(FORMAT_NAMES)}")
    path = _PATHS.get((target, format_name))
    if path is None:
        raise ValueError(
            f"--target {target} cannot take --format {format_name}: {_ACCEPTS[target]}"
        )
    query = {"db": db, "precision": "ns"} if format_name == "lp" else {"db": db}
    return WriteRoute(f"{path}?{urlencode(query)}", wire_format(format_name).headers)


def write_path(target: str, db: str) -> str:
    """The line-protocol write path of ``target``."""
    return write_route(target, "lp", db).path


def create_database(target: str, url: str, db: str) -> None:
    """Raises RuntimeError when the server refuses."""
    _check(target)
    if target == "victoriametrics":
        return
    response = httpx.post(f"{url}/query", data={"q": f'CREATE DATABASE "{db}"'}, timeout=30)
    if target == "crisp" and response.status_code == 404:
        return  # a Crisp collector: it creates databases itself when delivering
    if response.status_code != 200 or '"error"' in response.text:
        raise RuntimeError(
            f"CREATE DATABASE {db} failed: {response.status_code} {response.text[:200]}"
        )


def _check(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
