"""The fast OTLP JSON reader reads exactly what protobuf's json_format reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_DELTA,
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

from crisp.protocols.otlp.json_fast import Fallback, request_from_json
from crisp.protocols.otlp.parser import result_from_request

u64 = st.integers(min_value=0, max_value=2**64 - 1)
doubles = st.floats(allow_nan=False)
scalars = st.one_of(
    st.builds(lambda v: AnyValue(string_value=v), st.text(max_size=4)),
    st.builds(lambda v: AnyValue(bool_value=v), st.booleans()),
    st.builds(
        lambda v: AnyValue(int_value=v), st.integers(min_value=-(2**63), max_value=2**63 - 1)
    ),
    st.builds(lambda v: AnyValue(double_value=v), doubles),
)
any_values = st.recursive(
    scalars,
    lambda children: (
        st.builds(
            lambda v: AnyValue(array_value=ArrayValue(values=v)), st.lists(children, max_size=2)
        )
        | st.builds(
            lambda v: AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key=k, value=x) for k, x in v])
            ),
            st.lists(st.tuples(st.text(max_size=2), children), max_size=2),
        )
    ),
    max_leaves=4,
)
attributes = st.lists(
    st.builds(lambda k, v: KeyValue(key=k, value=v), st.text(max_size=3), any_values), max_size=2
)
number_points = st.builds(
    lambda a, t, v, f: NumberDataPoint(attributes=a, time_unix_nano=t, flags=f, **v),
    attributes,
    u64,
    st.one_of(
        st.just({}),
        st.builds(lambda v: {"as_double": v}, doubles),
        st.builds(lambda v: {"as_int": v}, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    ),
    st.integers(min_value=0, max_value=3),
)
histogram_points = st.builds(
    lambda a, t, c, s, b, e: HistogramDataPoint(
        attributes=a, time_unix_nano=t, count=c, bucket_counts=b, explicit_bounds=e, **s
    ),
    attributes,
    u64,
    u64,
    st.one_of(st.just({}), st.builds(lambda v: {"sum": v}, doubles)),
    st.lists(u64, max_size=3),
    st.lists(doubles, max_size=3),
)
summary_points = st.builds(
    lambda a, t, c, s, q: SummaryDataPoint(
        attributes=a,
        time_unix_nano=t,
        count=c,
        sum=s,
        quantile_values=[SummaryDataPoint.ValueAtQuantile(quantile=x, value=y) for x, y in q],
    ),
    attributes,
    u64,
    u64,
    doubles,
    st.lists(st.tuples(doubles, doubles), max_size=2),
)
exponential_points = st.builds(
    lambda t, c, s: ExponentialHistogramDataPoint(time_unix_nano=t, count=c, scale=3, **s),
    u64,
    u64,
    st.one_of(st.just({}), st.builds(lambda v: {"sum": v}, doubles)),
)
names = st.sampled_from(["m", "a.b", ""])
metrics = st.one_of(
    st.builds(lambda n: Metric(name=n, unit="s"), names),
    st.builds(
        lambda n, p: Metric(name=n, gauge=Gauge(data_points=p)),
        names,
        st.lists(number_points, max_size=2),
    ),
    st.builds(
        lambda n, p: Metric(
            name=n,
            sum=Sum(
                data_points=p,
                is_monotonic=True,
                aggregation_temporality=AGGREGATION_TEMPORALITY_DELTA,
            ),
        ),
        names,
        st.lists(number_points, max_size=2),
    ),
    st.builds(
        lambda n, p: Metric(name=n, histogram=Histogram(data_points=p)),
        names,
        st.lists(histogram_points, max_size=2),
    ),
    st.builds(
        lambda n, p: Metric(name=n, summary=Summary(data_points=p)),
        names,
        st.lists(summary_points, max_size=2),
    ),
    st.builds(
        lambda n, p: Metric(name=n, exponential_histogram=ExponentialHistogram(data_points=p)),
        names,
        st.lists(exponential_points, max_size=2),
    ),
)
requests = st.builds(
    lambda r, m: ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=r), scope_metrics=[ScopeMetrics(metrics=m)]
            )
        ]
    ),
    attributes,
    st.lists(metrics, max_size=3),
)


def slow(document: dict[str, Any]) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    json_format.ParseDict(document, request, ignore_unknown_fields=True)
    return request


@settings(max_examples=200, deadline=None)
@given(requests)
def test_fast_reader_matches_json_format(request: ExportMetricsServiceRequest) -> None:
    document = json.loads(json_format.MessageToJson(request))
    fast = request_from_json(document)  # Well-formed camelCase: never a fallback.
    # The fast reader skips fields Crisp does not map, so compare what is mapped.
    assert outcome(fast) == outcome(slow(document))


def outcome(request: ExportMetricsServiceRequest) -> object:
    result = result_from_request(request)
    tables = {batch.measurement: batch.table.to_pylist() for batch in result.batch}
    return tables, result.errors


@pytest.mark.parametrize(
    "document",
    [
        {"resource_metrics": []},
        {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": None}]}]}]},
        {
            "resourceMetrics": [
                {"resource": {"attributes": [{"key": "b", "value": {"bytesValue": "AA=="}}]}}
            ]
        },
        {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"gauge": {}, "sum": {}}]}]}]},
        {
            "resourceMetrics": [
                {"scopeMetrics": [{"metrics": [{"gauge": {"dataPoints": [{"asInt": "1.5"}]}}]}]}
            ]
        },
        {
            "resourceMetrics": [
                {"scopeMetrics": [{"metrics": [{"gauge": {"dataPoints": [{"asDouble": "7"}]}}]}]}
            ]
        },
    ],
)
def test_unusual_documents_fall_back(document: dict[str, Any]) -> None:
    with pytest.raises(Fallback):
        request_from_json(document)
