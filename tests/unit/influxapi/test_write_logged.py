"""``CRISP_WRITE_ACK=logged``: /write answers once the raw body is in the WAL."""

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.unit.influxapi.conftest import NOW_NS, make_client
from tests.unit.influxapi.test_write import rows


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path, write_ack="logged")


def test_acknowledged_points_are_read_back_at_once(client: TestClient, db: str) -> None:
    body = b"cpu,host=a load=0.5 1000\ncpu,host=b load=1\n"
    assert client.post("/write", params={"db": db}, content=body).status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1000, 0.5], [NOW_NS, 1.0]]
    tags = client.get("/query", params={"db": db, "q": 'SHOW TAG VALUES WITH KEY = "host"'})
    assert [v[1] for v in tags.json()["results"][0]["series"][0]["values"]] == ["a", "b"]


def test_v2_precision_and_gzip(client: TestClient, db: str) -> None:
    response = client.post(
        "/api/v2/write",
        params={"bucket": f"{db}/autogen", "precision": "ms"},
        headers={"Content-Encoding": "gzip"},
        content=gzip.compress(b"cpu load=2 5"),
    )
    assert response.status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[5_000_000, 2.0]]


def test_bad_line_is_acknowledged_and_kept_aside(
    client: TestClient, db: str, tmp_path: Path
) -> None:
    body = b"cpu load=1 1\ncpu load=bad 2\ncpu load=3 3"
    assert client.post("/write", params={"db": db}, content=body).status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1, 1.0], [3, 3.0]]
    kept = "".join(p.read_text() for p in (tmp_path / "data" / "rejected").glob("*.lp"))
    assert "line 2:" in kept
    assert "cpu load=bad 2" in kept


def test_what_is_cheap_to_check_is_still_refused_before_the_ack(
    client: TestClient, db: str
) -> None:
    response = client.post("/write", params={"db": db, "precision": "fortnight"}, content=b"m v=1")
    assert response.status_code == 400
    assert "precision" in response.json()["error"]
    response = client.post("/write", params={"db": db}, content=b"m v=1 1\nm v=\xff 2")
    assert response.status_code == 400
    assert "line 2" in response.json()["error"]
    assert "UTF-8" in response.json()["error"]
    assert rows(client, "SELECT v FROM m WHERE time >= 0") == [[1, 1.0]]
    missing = client.post("/write", params={"db": "nope"}, content=b"m v=1")
    assert missing.status_code == 404
    assert "database not found" in missing.json()["error"]
