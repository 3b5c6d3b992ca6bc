"""The vectorised OTLP reader gives exactly the points protobuf's decoding gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from crisp.bench.dataset import DatasetSpec
from crisp.bench.encoders import wire_format
from crisp.bench.generate import generate_batches
from crisp.bench.points import parse_lines
from crisp.core.batch import ParseResult
from crisp.protocols.otlp import parse_otlp_metrics
from crisp.protocols.otlp.columnar import read_points
from crisp.protocols.otlp.decode import decode_request
from crisp.protocols.otlp.parser import result_from_request
from tests.unit.protocols.same_result import assert_same

PROTOBUF = "application/x-protobuf"
T = 1_700_000_000_000_000_000


def through_protobuf(body: bytes) -> ParseResult:
    return result_from_request(decode_request(body, PROTOBUF))


def kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def test_devops_bodies_take_the_fast_path_and_match() -> None:
    spec = DatasetSpec(use_case="devops", hosts=3, duration_ns=120 * 10**9)
    encode = wire_format("otlp").encode
    assert encode is not None
    for lines in generate_batches(spec, 200):
        body = encode(parse_lines(lines)).data
        fast = read_points(body)
        assert fast is not None
        assert_same(ParseResult(fast, []), through_protobuf(body))


def test_sdk_shaped_body_takes_the_fast_path_and_matches() -> None:
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.extend([kv("service.name", "api"), kv("host", "h1")])
    scope = resource_metrics.scope_metrics.add()
    scope.scope.name = "lib"
    for number in range(6):
        metric = scope.metrics.add(name=f"m{number}")
        points = metric.sum.data_points if number % 2 else metric.gauge.data_points
        for index in range(120):  # more fields than one vector round takes
            point = points.add(time_unix_nano=T + index, flags=int(index % 7 == 3))
            point.attributes.extend([kv("route", f"/r{index % 5}"), kv("host", f"h{index % 2}")])
            if number % 3:
                point.as_double = index / 4
            else:
                point.as_int = -index
    body = request.SerializeToString()
    fast = read_points(body)
    assert fast is not None
    assert fast.measurements["m1"].table.column("host").to_pylist()[:2] == ["h0", "h1"]
    assert_same(ParseResult(fast, []), through_protobuf(body))


def test_other_shapes_are_declined_and_read_through_protobuf() -> None:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="e")
    metric.exponential_histogram.data_points.add(time_unix_nano=T, count=2, sum=3.0)
    body = request.SerializeToString()
    assert read_points(body) is None
    result = parse_otlp_metrics(body, content_type=PROTOBUF)
    assert sorted(result.batch.measurements) == ["e_count", "e_sum"]


keys = st.sampled_from(["a", "b", "host", "time", "value", ""])
texts = st.sampled_from(["", "x", "y", "é"])
attribute_lists = st.lists(st.tuples(keys, st.one_of(texts, st.integers(0, 3))), max_size=3)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            attribute_lists,
            st.lists(
                st.tuples(
                    st.sampled_from(["m", "n", ""]),
                    st.booleans(),  # gauge or sum
                    st.lists(
                        st.tuples(
                            attribute_lists,
                            st.sampled_from([0, T, T + 1, 2**63]),
                            st.one_of(st.none(), st.floats(), st.integers(-(2**63), 2**63 - 1)),
                            st.sampled_from([0, 1]),
                        ),
                        max_size=3,
                    ),
                ),
                max_size=3,
            ),
        ),
        max_size=3,
    )
)
def test_fuzz_same_points_and_errors_as_protobuf(
    resources: list[tuple[list[tuple[str, str | int]], list[tuple[str, bool, list]]]],  # type: ignore[type-arg]
) -> None:
    request = ExportMetricsServiceRequest()
    for resource_attributes, metrics in resources:
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.extend(_attributes(resource_attributes))
        scope = resource_metrics.scope_metrics.add()
        for name, is_gauge, points in metrics:
            metric = scope.metrics.add(name=name)
            container = metric.gauge if is_gauge else metric.sum
            if not points:
                container.SetInParent()
            for attributes, time_ns, value, flags in points:
                point = container.data_points.add(time_unix_nano=time_ns, flags=flags)
                point.attributes.extend(_attributes(attributes))
                if isinstance(value, float):
                    point.as_double = value
                elif isinstance(value, int):
                    point.as_int = value
    body = request.SerializeToString()
    assert_same(parse_otlp_metrics(body, content_type=PROTOBUF), through_protobuf(body))


def _attributes(pairs: list[tuple[str, str | int]]) -> list[KeyValue]:
    return [
        KeyValue(key=key, value=AnyValue(string_value=value))
        if isinstance(value, str)
        else KeyValue(key=key, value=AnyValue(int_value=value))
        for key, value in pairs
    ]
