"""Histograms and summaries in the vectorised OTLP reader: the points protobuf's
decoding gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from crisp.core.batch import ParseResult
from crisp.protocols.otlp import parse_otlp_metrics
from crisp.protocols.otlp.columnar import read_points
from crisp.protocols.otlp.decode import decode_request
from crisp.protocols.otlp.parser import result_from_request
from tests.unit.protocols.same_result import assert_same

PROTOBUF = "application/x-protobuf"
T = 1_700_000_000_000_000_000
BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]


def through_protobuf(body: bytes) -> ParseResult:
    return result_from_request(decode_request(body, PROTOBUF))


def kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def sdk_request() -> ExportMetricsServiceRequest:
    """What an SDK exports: per service, a histogram per route and a gauge."""
    request = ExportMetricsServiceRequest()
    for service in range(3):
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.extend([kv("service.name", f"svc{service}")])
        scope = resource_metrics.scope_metrics.add()
        duration = scope.metrics.add(name="http.server.duration")
        for route in range(70):  # more points than one vector round takes
            point = duration.histogram.data_points.add(
                time_unix_nano=T + route, count=route * 3, sum=route / 8
            )
            point.attributes.extend([kv("http.route", f"/r{route}"), kv("method", "GET")])
            point.explicit_bounds.extend(BOUNDS)
            point.bucket_counts.extend([route % 4] * (len(BOUNDS) + 1))
        scope.metrics.add(name="up").gauge.data_points.add(time_unix_nano=T, as_double=1.0)
        latency = scope.metrics.add(name="rpc.latency")
        for route in range(3):
            point = latency.summary.data_points.add(time_unix_nano=T, count=9, sum=2.5)
            point.attributes.append(kv("rpc", f"m{route}"))
            for quantile in (0.5, 0.9, 0.99):
                point.quantile_values.add(quantile=quantile, value=quantile * route)
    return request


def test_sdk_histograms_take_the_fast_path_and_match() -> None:
    body = sdk_request().SerializeToString()
    fast = read_points(body)
    assert fast is not None
    assert_same(ParseResult(fast, []), through_protobuf(body))
    buckets = fast.measurements["http.server.duration_bucket"].table
    assert buckets.num_rows == 3 * 70 * (len(BOUNDS) + 1)
    first = buckets.slice(len(BOUNDS) * 0, len(BOUNDS) + 1).to_pylist()
    assert [row["le"] for row in first] == [*(f"{b:g}" for b in BOUNDS[:7]), "1", "2.5", "5",
                                            "10", "+Inf"]  # fmt: skip
    assert list(fast.measurements) == [
        "http.server.duration_bucket", "http.server.duration_count",
        "http.server.duration_sum", "up", "rpc.latency", "rpc.latency_count",
        "rpc.latency_sum",
    ]  # fmt: skip
    quantiles = fast.measurements["rpc.latency"].table.to_pylist()
    assert [(row["quantile"], row["value"]) for row in quantiles[3:6]] == [
        ("0.5", 0.5), ("0.9", 0.9), ("0.99", 0.99),
    ]  # fmt: skip


def test_a_bucket_count_mismatch_is_declined_and_worded_by_protobuf() -> None:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="h")
    point = metric.histogram.data_points.add(time_unix_nano=T, count=2)
    point.bucket_counts.extend([1, 1, 1])
    point.explicit_bounds.append(1.0)
    body = request.SerializeToString()
    assert read_points(body) is None
    result = parse_otlp_metrics(body, content_type=PROTOBUF)
    assert "3 bucket counts for 1 bounds" in result.errors[0].reason
    assert sorted(result.batch.measurements) == ["h_count"]


keys = st.sampled_from(["a", "le", "host", ""])
texts = st.sampled_from(["", "x", "y"])
attribute_lists = st.lists(st.tuples(keys, texts), max_size=2)
bound_values = st.sampled_from([0.0, -0.0, 0.005, 1.0, 2.5, 1e21, 1e-7, float("inf"),
                                float("nan"), -3.0])  # fmt: skip
counts = st.sampled_from([0, 1, 7, 2**40, 2**62, 2**63 + 1, 2**64 - 1])
histogram_points = st.tuples(
    attribute_lists,
    st.sampled_from([0, T, T + 1, 2**63]),  # time
    st.sampled_from([0, 1]),  # flags
    st.one_of(st.none(), counts),  # count
    st.one_of(st.none(), st.floats()),  # sum
    st.lists(bound_values, max_size=3),
    st.one_of(st.none(), st.lists(counts, max_size=4)),  # None: one more than bounds
)
summary_points = st.tuples(
    attribute_lists,
    st.sampled_from([0, T, T + 3]),
    st.sampled_from([0, 1]),
    st.one_of(st.none(), counts),
    st.one_of(st.none(), st.floats()),
    st.lists(st.tuples(st.one_of(st.none(), bound_values), st.one_of(st.none(), st.floats())),
             max_size=3),
)  # fmt: skip
number_points = st.tuples(
    attribute_lists,
    st.sampled_from([0, T, T + 2]),
    st.sampled_from([0, 1]),
    st.one_of(st.floats(), st.integers(-5, 5)),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            attribute_lists,
            st.lists(
                st.tuples(
                    st.sampled_from(["h", "m", "h_bucket", "h_count", "m_sum", ""]),
                    st.one_of(
                        st.tuples(st.just("histogram"), st.lists(histogram_points, max_size=3)),
                        st.tuples(st.just("gauge"), st.lists(number_points, max_size=3)),
                        st.tuples(st.just("summary"), st.lists(summary_points, max_size=3)),
                    ),
                ),
                max_size=3,
            ),
        ),
        min_size=1,
        max_size=2,
    )
)
def test_fuzz_histograms_give_the_same_points_and_errors_as_protobuf(resources: list) -> None:  # type: ignore[type-arg]
    request = ExportMetricsServiceRequest()
    for resource_attributes, metrics in resources:
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.extend(kv(k, v) for k, v in resource_attributes)
        scope = resource_metrics.scope_metrics.add()
        for name, (kind, points) in metrics:
            metric = scope.metrics.add(name=name)
            if kind == "gauge":
                metric.gauge.SetInParent()
                for attributes, time_ns, flags, value in points:
                    point = metric.gauge.data_points.add(time_unix_nano=time_ns, flags=flags)
                    point.attributes.extend(kv(k, v) for k, v in attributes)
                    if isinstance(value, float):
                        point.as_double = value
                    else:
                        point.as_int = value
                continue
            if kind == "summary":
                metric.summary.SetInParent()
                for attributes, time_ns, flags, count, total, quantiles in points:
                    point = metric.summary.data_points.add(time_unix_nano=time_ns, flags=flags)
                    point.attributes.extend(kv(k, v) for k, v in attributes)
                    if count is not None:
                        point.count = count
                    if total is not None:
                        point.sum = total
                    for quantile, value in quantiles:
                        at = point.quantile_values.add()
                        if quantile is not None:
                            at.quantile = quantile
                        if value is not None:
                            at.value = value
                continue
            metric.histogram.SetInParent()
            for attributes, time_ns, flags, count, total, bounds, bucket_counts in points:
                point = metric.histogram.data_points.add(time_unix_nano=time_ns, flags=flags)
                point.attributes.extend(kv(k, v) for k, v in attributes)
                if count is not None:
                    point.count = count
                if total is not None:
                    point.sum = total
                point.explicit_bounds.extend(bounds)
                if bucket_counts is None:
                    bucket_counts = [3] * (len(bounds) + 1) if bounds else []
                point.bucket_counts.extend(bucket_counts)
    body = request.SerializeToString()
    assert_same(parse_otlp_metrics(body, content_type=PROTOBUF), through_protobuf(body))
