"""A fast reader for the common shape of OTLP JSON metrics requests.

protobuf's ``json_format`` is pure Python and walks every field through its
descriptor: about 25 µs per data point. This reader builds the same messages from
the decoded JSON directly, for the fields Crisp maps (names, attributes, times,
values, counts, sums, bounds, quantiles), and skips the fields Crisp does not store
(``unit``, ``exemplars``, ``startTimeUnixNano``...) without reading them.

Anything it is not sure to read exactly as ``json_format`` would (snake_case keys,
``null``, ``bytesValue``, unknown keys, odd number spellings) raises ``Fallback``,
and the caller hands the whole document to ``json_format``: the fast path can only
make a body faster, never read it differently.
"""

from __future__ import annotations

import math
import re
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
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

# Every JSON key of each message (proto3 JSON names, from the OTLP protos): a key
# outside these (a snake_case spelling, a newer field) sends the body to json_format.
_REQUEST = frozenset({"resourceMetrics"})
_RESOURCE_METRICS = frozenset({"resource", "scopeMetrics", "schemaUrl"})
_RESOURCE = frozenset({"attributes", "droppedAttributesCount", "entityRefs"})
_SCOPE_METRICS = frozenset({"scope", "metrics", "schemaUrl"})
_DATA_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
_METRIC = frozenset({"name", "description", "unit", "metadata", *_DATA_KINDS})
_DATA = frozenset({"dataPoints", "aggregationTemporality", "isMonotonic"})
_POINT_COMMON = {"attributes", "startTimeUnixNano", "timeUnixNano", "exemplars", "flags"}
_NUMBER_POINT = frozenset({*_POINT_COMMON, "asDouble", "asInt"})
_HISTOGRAM_POINT = frozenset(
    {*_POINT_COMMON, "count", "sum", "bucketCounts", "explicitBounds", "min", "max"}
)
_EXPONENTIAL_POINT = frozenset(
    {*_POINT_COMMON, "count", "sum", "scale", "zeroCount", "positive", "negative"}
    | {"min", "max", "zeroThreshold"}
)
_SUMMARY_POINT = frozenset({*_POINT_COMMON, "count", "sum", "quantileValues"})
_QUANTILE = frozenset({"quantile", "value"})
_KEY_VALUE = frozenset({"key", "value"})
_ANY_KINDS = frozenset({"stringValue", "boolValue", "intValue", "doubleValue"})
_ANY_NESTED = frozenset({"arrayValue", "kvlistValue"})
_DECIMAL = re.compile(r"-?[0-9]{1,20}\Z")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_UINT64_MAX = 2**64 - 1
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# protobuf refuses deeper nesting; beyond it json_format words the error.
_MAX_ANY_DEPTH = 32


class Fallback(Exception):
    """The fast reader declines the document; ``json_format`` must read it."""


def request_from_json(document: dict[str, Any]) -> ExportMetricsServiceRequest:
    _keys(document, _REQUEST)
    return ExportMetricsServiceRequest(
        resource_metrics=[
            _resource_metrics(_object(item)) for item in _list(document, "resourceMetrics")
        ]
    )


def _resource_metrics(obj: dict[str, Any]) -> ResourceMetrics:
    _keys(obj, _RESOURCE_METRICS)
    resource = _object(obj.get("resource", {}))
    _keys(resource, _RESOURCE)
    scopes = [_scope_metrics(_object(item)) for item in _list(obj, "scopeMetrics")]
    return ResourceMetrics(
        resource=Resource(attributes=_attributes(resource)), scope_metrics=scopes
    )


def _scope_metrics(obj: dict[str, Any]) -> ScopeMetrics:
    _keys(obj, _SCOPE_METRICS)
    return ScopeMetrics(metrics=[_metric(_object(item)) for item in _list(obj, "metrics")])


def _metric(obj: dict[str, Any]) -> Metric:
    _keys(obj, _METRIC)
    name = _string(obj.get("name", ""))
    kinds = [kind for kind in _DATA_KINDS if kind in obj]
    if not kinds:
        return Metric(name=name)
    if len(kinds) > 1:
        raise Fallback  # json_format reports the oneof clash.
    kind = kinds[0]
    data = _object(obj[kind])
    _keys(data, _DATA)
    points = [_object(item) for item in _list(data, "dataPoints")]
    if kind == "gauge":
        return Metric(name=name, gauge=Gauge(data_points=[_number(p) for p in points]))
    if kind == "sum":
        return Metric(name=name, sum=Sum(data_points=[_number(p) for p in points]))
    if kind == "histogram":
        return Metric(name=name, histogram=Histogram(data_points=[_histogram(p) for p in points]))
    if kind == "summary":
        return Metric(name=name, summary=Summary(data_points=[_summary(p) for p in points]))
    exponential = [_exponential(p) for p in points]
    return Metric(name=name, exponential_histogram=ExponentialHistogram(data_points=exponential))


def _number(obj: dict[str, Any]) -> NumberDataPoint:
    _keys(obj, _NUMBER_POINT)
    point = NumberDataPoint(
        attributes=_attributes(obj),
        time_unix_nano=_uint64(obj.get("timeUnixNano", 0)),
        flags=_uint32(obj.get("flags", 0)),
    )
    if "asDouble" in obj:
        if "asInt" in obj:
            raise Fallback
        point.as_double = _double(obj["asDouble"])
    elif "asInt" in obj:
        point.as_int = _int64(obj["asInt"])
    return point


def _histogram(obj: dict[str, Any]) -> HistogramDataPoint:
    _keys(obj, _HISTOGRAM_POINT)
    point = HistogramDataPoint(
        attributes=_attributes(obj),
        time_unix_nano=_uint64(obj.get("timeUnixNano", 0)),
        flags=_uint32(obj.get("flags", 0)),
        count=_uint64(obj.get("count", 0)),
        bucket_counts=[_uint64(count) for count in _list(obj, "bucketCounts")],
        explicit_bounds=[_double(bound) for bound in _list(obj, "explicitBounds")],
    )
    if "sum" in obj:
        point.sum = _double(obj["sum"])
    return point


def _exponential(obj: dict[str, Any]) -> ExponentialHistogramDataPoint:
    _keys(obj, _EXPONENTIAL_POINT)
    point = ExponentialHistogramDataPoint(
        attributes=_attributes(obj),
        time_unix_nano=_uint64(obj.get("timeUnixNano", 0)),
        flags=_uint32(obj.get("flags", 0)),
        count=_uint64(obj.get("count", 0)),
    )
    if "sum" in obj:
        point.sum = _double(obj["sum"])
    return point


def _summary(obj: dict[str, Any]) -> SummaryDataPoint:
    _keys(obj, _SUMMARY_POINT)
    quantiles = []
    for item in _list(obj, "quantileValues"):
        quantile = _object(item)
        _keys(quantile, _QUANTILE)
        quantiles.append(
            SummaryDataPoint.ValueAtQuantile(
                quantile=_double(quantile.get("quantile", 0.0)),
                value=_double(quantile.get("value", 0.0)),
            )
        )
    return SummaryDataPoint(
        attributes=_attributes(obj),
        time_unix_nano=_uint64(obj.get("timeUnixNano", 0)),
        flags=_uint32(obj.get("flags", 0)),
        count=_uint64(obj.get("count", 0)),
        sum=_double(obj.get("sum", 0.0)),
        quantile_values=quantiles,
    )


def _attributes(obj: dict[str, Any]) -> list[KeyValue]:
    return [_key_value(_object(item), 0) for item in _list(obj, "attributes")]


def _key_value(obj: dict[str, Any], depth: int) -> KeyValue:
    _keys(obj, _KEY_VALUE)
    value = _any_value(_object(obj.get("value", {})), depth)
    return KeyValue(key=_string(obj.get("key", "")), value=value)


def _any_value(obj: dict[str, Any], depth: int) -> AnyValue:
    if not obj:
        return AnyValue()
    if len(obj) != 1 or depth > _MAX_ANY_DEPTH:
        raise Fallback
    ((kind, raw),) = obj.items()
    if kind == "stringValue":
        return AnyValue(string_value=_string(raw))
    if kind == "boolValue":
        if not isinstance(raw, bool):
            raise Fallback
        return AnyValue(bool_value=raw)
    if kind == "intValue":
        return AnyValue(int_value=_int64(raw))
    if kind == "doubleValue":
        return AnyValue(double_value=_double(raw))
    if kind == "arrayValue":
        container = _object(raw)
        _keys(container, frozenset({"values"}))
        items = [_any_value(_object(item), depth + 1) for item in _list(container, "values")]
        return AnyValue(array_value=ArrayValue(values=items))
    if kind == "kvlistValue":
        container = _object(raw)
        _keys(container, frozenset({"values"}))
        pairs = [_key_value(_object(item), depth + 1) for item in _list(container, "values")]
        return AnyValue(kvlist_value=KeyValueList(values=pairs))
    raise Fallback  # bytesValue (base64) and anything newer: json_format's job.


def _keys(obj: dict[str, Any], known: frozenset[str]) -> None:
    if not obj.keys() <= known:
        raise Fallback


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Fallback
    return value


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise Fallback
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise Fallback
    return value


def _integer(value: object) -> int:
    # proto3 JSON: 64-bit integers are usually strings, but numbers are allowed.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DECIMAL.match(value):
        return int(value)
    raise Fallback


def _uint64(value: object) -> int:
    number = _integer(value)
    if not 0 <= number <= _UINT64_MAX:
        raise Fallback
    return number


def _uint32(value: object) -> int:
    number = _integer(value)
    if not 0 <= number < 2**32:
        raise Fallback
    return number


def _int64(value: object) -> int:
    number = _integer(value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise Fallback
    return number


def _double(value: object) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return float(value)
    if isinstance(value, str) and value in _SPECIAL_DOUBLES:
        return _SPECIAL_DOUBLES[value]
    raise Fallback
