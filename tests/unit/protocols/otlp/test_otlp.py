"""The OTLP metrics parser: protobuf requests built with opentelemetry-proto, JSON by hand."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_CUMULATIVE,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
    Summary,
    SummaryDataPoint,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from crisp.core.batch import FieldType, ParseResult
from crisp.protocols.otlp import parse_otlp_metrics

T = 1_700_000_000_123_456_789
PROTOBUF = "application/x-protobuf"


def attrs(**values: str) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()]


def request(*metrics: Metric, resource: list[KeyValue] | None = None) -> bytes:
    message = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=resource or attrs(**{"service.name": "api"})),
                scope_metrics=[ScopeMetrics(metrics=list(metrics))],
            )
        ]
    )
    return bytes(message.SerializeToString())


def parse(*metrics: Metric) -> ParseResult:
    return parse_otlp_metrics(request(*metrics), content_type=PROTOBUF)


def rows(result: ParseResult, name: str) -> list[dict[str, object]]:
    return list(result.batch.measurements[name].table.to_pylist())


def test_gauge_and_sum_values_and_tags() -> None:
    result = parse(
        Metric(
            name="system.cpu.utilization",
            gauge=Gauge(
                data_points=[
                    NumberDataPoint(
                        time_unix_nano=T, as_double=0.25, attributes=attrs(cpu="0", host="x")
                    )
                ]
            ),
        ),
        Metric(
            name="http.requests",
            sum=Sum(
                is_monotonic=True,
                aggregation_temporality=AGGREGATION_TEMPORALITY_CUMULATIVE,
                data_points=[
                    NumberDataPoint(
                        time_unix_nano=T, as_int=42, attributes=attrs(**{"service.name": "own"})
                    )
                ],
            ),
        ),
    )
    assert result.errors == []
    assert rows(result, "system.cpu.utilization") == [
        {"time": T, "cpu": "0", "host": "x", "service.name": "api", "value": 0.25}
    ]
    requests = result.batch.measurements["http.requests"]
    assert requests.field_types == {"value": FieldType.INTEGER}
    # The point's own attribute wins over the resource's.
    assert rows(result, "http.requests") == [{"time": T, "service.name": "own", "value": 42}]


def test_histogram_prometheus_shape() -> None:
    result = parse(
        Metric(
            name="latency",
            histogram=Histogram(
                data_points=[
                    HistogramDataPoint(
                        time_unix_nano=T,
                        count=10,
                        sum=3.5,
                        explicit_bounds=[0.005, 1.0, 2.5],
                        bucket_counts=[1, 2, 3, 4],
                        attributes=attrs(route="/"),
                    ),
                    HistogramDataPoint(time_unix_nano=T + 1, count=0),
                ]
            ),
        )
    )
    assert result.errors == []
    buckets = rows(result, "latency_bucket")
    assert [(row["le"], row["value"]) for row in buckets] == [
        ("0.005", 1.0),
        ("1", 3.0),
        ("2.5", 6.0),
        ("+Inf", 10.0),
    ]
    assert all(row["route"] == "/" and row["time"] == T for row in buckets)
    assert [row["value"] for row in rows(result, "latency_count")] == [10.0, 0.0]
    assert rows(result, "latency_sum") == [
        {"time": T, "route": "/", "service.name": "api", "value": 3.5}
    ]


def test_exponential_histogram_and_summary() -> None:
    result = parse(
        Metric(
            name="exp",
            exponential_histogram=ExponentialHistogram(
                data_points=[ExponentialHistogramDataPoint(time_unix_nano=T, count=7, sum=1.5)]
            ),
        ),
        Metric(
            name="rpc",
            summary=Summary(
                data_points=[
                    SummaryDataPoint(
                        time_unix_nano=T,
                        count=3,
                        sum=9.0,
                        quantile_values=[
                            SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=2.0),
                            SummaryDataPoint.ValueAtQuantile(quantile=0.99, value=4.0),
                        ],
                    )
                ]
            ),
        ),
    )
    assert result.errors == []
    assert [row["value"] for row in rows(result, "exp_count")] == [7.0]
    assert [row["value"] for row in rows(result, "exp_sum")] == [1.5]
    assert "exp_bucket" not in result.batch.measurements
    assert [(row["quantile"], row["value"]) for row in rows(result, "rpc")] == [
        ("0.5", 2.0),
        ("0.99", 4.0),
    ]
    assert [row["value"] for row in rows(result, "rpc_count")] == [3.0]
    assert [row["value"] for row in rows(result, "rpc_sum")] == [9.0]


def test_attribute_values_are_rendered_as_text() -> None:
    values = {
        "b": AnyValue(bool_value=True),
        "i": AnyValue(int_value=-3),
        "d": AnyValue(double_value=1.5),
        "a": AnyValue(
            array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(string_value="x")])
        ),
        "y": AnyValue(bytes_value=b"\x00\x01"),
    }
    point = NumberDataPoint(
        time_unix_nano=T, as_int=1, attributes=[KeyValue(key=k, value=v) for k, v in values.items()]
    )
    result = parse(Metric(name="m", gauge=Gauge(data_points=[point])))
    assert rows(result, "m") == [
        {
            "time": T,
            "a": '[1,"x"]',
            "b": "true",
            "d": "1.5",
            "i": "-3",
            "service.name": "api",
            "y": "AAE=",
            "value": 1,
        }
    ]


def test_bad_points_are_reported_by_index_and_others_kept() -> None:
    result = parse(
        Metric(
            name="m",
            gauge=Gauge(
                data_points=[
                    NumberDataPoint(time_unix_nano=T, as_double=1.0),
                    NumberDataPoint(time_unix_nano=T, as_int=1),  # 2: type conflict
                    NumberDataPoint(as_double=1.0),  # 3: no time
                    NumberDataPoint(time_unix_nano=T),  # 4: no value
                    NumberDataPoint(time_unix_nano=2**64 - 1, as_double=1.0),  # 5: range
                    NumberDataPoint(flags=1, time_unix_nano=T),  # 6: no recorded value
                ]
            ),
        ),
        Metric(
            name="h",
            histogram=Histogram(
                data_points=[HistogramDataPoint(time_unix_nano=T, explicit_bounds=[1.0])]
            ),
        ),
        Metric(name="empty"),
        Metric(
            name="k",
            gauge=Gauge(
                data_points=[
                    NumberDataPoint(time_unix_nano=T, as_int=1, attributes=attrs(**{"": "v"}))
                ]
            ),
        ),
    )
    assert [(e.line_number, e.reason.split(":")[0].split(" ")[0]) for e in result.errors] == [
        (2, "field"),
        (3, "data"),
        (4, "data"),
        (5, "timeUnixNano"),
        (7, "histogram"),
        (8, "empty"),
    ]
    assert rows(result, "m") == [{"time": T, "service.name": "api", "value": 1.0}]
    assert rows(result, "h_count") == [{"time": T, "service.name": "api", "value": 0.0}]


JSON_BODY = {
    "resourceMetrics": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
            "scopeMetrics": [
                {
                    "scope": {"name": "lib", "version": "1"},
                    "metrics": [
                        {
                            "name": "queue.depth",
                            "unit": "1",
                            "gauge": {
                                "dataPoints": [
                                    {
                                        "timeUnixNano": str(T),
                                        "asInt": "7",
                                        "attributes": [{"key": "q", "value": {"stringValue": "a"}}],
                                    }
                                ]
                            },
                        },
                        {
                            "name": "req.latency",
                            "histogram": {
                                "aggregationTemporality": 2,
                                "dataPoints": [
                                    {
                                        "timeUnixNano": str(T),
                                        "count": "3",
                                        "sum": 0.75,
                                        "bucketCounts": ["1", "2"],
                                        "explicitBounds": [0.5],
                                        "exemplars": [
                                            {
                                                "timeUnixNano": str(T),
                                                "asDouble": 0.1,
                                                "traceId": "5b8efff798038103d269b633813fc60c",
                                                "spanId": "eee19b7ec3c1b174",
                                            }
                                        ],
                                    }
                                ],
                            },
                        },
                    ],
                    "someFutureField": {"x": 1},
                }
            ],
        }
    ]
}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_json_encoding(content_type: str) -> None:
    result = parse_otlp_metrics(json.dumps(JSON_BODY).encode(), content_type=content_type)
    assert result.errors == []
    assert rows(result, "queue.depth") == [{"time": T, "q": "a", "service.name": "svc", "value": 7}]
    assert [(row["le"], row["value"]) for row in rows(result, "req.latency_bucket")] == [
        ("0.5", 1.0),
        ("+Inf", 3.0),
    ]
    assert rows(result, "req.latency_sum")[0]["value"] == 0.75


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"resourceMetrics": 5}', "application/json"),
        (
            b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"gauge": 1}]}]}]}',
            "application/json",
        ),
        (b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF),
        (b"\xff\xff", PROTOBUF),
    ],
)
def test_undecodable_bodies_give_one_error_at_zero(body: bytes, content_type: str) -> None:
    result = parse_otlp_metrics(body, content_type=content_type)
    assert [e.line_number for e in result.errors] == [0]
    assert result.batch.num_points == 0


def test_unknown_content_type_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="content type"):
        parse_otlp_metrics(b"", content_type="text/plain")


def test_empty_bodies_are_empty_requests() -> None:
    assert parse_otlp_metrics(b"", content_type=PROTOBUF).batch.num_points == 0
    assert parse_otlp_metrics(b"{}", content_type="application/json").errors == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b.c"]),
            st.floats(allow_nan=False) | st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.integers(min_value=1, max_value=2**63 - 1),
        ),
        max_size=6,
    )
)
def test_fuzz_gauges_round_trip(points: list[tuple[str, float | int, int]]) -> None:
    metrics = []
    for name, value, time in points:
        point = (
            NumberDataPoint(time_unix_nano=time, as_double=value)
            if isinstance(value, float)
            else NumberDataPoint(time_unix_nano=time, as_int=value)
        )
        metrics.append(Metric(name=name, gauge=Gauge(data_points=[point])))
    result = parse(*metrics)
    assert result.batch.num_points + len(result.errors) == len(points)
    assert all("type conflict" in e.reason for e in result.errors)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=150), st.sampled_from([PROTOBUF, "application/json"]))
def test_fuzz_bytes_never_raise(body: bytes, content_type: str) -> None:
    assert isinstance(parse_otlp_metrics(body, content_type=content_type), ParseResult)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceMetrics",
                    "scopeMetrics",
                    "metrics",
                    "gauge",
                    "dataPoints",
                    "asInt",
                    "asDouble",
                    "timeUnixNano",
                    "name",
                    "attributes",
                    "key",
                    "value",
                    "stringValue",
                    "histogram",
                    "bucketCounts",
                    "sum",
                ]
            ),
            children,
            max_size=3,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_fuzz_json_shapes_never_raise(document: object) -> None:
    body = json.dumps(document).encode()
    assert isinstance(parse_otlp_metrics(body, content_type="application/json"), ParseResult)


def test_nan_values_are_kept() -> None:
    point = NumberDataPoint(time_unix_nano=T, as_double=math.nan)
    result = parse(Metric(name="m", gauge=Gauge(data_points=[point])))
    assert math.isnan(rows(result, "m")[0]["value"])  # type: ignore[arg-type]
