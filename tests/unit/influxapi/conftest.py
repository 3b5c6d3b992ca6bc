from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from crisp.core.settings import WriteAck
from crisp.influxapi.app import create_app
from crisp.influxapi.context import APIContext
from crisp.runtime.storage_node import parse_logged_lines
from crisp.storage.engine import Engine, EngineOptions

NOW_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def make_client(
    tmp_path: Path,
    admin_token: str = "",
    max_body_size: int = 1_000_000,
    write_ack: WriteAck = "parsed",
) -> Iterator[TestClient]:
    engine = Engine(
        tmp_path / "data", EngineOptions(background=False, parse_lines=parse_logged_lines)
    )
    ctx = APIContext(
        storage=engine,
        registry=CollectorRegistry(),
        admin_token=admin_token,
        max_body_size=max_body_size,
        write_ack=write_ack,
        clock_ns=lambda: NOW_NS,
    )
    try:
        with TestClient(create_app(ctx)) as client:
            yield client
    finally:
        engine.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path)


@pytest.fixture
def db(client: TestClient) -> str:
    assert client.post("/query", data={"q": "CREATE DATABASE app"}).status_code == 200
    return "app"
