"""Fuzzing the columnar write body: whatever the bytes, a batch or a clear refusal.

Random bytes and mutated valid bodies (bytes flipped, cut, inserted, sizes and counts
overwritten) must either decode to tables storage can take or raise
``ColumnarBodyError``; through the endpoint, the answer is a 204 or a 400, never a
500 or a crash.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from crisp.core.batch import (
    KIND_FIELD,
    TIME_COLUMN,
    FieldType,
    MeasurementBatch,
    PointBatch,
    column_kind,
    measurement_schema,
)
from crisp.influxapi.columnar_body import (
    CONTENT_TYPE,
    ColumnarBodyError,
    decode_points,
    encode_points,
)
from tests.unit.influxapi.conftest import make_client

NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8)
KEYS = NAMES.filter(lambda key: key not in (TIME_COLUMN, "__seq"))

_VALUES = {
    FieldType.FLOAT: st.floats(allow_nan=True, allow_infinity=True),
    FieldType.INTEGER: st.integers(-(2**63), 2**63 - 1),
    FieldType.UNSIGNED: st.integers(0, 2**64 - 1),
    FieldType.BOOLEAN: st.booleans(),
    FieldType.STRING: st.text(max_size=6),
}


@st.composite
def measurement_tables(draw: st.DrawFn) -> pa.Table:
    keys = draw(st.lists(KEYS, min_size=1, max_size=5, unique=True))
    split = draw(st.integers(0, len(keys) - 1))
    tags, field_keys = keys[:split], keys[split:]
    types = {k: draw(st.sampled_from(list(FieldType))) for k in field_keys}
    rows = draw(st.integers(1, 6))
    columns: dict[str, list[object]] = {
        TIME_COLUMN: draw(st.lists(st.integers(-(2**62), 2**62), min_size=rows, max_size=rows))
    }
    for tag in tags:
        columns[tag] = draw(st.lists(st.none() | st.text(max_size=4), min_size=rows, max_size=rows))
    for key, field_type in types.items():
        values = st.none() | _VALUES[field_type]
        columns[key] = draw(st.lists(values, min_size=rows, max_size=rows))
    return pa.table(columns, schema=measurement_schema(tags, types))


@st.composite
def batches(draw: st.DrawFn) -> PointBatch:
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    return PointBatch({name: MeasurementBatch(name, draw(measurement_tables())) for name in names})


@st.composite
def mutated_bodies(draw: st.DrawFn) -> bytes:
    body = bytearray(encode_points(draw(batches())))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "u32", "u64", "delete"]))
        at = draw(st.integers(0, max(0, len(body) - 1)))
        if kind == "flip" and body:
            body[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del body[at:]
        elif kind == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del body[at : at + draw(st.integers(1, 8))]
        elif kind == "u32" and at + 4 <= len(body):
            body[at : at + 4] = struct.pack("<I", draw(st.sampled_from([0, 1, 2**31, 2**32 - 1])))
        elif kind == "u64" and at + 8 <= len(body):
            body[at : at + 8] = struct.pack("<Q", draw(st.sampled_from([0, 2**40, 2**64 - 1])))
    return bytes(body)


def check_decodes_or_refuses(body: bytes) -> None:
    try:
        batch = decode_points(body)
    except ColumnarBodyError as error:
        message = str(error)
        assert message  # a 400 that says something
        return
    for measurement in batch:
        table = measurement.table
        table.validate(full=True)
        assert measurement.measurement
        assert table.schema.field(TIME_COLUMN).type == pa.int64()
        assert table.column(TIME_COLUMN).null_count == 0
        assert any(column_kind(f) == KIND_FIELD for f in table.schema)
        assert len(set(table.column_names)) == len(table.column_names)
        assert table.schema.metadata is None


@settings(max_examples=300, deadline=None)
@given(batches())
def test_valid_bodies_round_trip(batch: PointBatch) -> None:
    decoded = decode_points(encode_points(batch))
    assert list(decoded.measurements) == list(batch.measurements)
    for name, measurement in batch.measurements.items():
        table = decoded.measurements[name].table
        assert table.schema.equals(measurement.table.schema, check_metadata=True)
        assert comparable(table) == comparable(measurement.table)


def comparable(table: pa.Table) -> list[dict[str, object]]:
    """Rows with NaN spelled out: NaN equals nothing, not even itself."""
    return [
        {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in table.to_pylist()
    ]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(body: bytes) -> None:
    check_decodes_or_refuses(body)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_in_the_ipc_slot_never_crash(ipc: bytes) -> None:
    check_decodes_or_refuses(struct.pack("<IH", 1, 3) + b"cpu" + struct.pack("<Q", len(ipc)) + ipc)


@settings(max_examples=500, deadline=None)
@given(mutated_bodies())
def test_mutated_bodies_never_crash(body: bytes) -> None:
    check_decodes_or_refuses(body)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("fuzz")
    clients = make_client(path)
    client = next(clients)
    assert client.post("/query", data={"q": "CREATE DATABASE app"}).status_code == 200
    yield client
    next(clients, None)  # runs make_client's clean-up


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=mutated_bodies())
def test_the_endpoint_answers_204_or_400_to_mutated_bodies(
    client: TestClient, body: bytes
) -> None:
    response = client.post(
        "/api/crisp/write_arrow",
        params={"db": "app"},
        content=body,
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert response.status_code in (204, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]
