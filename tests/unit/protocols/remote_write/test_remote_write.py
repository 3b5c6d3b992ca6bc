"""The remote-write parser against requests encoded by the protobuf library."""

from __future__ import annotations

import math

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType, ParseResult
from crisp.protocols.remote_write import parse_remote_write
from tests.unit.protocols.remote_write.messages import write_request

MS = 1_000_000


def snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def parse(series: list[tuple[list[tuple[str, str]], list[tuple[float, int]]]]) -> ParseResult:
    return parse_remote_write(snappy(write_request(series)))


def test_series_become_points() -> None:
    result = parse(
        [
            (
                [("__name__", "up"), ("job", "node"), ("instance", "h:9100")],
                [(1.0, 1_700_000_000_000), (0.0, 1_700_000_015_000)],
            ),
            ([("__name__", "up"), ("job", "db")], [(1.0, 1_700_000_000_000)]),
            ([("__name__", "temp")], [(-1.5, -3)]),
        ]
    )
    assert result.errors == []
    up = result.batch.measurements["up"]
    assert up.field_types == {"value": FieldType.FLOAT}
    assert up.table.to_pylist() == [
        {"time": 1_700_000_000_000 * MS, "instance": "h:9100", "job": "node", "value": 1.0},
        {"time": 1_700_000_015_000 * MS, "instance": "h:9100", "job": "node", "value": 0.0},
        {"time": 1_700_000_000_000 * MS, "instance": None, "job": "db", "value": 1.0},
    ]
    assert result.batch.measurements["temp"].table.to_pylist() == [{"time": -3 * MS, "value": -1.5}]


def test_special_values_defaults_and_unknown_fields() -> None:
    body = write_request(
        [([("__name__", "m")], [(math.nan, 5), (math.inf, 0), (0.0, 7)])],
        extra="exemplar-ish",
        note=42,
    )
    result = parse_remote_write(snappy(body))
    assert result.errors == []
    values = result.batch.measurements["m"].table.column("value").to_pylist()
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, 0.0]
    assert result.batch.measurements["m"].table.column("time").to_pylist() == [5 * MS, 0, 7 * MS]


@pytest.mark.parametrize(
    ("labels", "samples", "fragment"),
    [
        ([("job", "x")], [(1.0, 1)], "__name__"),
        ([("__name__", "m"), ("a", "1"), ("a", "2")], [(1.0, 1)], "duplicate"),
        ([("__name__", "m"), ("", "1")], [(1.0, 1)], "empty label name"),
        ([("__name__", "m"), ("value", "1")], [(1.0, 1)], "also a field"),
        ([("__name__", "m")], [(1.0, 2**62)], "out of the int64"),
    ],
)
def test_bad_series_are_reported_by_index(
    labels: list[tuple[str, str]], samples: list[tuple[float, int]], fragment: str
) -> None:
    good = ([("__name__", "ok")], [(1.0, 1)])
    result = parse([good, (labels, samples), good])
    assert [e.line_number for e in result.errors] == [2]
    assert fragment in result.errors[0].reason
    assert result.batch.num_points == 2


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "snappy"),
        (b"not snappy at all", "snappy"),
        (b"\xff\xff\xff\xff\x0f", "limit"),
        (snappy(b"\x0a\x05\x0a"), "past the end"),
        (snappy(b"\x0b"), "wire type"),
        (snappy(b"\x0a\x02\x12\x05"), "past the end"),
    ],
)
def test_corrupt_bodies_give_one_error_at_zero(body: bytes, fragment: str) -> None:
    result = parse_remote_write(body)
    assert len(result.errors) == 1
    assert result.errors[0].line_number == 0
    assert fragment in result.errors[0].reason
    assert result.batch.num_points == 0


label_pairs = st.lists(
    st.tuples(st.sampled_from(["a", "b", "job"]), st.text(min_size=1, max_size=4)),
    max_size=3,
    unique_by=lambda pair: pair[0],
)
samples_strategy = st.lists(
    st.tuples(
        st.floats(allow_nan=False),
        st.integers(min_value=-(10**12), max_value=9 * 10**12),
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["m", "n"]), label_pairs, samples_strategy), max_size=5))
def test_fuzz_round_trip(
    series: list[tuple[str, list[tuple[str, str]], list[tuple[float, int]]]],
) -> None:
    result = parse([([("__name__", name), *labels], samples) for name, labels, samples in series])
    assert result.errors == []
    got = sorted(
        (
            batch.measurement,
            tuple(sorted((k, v) for k, v in row.items() if k not in ("time", "value") and v)),
            row["value"],
            row["time"],
        )
        for batch in result.batch
        for row in batch.table.to_pylist()
    )
    expected = sorted(
        (name, tuple(sorted(labels)), value, timestamp * MS)
        for name, labels, samples in series
        for value, timestamp in samples
    )
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120), st.booleans())
def test_fuzz_corrupt_bytes_never_raise(data: bytes, compress: bool) -> None:
    result = parse_remote_write(snappy(data) if compress else data)
    assert isinstance(result, ParseResult)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_requests_never_raise(data: st.DataObject) -> None:
    body = bytearray(write_request([([("__name__", "m"), ("a", "b")], [(1.0, 5), (2.0, 6)])]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        body[position] = data.draw(st.integers(min_value=0, max_value=255))
    result = parse_remote_write(snappy(bytes(body)))
    assert isinstance(result, ParseResult)
