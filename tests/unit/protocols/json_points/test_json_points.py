"""The JSON points parser: typing, required fields, errors per item, fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType, ParseResult
from crisp.protocols.json_points import parse_json_points

NOW = 1_700_000_000_000_000_000


def parse(document: object) -> ParseResult:
    return parse_json_points(json.dumps(document).encode(), default_time_ns=NOW)


def test_single_object_types_and_default_time() -> None:
    result = parse(
        {
            "measurement": "cpu",
            "tags": {"host": "a", "core": 3, "hot": True},
            "fields": {"n": 5, "usage": 0.5, "ok": False, "note": "hi", "whole": 2.0},
        }
    )
    assert result.errors == []
    cpu = result.batch.measurements["cpu"]
    assert cpu.tag_keys == ["core", "host", "hot"]
    assert cpu.field_types == {
        "n": FieldType.INTEGER,
        "note": FieldType.STRING,
        "ok": FieldType.BOOLEAN,
        "usage": FieldType.FLOAT,
        "whole": FieldType.FLOAT,
    }
    assert cpu.table.to_pylist() == [
        {
            "time": NOW,
            "core": "3",
            "host": "a",
            "hot": "True",
            "n": 5,
            "note": "hi",
            "ok": False,
            "usage": 0.5,
            "whole": 2.0,
        }
    ]


def test_array_with_timestamps_and_sparse_columns() -> None:
    result = parse(
        [
            {"measurement": "m", "tags": {"a": "1"}, "fields": {"x": 1}, "timestamp": 10},
            {"measurement": "m", "tags": {"b": "2"}, "fields": {"y": 1.5}, "timestamp": "20"},
            {"measurement": "other", "tags": {}, "fields": {"z": "s"}},
        ]
    )
    assert result.errors == []
    rows = result.batch.measurements["m"].table.to_pylist()
    assert rows == [
        {"time": 10, "a": "1", "b": None, "x": 1, "y": None},
        {"time": 20, "a": None, "b": "2", "x": None, "y": 1.5},
    ]
    assert result.batch.measurements["other"].table.column("time").to_pylist() == [NOW]


@pytest.mark.parametrize(
    "item",
    [
        {"tags": {}, "fields": {"x": 1}},
        {"measurement": "", "tags": {}, "fields": {"x": 1}},
        {"measurement": "m", "fields": {"x": 1}},
        {"measurement": "m", "tags": [], "fields": {"x": 1}},
        {"measurement": "m", "tags": {}, "fields": {}},
        {"measurement": 3, "tags": {}, "fields": {"x": 1}},
    ],
)
def test_missing_required_fields_names_the_item(item: dict[str, object]) -> None:
    good = {"measurement": "m", "tags": {}, "fields": {"x": 1}}
    result = parse([good, item])
    assert [(e.line_number, e.reason) for e in result.errors] == [
        (2, "Missing required fields: measurement, tags, fields")
    ]
    assert result.batch.num_points == 1


def test_type_conflict_rejects_later_items() -> None:
    result = parse(
        [
            {"measurement": "m", "tags": {}, "fields": {"x": 1}},
            {"measurement": "m", "tags": {}, "fields": {"x": 1.5}},
            {"measurement": "m", "tags": {}, "fields": {"x": 2}},
        ]
    )
    assert [e.line_number for e in result.errors] == [2]
    assert "field type conflict" in result.errors[0].reason
    assert result.batch.measurements["m"].table.column("x").to_pylist() == [1, 2]


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"measurement": "m", "tags": {}, "fields": {"x": 1}, "timestamp": 1.5}, "timestamp"),
        ({"measurement": "m", "tags": {}, "fields": {"x": 1}, "timestamp": "1e9"}, "timestamp"),
        ({"measurement": "m", "tags": {}, "fields": {"x": 1}, "timestamp": 2**63}, "range"),
        ({"measurement": "m", "tags": {}, "fields": {"x": 2**63}}, "int64"),
        ({"measurement": "m", "tags": {"t": {"a": 1}}, "fields": {"x": 1}}, "scalar"),
        ({"measurement": "m", "tags": {"x": "a"}, "fields": {"x": 1}}, "also a field"),
        ({"measurement": "m", "tags": {"time": "a"}, "fields": {"x": 1}}, "reserved"),
        ({"measurement": "m", "tags": {}, "fields": {"time": 1}}, "reserved"),
        (5, "JSON object"),
    ],
)
def test_bad_items(item: object, fragment: str) -> None:
    result = parse([item])
    assert len(result.errors) == 1
    assert result.errors[0].line_number == 1
    assert fragment in result.errors[0].reason
    assert result.batch.num_points == 0


def test_negative_string_timestamp_and_null_tag() -> None:
    result = parse(
        {"measurement": "m", "tags": {"a": None}, "fields": {"x": None}, "timestamp": "-5"}
    )
    assert result.batch.measurements["m"].table.to_pylist() == [{"time": -5, "x": "None"}]


@pytest.mark.parametrize("body", [b"", b"{", b"nope", b"3", b'"s"', b"\xff\xfe"])
def test_bad_bodies_give_one_error_at_item_zero(body: bytes) -> None:
    result = parse_json_points(body, default_time_ns=NOW)
    assert [e.line_number for e in result.errors] == [0]
    assert result.batch.num_points == 0


def test_wrong_argument_raises_value_error() -> None:
    with pytest.raises(ValueError, match="default_time_ns"):
        parse_json_points(b"[]", default_time_ns="now")  # type: ignore[arg-type]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
item_like = st.fixed_dictionaries(
    {},
    optional={
        "measurement": json_values | st.sampled_from(["m", "n"]),
        "tags": json_values | st.dictionaries(st.sampled_from(["a", "b", "x"]), json_values),
        "fields": json_values | st.dictionaries(st.sampled_from(["x", "y", "a"]), json_values),
        "timestamp": json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(item_like | json_values, max_size=6))
def test_fuzz_json_never_raises(items: list[object]) -> None:
    result = parse_json_points(json.dumps(items).encode(), default_time_ns=NOW)
    assert result.batch.num_points + len(result.errors) == len(items)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_bytes_never_raises(body: bytes) -> None:
    result = parse_json_points(body, default_time_ns=NOW)
    assert isinstance(result, ParseResult)
