import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.unit.influxapi.conftest import NOW_NS, make_client


def rows(client: TestClient, q: str, db: str = "app") -> list[list[Any]]:
    response = client.get("/query", params={"db": db, "q": q, "epoch": "ns"})
    assert response.status_code == 200, response.text
    series = response.json()["results"][0].get("series", [])
    return [row for s in series for row in s["values"]]


def test_write_then_read_back_with_version_headers(client: TestClient, db: str) -> None:
    response = client.post("/write", params={"db": db}, content=b"cpu,host=a load=0.5 1000\n")
    assert response.status_code == 204
    assert response.headers["X-Influxdb-Version"].startswith("1.")
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1000, 0.5]]


def test_points_without_timestamp_get_the_server_receive_time(client: TestClient, db: str) -> None:
    assert client.post("/write", params={"db": db}, content=b"cpu load=1").status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[NOW_NS, 1.0]]


@pytest.mark.parametrize(("precision", "factor"), [("s", 10**9), ("ms", 10**6), ("u", 10**3)])
def test_v1_precision_scales_timestamps(
    client: TestClient, db: str, precision: str, factor: int
) -> None:
    response = client.post(
        "/write", params={"db": db, "precision": precision}, content=b"cpu load=1 7"
    )
    assert response.status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[7 * factor, 1.0]]


def test_v2_write_takes_bucket_with_rp_and_v2_precision(client: TestClient, db: str) -> None:
    response = client.post(
        "/api/v2/write",
        params={"bucket": f"{db}/autogen", "org": "ignored", "precision": "ms"},
        headers={"Authorization": "Token anything"},
        content=b"cpu load=2 5",
    )
    assert response.status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[5_000_000, 2.0]]


def test_v2_rejects_a_v1_only_precision(client: TestClient, db: str) -> None:
    response = client.post(
        "/api/v2/write", params={"bucket": db, "precision": "h"}, content=b"cpu load=2 5"
    )
    assert response.status_code == 400
    assert "precision" in response.json()["error"]


def test_gzip_body_is_decoded(client: TestClient, db: str) -> None:
    body = gzip.compress(b"cpu load=3 1\ncpu load=4 2\n")
    response = client.post(
        "/write", params={"db": db}, content=body, headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1, 3.0], [2, 4.0]]


def test_corrupt_gzip_is_a_400_and_unknown_encoding_a_415(client: TestClient, db: str) -> None:
    bad = client.post(
        "/write", params={"db": db}, content=b"not gzip", headers={"Content-Encoding": "gzip"}
    )
    assert bad.status_code == 400
    assert "gzip" in bad.json()["error"]
    odd = client.post(
        "/write", params={"db": db}, content=b"cpu v=1", headers={"Content-Encoding": "br"}
    )
    assert odd.status_code == 415


def test_partly_bad_body_keeps_good_lines_and_names_the_bad_one(
    client: TestClient, db: str
) -> None:
    body = b"cpu load=1 1\ncpu load= 2\ncpu load=3 3\n"
    response = client.post("/write", params={"db": db}, content=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("partial write: unable to parse 'cpu load= 2'")
    assert "line 2" in error
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1, 1.0], [3, 3.0]]


def test_missing_database_is_404_and_missing_db_param_400(client: TestClient) -> None:
    missing = client.post("/write", params={"db": "nope"}, content=b"cpu load=1")
    assert missing.status_code == 404
    assert missing.json() == {"error": 'database not found: "nope"'}
    assert client.post("/write", content=b"cpu load=1").status_code == 400


def test_field_type_conflict_is_400_and_keeps_what_was_accepted(
    client: TestClient, db: str
) -> None:
    assert client.post("/write", params={"db": db}, content=b"cpu load=1 1").status_code == 204
    conflict = client.post("/write", params={"db": db}, content=b"cpu load=2i 2")
    assert conflict.status_code == 400
    assert "field type conflict" in conflict.json()["error"]
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1, 1.0]]


@pytest.fixture
def small_client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path, max_body_size=64)


def test_oversized_bodies_get_413_plain_or_gzipped(small_client: TestClient) -> None:
    small_client.post("/query", data={"q": "CREATE DATABASE app"})
    big = b"cpu load=1\n" * 10
    assert small_client.post("/write", params={"db": "app"}, content=big).status_code == 413
    bomb = gzip.compress(b"cpu load=1\n" * 10_000)
    response = small_client.post(
        "/write", params={"db": "app"}, content=bomb, headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 413
    assert "64 bytes" in response.json()["error"]


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path, admin_token="s3cret")


@pytest.mark.parametrize(
    "credentials",
    [
        {"headers": {"Authorization": "Token s3cret"}},
        {"headers": {"Authorization": "Bearer s3cret"}},
        {"auth": ("admin", "s3cret")},
        {"params": {"u": "admin", "p": "s3cret"}},
    ],
)
def test_every_influx_credential_form_is_accepted(
    secured: TestClient, credentials: dict[str, Any]
) -> None:
    params = {"q": "SHOW DATABASES", **credentials.pop("params", {})}
    assert secured.get("/query", params=params, **credentials).status_code == 200


def test_missing_or_wrong_token_is_refused(secured: TestClient) -> None:
    assert secured.post("/write", params={"db": "x"}, content=b"cpu v=1").status_code == 401
    wrong = secured.get(
        "/query", params={"q": "SHOW DATABASES"}, headers={"Authorization": "Token nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "authorization failed"}
    assert secured.get("/ping").status_code == 204
