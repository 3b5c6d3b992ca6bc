"""``POST /api/crisp/write_arrow``: Arrow batches in, stored as /write stores lines."""

from __future__ import annotations

import gzip
import math
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from crisp.core.batch import (
    FieldType,
    MeasurementBatch,
    PointBatch,
    measurement_schema,
    tag_field,
    time_field,
    value_field,
)
from crisp.influxapi.app import create_app
from crisp.influxapi.columnar_body import CONTENT_TYPE, encode_points
from crisp.influxapi.context import APIContext
from crisp.protocols.line_protocol import parse_line_protocol
from crisp.storage.engine import Engine, EngineOptions
from tests.unit.influxapi.conftest import make_client

PATH = "/api/crisp/write_arrow"
HEADERS = {"Content-Type": CONTENT_TYPE}


def lp(text: str) -> PointBatch:
    result = parse_line_protocol(text.encode(), default_time_ns=0)
    assert not result.errors
    return result.batch


def rows(client: TestClient, q: str, db: str = "app") -> list[list[Any]]:
    response = client.get("/query", params={"db": db, "q": q, "epoch": "ns"})
    assert response.status_code == 200, response.text
    series = response.json()["results"][0].get("series", [])
    return [row for s in series for row in s["values"]]


def post(client: TestClient, body: bytes, **params: str) -> Any:
    return client.post(PATH, params={"db": "app", **params}, content=body, headers=HEADERS)


def ipc(table: pa.Table | pa.RecordBatch, **options: Any) -> bytes:
    sink = pa.BufferOutputStream()
    write_options = pa.ipc.IpcWriteOptions(**options)
    with pa.ipc.new_stream(sink, table.schema, options=write_options) as writer:
        writer.write(table)
    return bytes(sink.getvalue())


def framed(*measurements: tuple[str, bytes], count: int | None = None) -> bytes:
    """A body by hand: ``u32 count`` then ``u16 name | u64 size | IPC`` each."""
    parts = [struct.pack("<I", len(measurements) if count is None else count)]
    for name, data in measurements:
        raw = name.encode()
        parts += [struct.pack("<H", len(raw)), raw, struct.pack("<Q", len(data)), data]
    return b"".join(parts)


def good_table() -> pa.Table:
    schema = measurement_schema(["host"], {"load": FieldType.FLOAT})
    return pa.table({"time": [1, 2], "host": ["a", "b"], "load": [0.5, 1.5]}, schema=schema)


def test_ping_announces_the_columnar_endpoint(client: TestClient) -> None:
    assert client.get("/ping").headers["X-Crisp-Columnar-Write"] == PATH


def test_every_field_type_is_stored_and_read_back(client: TestClient, db: str) -> None:
    batch = lp(
        'cpu,host=a f=1.5,i=-2i,u=3u,b=true,s="x y" 10\n'
        "cpu,host=b f=2.5 20\n"
        "mem,host=a used=7i 30\n"
    )
    response = post(client, encode_points(batch))
    assert response.status_code == 204, response.text
    assert rows(client, "SELECT * FROM cpu WHERE time >= 0") == [
        [10, True, 1.5, "a", -2, "x y", 3],
        [20, None, 2.5, "b", None, None, None],
    ]
    assert rows(client, "SELECT used FROM mem WHERE time >= 0") == [[30, 7]]


def test_nan_and_infinities_are_stored_as_the_embedded_sink_stores_them(
    client: TestClient, db: str
) -> None:
    schema = measurement_schema([], {"v": FieldType.FLOAT})
    table = pa.table({"time": [1, 2, 3], "v": [math.nan, math.inf, 1.0]}, schema=schema)
    response = post(client, framed(("stale", ipc(table))))
    assert response.status_code == 204, response.text
    assert rows(client, "SELECT count(v) FROM stale WHERE time >= 0")[0][1] == 3


def test_rp_parameter_and_gzip_body(client: TestClient, db: str) -> None:
    create = "CREATE RETENTION POLICY week ON app DURATION 7d REPLICATION 1"
    assert client.post("/query", data={"q": create}).status_code == 200
    body = gzip.compress(encode_points(lp("cpu load=4 5")))
    response = client.post(
        PATH,
        params={"db": "app", "rp": "week"},
        content=body,
        headers={**HEADERS, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 204, response.text
    assert rows(client, 'SELECT load FROM "week".cpu WHERE time >= 0') == [[5, 4.0]]
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == []


def test_missing_database_is_a_404_naming_it(client: TestClient) -> None:
    response = post(client, encode_points(lp("cpu load=1 1")), db="nope")
    assert response.status_code == 404
    assert 'database not found: "nope"' in response.json()["error"]


def test_missing_db_parameter_is_a_400(client: TestClient) -> None:
    response = client.post(PATH, content=encode_points(lp("cpu load=1 1")), headers=HEADERS)
    assert response.status_code == 400
    assert "?db=" in response.json()["error"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/vnd.apache.arrow.file"])
def test_other_content_types_are_a_415(
    client: TestClient, db: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(
        PATH, params={"db": "app"}, content=encode_points(lp("cpu load=1 1")), headers=headers
    )
    assert response.status_code == 415
    assert CONTENT_TYPE in response.json()["error"]


@pytest.fixture
def small_client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path, max_body_size=2000)


def test_a_body_over_the_size_limit_is_a_413(small_client: TestClient) -> None:
    small_client.post("/query", data={"q": "CREATE DATABASE app"})
    text = "".join(f"cpu,host=h{i} load={i} {i}\n" for i in range(200))
    response = post(small_client, encode_points(lp(text)))
    assert response.status_code == 413
    assert "2000 bytes" in response.json()["error"]


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path, admin_token="s3cret")


def test_writes_need_the_token(secured: TestClient) -> None:
    auth = {"Authorization": "Token s3cret"}
    created = secured.post("/query", data={"q": "CREATE DATABASE app"}, headers=auth)
    assert created.status_code == 200
    body = encode_points(lp("cpu load=1 1"))
    assert post(secured, body).status_code == 401
    wrong = secured.post(
        PATH, params={"db": "app"}, content=body,
        headers={**HEADERS, "Authorization": "Token nope"},
    )  # fmt: skip
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "authorization failed"
    right = secured.post(PATH, params={"db": "app"}, content=body, headers={**HEADERS, **auth})
    assert right.status_code == 204
    answer = secured.get(
        "/query",
        params={"db": "app", "q": "SELECT load FROM cpu WHERE time >= 0", "epoch": "ns"},
        headers=auth,
    )
    assert answer.json()["results"][0]["series"][0]["values"] == [[1, 1.0]]


def test_a_type_conflict_drops_those_points_and_stores_the_rest(
    client: TestClient, db: str
) -> None:
    assert post(client, encode_points(lp("cpu load=1 1"))).status_code == 204
    response = post(client, encode_points(lp('cpu load="high" 2\nmem used=3i 3')))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("partial write:"), error
    assert error.endswith("dropped=1"), error
    assert rows(client, "SELECT used FROM mem WHERE time >= 0") == [[3, 3]]
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1, 1.0]]


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    engine = Engine(
        tmp_path / "data", EngineOptions(background=False, max_series_per_measurement=2)
    )
    ctx = APIContext(storage=engine, registry=CollectorRegistry())
    try:
        with TestClient(create_app(ctx)) as client:
            client.post("/query", data={"q": "CREATE DATABASE app"})
            yield client
    finally:
        engine.close()


def test_series_past_the_limit_are_dropped_with_their_count(limited: TestClient) -> None:
    text = "".join(f"cpu,host=h{i} load={i} {i}\n" for i in range(5))
    response = post(limited, encode_points(lp(text)))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("partial write:"), error
    assert error.endswith("dropped=3"), error
    assert len(rows(limited, "SELECT load FROM cpu WHERE time >= 0")) == 2


# --- malformed bodies: each refused whole with a 400 that names the problem ----------


def _with(schema: pa.Schema, columns: dict[str, Any]) -> bytes:
    return framed(("cpu", ipc(pa.table(columns, schema=schema))))


MALFORMED: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty body": (lambda: b"", "body too short"),
    "count without measurements": (lambda: framed(count=3), "before measurement 1's name"),
    "name cut short": (lambda: struct.pack("<IH", 1, 9) + b"cpu", "inside measurement 1's name"),
    "bad utf-8 name": (lambda: struct.pack("<IH", 1, 2) + b"\xff\xfe", "not valid UTF-8"),
    "empty name": (lambda: framed(("", ipc(good_table()))), "empty name"),
    "size past the end": (
        lambda: framed(("cpu", ipc(good_table())))[:-10],
        "announces",
    ),
    "trailing bytes": (lambda: framed(("cpu", ipc(good_table()))) + b"xx", "2 bytes after"),
    "duplicate measurement": (
        lambda: framed(("cpu", ipc(good_table())), ("cpu", ipc(good_table()))),
        "appears twice",
    ),
    "not arrow": (lambda: framed(("cpu", b"line protocol? " * 4)), "invalid Arrow IPC"),
    "no schema message": (lambda: framed(("cpu", b"")), "no schema message"),
    "compressed buffers": (
        lambda: framed(("cpu", ipc(good_table(), compression="zstd"))),
        "compressed IPC buffers are not accepted",
    ),
    "no time column": (
        lambda: _with(pa.schema([value_field("v", FieldType.FLOAT)]), {"v": [1.0]}),
        'no "time" column',
    ),
    "time of another type": (
        lambda: _with(
            pa.schema([pa.field("time", pa.timestamp("ns")), value_field("v", FieldType.FLOAT)]),
            {"time": [1], "v": [1.0]},
        ),
        'column "time" must be the int64 timestamp',
    ),
    "null time": (
        lambda: _with(
            pa.schema([pa.field("time", pa.int64()), value_field("v", FieldType.FLOAT)]),
            {"time": [None], "v": [1.0]},
        ),
        'null in the "time" column',
    ),
    "tag not a string": (
        lambda: _with(
            pa.schema([time_field(), pa.field("host", pa.int64(), metadata={b"crisp.kind": b"tag"}),
                       value_field("v", FieldType.FLOAT)]),
            {"time": [1], "host": [1], "v": [1.0]},
        ),
        'tag "host" must be string',
    ),
    "field of an unsupported type": (
        lambda: _with(
            pa.schema([time_field(),
                       pa.field("v", pa.int32(), metadata={b"crisp.kind": b"field"})]),
            {"time": [1], "v": [1]},
        ),
        'field "v" has type int32',
    ),
    "dictionary tag": (
        lambda: _with(
            pa.schema([time_field(), pa.field("host", pa.dictionary(pa.int32(), pa.string()),
                                              metadata={b"crisp.kind": b"tag"}),
                       value_field("v", FieldType.FLOAT)]),
            {"time": [1], "host": ["a"], "v": [1.0]},
        ),
        'tag "host" must be string',
    ),
    "column without kind": (
        lambda: _with(
            pa.schema([time_field(), pa.field("v", pa.float64())]), {"time": [1], "v": [1.0]}
        ),
        'column "v" has no crisp.kind',
    ),
    "duplicate column": (
        lambda: framed(("cpu", ipc(pa.RecordBatch.from_arrays(
            [pa.array([1]), pa.array([1.0]), pa.array([2.0])],
            schema=pa.schema([time_field(), value_field("v", FieldType.FLOAT),
                              value_field("v", FieldType.FLOAT)]),
        )))),
        'column "v" appears twice',
    ),
    "reserved column": (
        lambda: _with(
            pa.schema([time_field(), value_field("__seq", FieldType.INTEGER)]),
            {"time": [1], "__seq": [1]},
        ),
        '"__seq" is reserved',
    ),
    "no fields": (
        lambda: _with(pa.schema([time_field(), tag_field("host")]), {"time": [1], "host": ["a"]}),
        "no field columns",
    ),
    "too many tags": (
        lambda: _with(
            pa.schema([time_field(), *(tag_field(f"t{i}") for i in range(257)),
                       value_field("v", FieldType.FLOAT)]),
            {"time": [1], **{f"t{i}": ["x"] for i in range(257)}, "v": [1.0]},
        ),
        "too many tags (257 > 256)",
    ),
    "empty column name": (
        lambda: _with(
            pa.schema([time_field(), value_field("", FieldType.FLOAT)]), {"time": [1], "": [1.0]}
        ),
        "a column has an empty name",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bodies_are_a_400_naming_the_problem(
    client: TestClient, db: str, case: str
) -> None:
    make, expected = MALFORMED[case]
    response = post(client, make())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith("invalid columnar body: ")
    assert expected in error, error
    assert client.get("/query", params={"db": "app", "q": "SHOW MEASUREMENTS"}).json()[
        "results"
    ][0].get("series") is None


def test_invalid_utf8_inside_a_string_column_is_refused(client: TestClient, db: str) -> None:
    # A string array whose bytes are not UTF-8: only full validation finds it.
    data = pa.py_buffer(b"\xff\xfe")
    offsets = pa.py_buffer(struct.pack("<ii", 0, 2))
    host = pa.Array.from_buffers(pa.string(), 1, [None, offsets, data])
    batch = pa.RecordBatch.from_arrays(
        [pa.array([1]), host, pa.array([1.0])],
        schema=pa.schema([time_field(), tag_field("host"), value_field("v", FieldType.FLOAT)]),
    )
    response = post(client, framed(("cpu", ipc(batch))))
    assert response.status_code == 400
    assert "invalid Arrow IPC" in response.json()["error"]


def test_rejected_bodies_are_counted_in_the_metrics(client: TestClient, db: str) -> None:
    assert post(client, b"junk").status_code == 400
    assert post(client, encode_points(lp("cpu load=1 1"))).status_code == 204
    metrics = client.get("/metrics").text
    assert "crisp_http_columnar_bodies_rejected_total 1.0" in metrics
    assert 'crisp_http_requests_total{endpoint="write_arrow",status="400"} 1.0' in metrics
    assert 'crisp_http_requests_total{endpoint="write_arrow",status="204"} 1.0' in metrics


def test_client_metadata_does_not_travel_into_storage(client: TestClient, db: str) -> None:
    table = good_table().replace_schema_metadata({b"evil": b"x" * 100})
    response = post(client, framed(("cpu", ipc(table))))
    assert response.status_code == 204
    assert rows(client, "SELECT load FROM cpu WHERE time >= 0") == [[1, 0.5], [2, 1.5]]


def test_measurement_batch_order_and_empty_measurements(client: TestClient, db: str) -> None:
    empty = MeasurementBatch("none", good_table().slice(0, 0))
    batch = PointBatch({"none": empty, "cpu": MeasurementBatch("cpu", good_table())})
    assert post(client, encode_points(batch)).status_code == 204
    shown = client.get("/query", params={"db": "app", "q": "SHOW MEASUREMENTS"}).json()
    assert shown["results"][0]["series"][0]["values"] == [["cpu"]]
