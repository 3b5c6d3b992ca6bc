"""Crisp answers InfluxQL like InfluxDB 1.6.7: same data into both, same results out.

The real ``influxd`` from Debian runs on free loopback ports in a temp dir; Crisp runs
in-process behind its HTTP app. Each query is sent to both with ``epoch=ns`` and the
JSON bodies are compared after rounding floats (the engines sum in different orders).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from crisp.influxapi.app import create_app
from crisp.influxapi.context import APIContext
from crisp.storage.engine import Engine, EngineOptions
from tests.integration.compat_cases import DB, QUERIES, compat_data
from tests.integration.influxd import running_influxd

pytestmark = pytest.mark.integration


def normalize(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else value
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with (
        running_influxd(tmp_path_factory.mktemp("influxd")) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        load(client)
        yield client


@pytest.fixture(scope="module")
def crisp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("crisp")
    engine = Engine(data_dir, EngineOptions(background=False))
    app = create_app(APIContext(storage=engine, registry=CollectorRegistry()))
    try:
        with TestClient(app) as client:
            load(client)
            yield client
    finally:
        engine.close()


def load(client: httpx.Client | TestClient) -> None:
    assert client.post("/query", params={"q": f"CREATE DATABASE {DB}"}).status_code == 200
    written = client.post("/write", params={"db": DB, "precision": "s"}, content=compat_data())
    assert written.status_code == 204, written.text


def ask(client: httpx.Client | TestClient, q: str) -> Any:
    response = client.get("/query", params={"db": DB, "q": q, "epoch": "ns"})
    return response.status_code, normalize(response.json())


@pytest.mark.parametrize("q", QUERIES)
def test_same_answer_as_influxdb(q: str, influxdb: httpx.Client, crisp: TestClient) -> None:
    assert ask(crisp, q) == ask(influxdb, q)


def test_field_type_conflict_drops_only_the_conflicting_points_like_influxdb(
    influxdb: httpx.Client, crisp: TestClient
) -> None:
    answers = []
    for client in (influxdb, crisp):
        assert client.post("/query", params={"q": "CREATE DATABASE conflicts"}).status_code == 200
        first = client.post("/write", params={"db": "conflicts"}, content=b"m,h=a v=1 1\n")
        assert first.status_code == 204, first.text
        mixed = b"m,h=a v=2i 2\nm,h=b x=3 3\nm,h=c w=4 4\n"
        refused = client.post("/write", params={"db": "conflicts"}, content=mixed)
        q = "SELECT * FROM m WHERE time >= 0"
        stored = client.get("/query", params={"db": "conflicts", "q": q, "epoch": "ns"})
        answers.append((refused.status_code, normalize(stored.json())))
        error = refused.json()["error"]
        assert error.startswith("partial write: field type conflict"), error
        assert 'input field "v" on measurement "m" is type integer' in error
        assert error.endswith("dropped=1"), error
    assert answers[0] == answers[1]


def test_cardinality_of_an_empty_database_like_influxdb(
    influxdb: httpx.Client, crisp: TestClient
) -> None:
    queries = [
        "SHOW SERIES CARDINALITY",
        "SHOW MEASUREMENT CARDINALITY",
        "SHOW SERIES EXACT CARDINALITY",
        "SHOW MEASUREMENT EXACT CARDINALITY",
        "SHOW TAG KEY CARDINALITY",
    ]
    answers = []
    for client in (influxdb, crisp):
        assert client.post("/query", params={"q": "CREATE DATABASE nothing"}).status_code == 200
        try:
            replies = [client.get("/query", params={"db": "nothing", "q": q}) for q in queries]
            answers.append([(r.status_code, r.json()) for r in replies])
        finally:
            client.post("/query", params={"q": "DROP DATABASE nothing"})
    assert answers[0] == answers[1]
    # The estimations answer 0; the exact counts answer no series at all.
    assert answers[1][0][1]["results"][0]["series"][0]["values"] == [[0]]
    assert "series" not in answers[1][2][1]["results"][0]
