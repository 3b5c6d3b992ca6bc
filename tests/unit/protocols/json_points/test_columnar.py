"""Reading JSON points by shape gives exactly the item-by-item reader's result."""

from __future__ import annotations

import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.bench.dataset import DatasetSpec
from crisp.bench.encoders import wire_format
from crisp.bench.generate import generate_batches
from crisp.bench.points import parse_lines
from crisp.core.batch import ParseResult
from crisp.protocols.json_points import parse_json_points
from crisp.protocols.json_points.columnar import read_points
from crisp.protocols.json_points.parser import read_items
from tests.unit.protocols.same_result import assert_same

NOW = 1_700_000_000_000_000_000


def test_devops_bodies_are_read_by_shape_and_match() -> None:
    spec = DatasetSpec(use_case="devops", hosts=3, duration_ns=120 * 10**9)
    encode = wire_format("json").encode
    assert encode is not None
    for lines in generate_batches(spec, 200):
        items = orjson.loads(encode(parse_lines(lines)).data)
        fast = read_points(items, NOW)
        assert fast is not None
        assert_same(ParseResult(fast, []), read_items(items, NOW))


def test_shapes_interleave_back_into_item_order() -> None:
    items: list[object] = [
        {"measurement": "m", "tags": {"h": "a"}, "fields": {"x": 1}, "timestamp": 3},
        {"measurement": "n", "tags": {}, "fields": {"s": "t"}},
        {"measurement": "m", "tags": {"h": "", "z": "q"}, "fields": {"y": True}, "timestamp": 1},
        {"measurement": "m", "tags": {"h": "b"}, "fields": {"x": 2}, "timestamp": 2},
    ]
    fast = read_points(items, NOW)
    assert fast is not None
    assert list(fast.measurements) == ["m", "n"]
    assert fast.measurements["m"].table.to_pylist() == [
        {"time": 3, "h": "a", "z": None, "x": 1, "y": None},
        {"time": 1, "h": None, "z": "q", "x": None, "y": True},
        {"time": 2, "h": "b", "z": None, "x": 2, "y": None},
    ]
    assert_same(ParseResult(fast, []), read_items(items, NOW))


scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63) - 3, 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "a", "b"]),
    st.none(),
)
keys = st.sampled_from(["a", "b", "c", "time", ""])
items_strategy = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "measurement": st.sampled_from(["m", "n", ""]),
                "tags": st.dictionaries(keys, st.one_of(st.sampled_from(["", "x", "y"]), scalars)),
                "fields": st.dictionaries(keys, scalars, max_size=3),
            },
            optional={"timestamp": st.one_of(st.integers(-(2**63) - 3, 2**64 - 1), st.just("12"))},
        ),
        scalars,
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(items_strategy)
def test_fuzz_same_result_as_the_item_reader(items: list[object]) -> None:
    body = json.dumps(items).encode()
    assert_same(parse_json_points(body, default_time_ns=NOW), read_items(orjson.loads(body), NOW))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "measurement": st.sampled_from(["m", "n"]),
                "tags": st.dictionaries(st.sampled_from(["h", "r"]), st.sampled_from(["", "x"])),
                "fields": st.dictionaries(
                    st.sampled_from(["f", "g"]), st.floats(allow_nan=False), min_size=1
                ),
                "timestamp": st.integers(0, 2**62),
            }
        ),
        min_size=1,
        max_size=10,
    )
)
def test_fuzz_clean_items_take_the_shape_path(items: list[object]) -> None:
    fast = read_points(items, NOW)
    assert fast is not None
    assert_same(ParseResult(fast, []), read_items(items, NOW))
