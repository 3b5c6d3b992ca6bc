"""The vectorised remote-write reader gives exactly the scalar reader's points."""

from __future__ import annotations

import math

import cramjam
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.bench.dataset import DatasetSpec
from crisp.bench.encoders import wire_format
from crisp.bench.generate import generate_batches
from crisp.bench.points import parse_lines
from crisp.core.batch import ParseResult
from crisp.protocols.remote_write import parse_remote_write
from crisp.protocols.remote_write.columnar import read_points
from crisp.protocols.remote_write.parser import parse_write_request
from crisp.protocols.remote_write.vector_wire import MAX_ROUNDS
from tests.unit.protocols.remote_write.messages import write_request
from tests.unit.protocols.same_result import assert_same

Series = tuple[list[tuple[str, str]], list[tuple[float, int]]]


def snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def devops_bodies() -> list[bytes]:
    spec = DatasetSpec(use_case="devops", hosts=3, duration_ns=120 * 10**9)
    encode = wire_format("remote-write").encode
    assert encode is not None
    return [encode(parse_lines(lines)).data for lines in generate_batches(spec, 200)]


def test_devops_bodies_take_the_fast_path_and_match() -> None:
    for body in devops_bodies():
        data = bytes(cramjam.snappy.decompress_raw(body))
        fast = read_points(data)
        assert fast is not None
        assert_same(ParseResult(fast, []), parse_write_request(data))


def test_prometheus_shaped_bodies_take_the_fast_path_and_match() -> None:
    series: list[Series] = [
        (
            [("__name__", f"m{i % 7}"), ("instance", f"h{i % 3}:9100"), ("job", "node")],
            [(float(i), 1_700_000_000_000 + i)],
        )
        for i in range(300)
    ]
    data = write_request(series)
    fast = read_points(data)
    assert fast is not None
    assert_same(ParseResult(fast, []), parse_write_request(data))
    assert [m.measurement for m in fast][:3] == ["m0", "m1", "m2"]


def test_long_series_labels_out_of_order_and_empty_values_match() -> None:
    long_value = "x" * 300  # a two-byte varint length
    series: list[Series] = [
        ([("__name__", "a"), ("k", long_value)], [(float(i), i) for i in range(MAX_ROUNDS * 3)]),
        ([("zone", "z1"), ("__name__", "a"), ("empty", "")], [(0.0, 0), (-0.0, -5)]),
        ([("__name__", "b")], []),  # no samples: no points, no error
        ([("__name__", "b"), ("k", "v")], [(math.nan, 7)]),
    ]
    data = write_request(series)
    assert read_points(data) is not None
    assert_same(parse_remote_write(snappy(data)), parse_write_request(data))


def test_bad_series_fall_back_to_the_scalar_reader() -> None:
    data = write_request(
        [
            ([("__name__", "a"), ("host", "h")], [(1.0, 1)]),
            ([("host", "h")], [(1.0, 1)]),  # no __name__
            ([("__name__", "a"), ("time", "t")], [(1.0, 1)]),
            ([("__name__", "a"), ("value", "v")], [(1.0, 1)]),
        ]
    )
    assert read_points(data) is None
    result = parse_remote_write(bytes(cramjam.snappy.compress_raw(data)))
    assert [error.line_number for error in result.errors] == [2, 3, 4]
    assert result.batch.num_points == 1


label_names = st.sampled_from(["__name__", "a", "b", "job", "time", "value", "", "Z"])
label_values = st.one_of(st.sampled_from(["", "m", "n", "x" * 200]), st.text(max_size=3))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(label_names, label_values), max_size=4),
            st.lists(
                st.tuples(
                    st.one_of(st.floats(), st.just(0.0)),
                    st.one_of(st.just(0), st.integers(min_value=-(2**62), max_value=2**62)),
                ),
                max_size=3,
            ),
        ),
        max_size=6,
    ),
    st.sampled_from(["", "exemplar"]),
)
def test_fuzz_same_points_and_errors_as_the_scalar_reader(series: list[Series], extra: str) -> None:
    named = [([("__name__", "m"), *labels], samples) for labels, samples in series[:2]]
    data = write_request(named + series[2:], extra=extra)
    assert_same(parse_remote_write(snappy(data)), parse_write_request(data))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["m", "n", "o"]),
            st.lists(
                st.tuples(st.sampled_from(["a", "b", "job"]), label_values),
                max_size=3,
                unique_by=lambda pair: pair[0],
            ),
            st.lists(st.tuples(st.floats(), st.integers(-(2**40), 2**42)), max_size=3),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fuzz_clean_bodies_are_read_by_the_fast_path(
    series: list[tuple[str, list[tuple[str, str]], list[tuple[float, int]]]],
) -> None:
    data = write_request(
        [([("__name__", name), *labels], samples) for name, labels, samples in series]
    )
    fast = read_points(data)
    if all(samples == [] for _, _, samples in series):
        return  # nothing to read either way
    assert fast is not None
    assert_same(ParseResult(fast, []), parse_write_request(data))
