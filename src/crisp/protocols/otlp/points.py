"""OTLP metrics into points, in the shape Prometheus gives the same data.

* Gauge and Sum: measurement = metric name (dots kept, e.g. ``http.server.active``;
  Crisp stores names as sent rather than Prometheus-escaping them), field ``value``:
  ``float`` from ``asDouble``, ``integer`` from ``asInt``. A Sum's temporality and
  monotonic flag are not stored: they describe the stream, not a series, and a tag
  would split one series in two if an SDK changed them.
* Histogram: ``<name>_bucket`` with tag ``le`` (cumulative counts, ``+Inf`` last),
  ``<name>_count`` and ``<name>_sum`` (when the point has a sum), all ``float``
  ``value`` as Prometheus stores them. ``min``/``max`` are not stored.
* ExponentialHistogram: ``<name>_count`` and ``<name>_sum`` only; its buckets are
  not converted.
* Summary: ``<name>`` with tag ``quantile``, ``<name>_count`` and ``<name>_sum``.

Tags are resource attributes (e.g. ``service.name``) overlaid by the point's own
attributes (the point wins); the instrumentation scope is not a tag. Time is
``timeUnixNano``. Points flagged ``FLAG_NO_RECORDED_VALUE`` are skipped without
an error: they carry no value by definition.

Errors name the data point by its 1-based position among all data points of the
request (every metric, in order).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
)

from crisp.core.batch import FieldType, LineError
from crisp.protocols.columns import FieldValue
from crisp.protocols.otlp.attributes import attribute_tags
from crisp.protocols.tag_sets import TagSetColumns

VALUE_FIELD = "value"
NO_RECORDED_VALUE = 1
INT64_MAX = 2**63 - 1


class PointSink:
    """Collects points and errors, numbering data points across the request."""

    def __init__(self) -> None:
        self.columns = TagSetColumns(VALUE_FIELD)
        self.errors: list[LineError] = []
        self.index = 0

    def next_point(self) -> int:
        self.index += 1
        return self.index

    def error(self, index: int, where: str, reason: str) -> None:
        self.errors.append(LineError(index, where, reason))

    def add(
        self,
        index: int,
        where: str,
        measurement: str,
        tags: int,
        field_type: FieldType,
        value: FieldValue,
        time_ns: int,
    ) -> None:
        """Add a point whose tags are the tag set ``tags`` (``tag_set``)."""
        reason = self.columns.add(measurement, tags, field_type, value, time_ns)
        if reason is not None:
            self.error(index, where, reason)


def add_metric(
    sink: PointSink, metric: Metric, resource_tags: dict[str, str], resource_set: int
) -> None:
    """Add the metric's points; ``resource_set`` is ``resource_tags``' tag set."""
    kind = metric.WhichOneof("data")
    name = str(metric.name)
    where = f"{name} ({kind})"
    if kind == "gauge":
        _add_numbers(sink, name, where, metric.gauge.data_points, resource_tags, resource_set)
    elif kind == "sum":
        _add_numbers(sink, name, where, metric.sum.data_points, resource_tags, resource_set)
    elif kind == "histogram":
        for point in metric.histogram.data_points:
            index = sink.next_point()
            start = _start(sink, index, name, where, point.time_unix_nano, point.flags)
            if start is None:
                continue
            tags = _tags(resource_tags, point.attributes)
            tag_set = sink.columns.tag_set(tags)
            _add_buckets(sink, index, name, where, tags, point, start)
            sink.add(
                index, where, f"{name}_count", tag_set, FieldType.FLOAT, float(point.count), start
            )
            if point.HasField("sum"):
                sink.add(index, where, f"{name}_sum", tag_set, FieldType.FLOAT, point.sum, start)
    elif kind == "exponential_histogram":
        for point in metric.exponential_histogram.data_points:
            index = sink.next_point()
            start = _start(sink, index, name, where, point.time_unix_nano, point.flags)
            if start is None:
                continue
            tags = _tags(resource_tags, point.attributes)
            tag_set = sink.columns.tag_set(tags)
            sink.add(
                index, where, f"{name}_count", tag_set, FieldType.FLOAT, float(point.count), start
            )
            if point.HasField("sum"):
                sink.add(index, where, f"{name}_sum", tag_set, FieldType.FLOAT, point.sum, start)
    elif kind == "summary":
        for point in metric.summary.data_points:
            index = sink.next_point()
            start = _start(sink, index, name, where, point.time_unix_nano, point.flags)
            if start is None:
                continue
            tags = _tags(resource_tags, point.attributes)
            tag_set = sink.columns.tag_set(tags)
            for quantile in point.quantile_values:
                quantile_tags = {**tags, "quantile": format_bound(quantile.quantile)}
                quantile_set = sink.columns.tag_set(quantile_tags)
                sink.add(index, where, name, quantile_set, FieldType.FLOAT, quantile.value, start)
            sink.add(
                index, where, f"{name}_count", tag_set, FieldType.FLOAT, float(point.count), start
            )
            sink.add(index, where, f"{name}_sum", tag_set, FieldType.FLOAT, point.sum, start)
    # A metric without data (or of a kind newer than Crisp) has no points to store.


def _add_numbers(
    sink: PointSink,
    name: str,
    where: str,
    points: Iterable[NumberDataPoint],
    resource_tags: dict[str, str],
    resource_set: int,
) -> None:
    for point in points:
        index = sink.next_point()
        time_ns = _start(sink, index, name, where, point.time_unix_nano, point.flags)
        if time_ns is None:
            continue
        kind = point.WhichOneof("value")
        attributes = point.attributes
        # Points without attributes (one per metric and resource is common) share
        # the resource's tag set: no dict to build.
        tags = (
            sink.columns.tag_set(_tags(resource_tags, attributes)) if attributes else resource_set
        )
        if kind == "as_double":
            value: FieldValue = float(point.as_double)
            sink.add(index, where, name, tags, FieldType.FLOAT, value, time_ns)
        elif kind == "as_int":
            value = int(point.as_int)
            sink.add(index, where, name, tags, FieldType.INTEGER, value, time_ns)
        else:
            sink.error(index, where, "data point has neither asDouble nor asInt")


def _add_buckets(
    sink: PointSink,
    index: int,
    name: str,
    where: str,
    tags: dict[str, str],
    point: HistogramDataPoint,
    time_ns: int,
) -> None:
    bounds = list(point.explicit_bounds)
    counts = list(point.bucket_counts)
    if not counts and not bounds:
        return  # No distribution: only count and sum are known.
    if len(counts) != len(bounds) + 1:
        sink.error(
            index,
            where,
            f"histogram has {len(counts)} bucket counts for {len(bounds)} bounds "
            "(expected one more count than bounds)",
        )
        return
    cumulative = 0
    for bound, count in zip([*bounds, math.inf], counts, strict=True):
        # OTLP counts are per bucket; Prometheus' le buckets are cumulative.
        cumulative += count
        bucket_set = sink.columns.tag_set({**tags, "le": format_bound(bound)})
        sink.add(
            index, where, f"{name}_bucket", bucket_set, FieldType.FLOAT, float(cumulative), time_ns
        )


def _start(
    sink: PointSink, index: int, name: str, where: str, time_unix_nano: int, flags: int
) -> int | None:
    """The point's time, or ``None`` when it is skipped (an error is recorded if bad)."""
    if flags & NO_RECORDED_VALUE:
        return None
    if not name:
        sink.error(index, where, "metric has no name")
        return None
    if time_unix_nano == 0:
        sink.error(index, where, "data point has no timeUnixNano")
        return None
    if time_unix_nano > INT64_MAX:
        sink.error(index, where, f"timeUnixNano {time_unix_nano} is beyond the int64 range")
        return None
    return int(time_unix_nano)


def _tags(resource_tags: dict[str, str], attributes: Iterable[KeyValue]) -> dict[str, str]:
    tags = dict(resource_tags)
    attribute_tags(attributes, tags)
    return tags


def format_bound(bound: float) -> str:
    """A bucket bound or quantile as Prometheus writes it: ``1``, ``0.005``, ``+Inf``."""
    if math.isnan(bound):
        return "NaN"
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    if bound.is_integer() and abs(bound) < 1e21:
        return str(int(bound))
    # repr() is the shortest round-tripping text; Decimal spells it without exponent.
    return format(Decimal(repr(bound)), "f")
