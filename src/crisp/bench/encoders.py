"""Request bodies in each wire format ``crisp bench`` sends, built from points.

- ``lp``: InfluxDB line protocol, the generators' own output (``/write``).
- ``json``: the seed collector's JSON points, an array of
  ``{"measurement", "tags", "fields", "timestamp"}`` (``/api/v1/metrics``).
- ``remote-write``: Prometheus remote-write 1.0, a snappy-block compressed protobuf
  ``WriteRequest`` (``/api/v1/write``).
- ``otlp``: an OTLP/HTTP protobuf ``ExportMetricsServiceRequest`` of gauges
  (``/v1/metrics``).

Prometheus and OTLP samples are single numbers, so a point becomes one series per
field named ``<measurement>_<field>`` (as VictoriaMetrics names line-protocol data),
labelled with the point's tags (OTLP: resource attributes); string fields have no
numeric form and are left out. OTLP keeps integers as ``asInt``; remote-write has
doubles only.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cramjam
import orjson
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric

from crisp.bench.http_client import LINE_PROTOCOL_HEADERS
from crisp.bench.points import FieldValue, Point

PROTOBUF = "application/x-protobuf"
SCOPE_NAME = "crisp-bench"
NAME_LABEL = "__name__"
_DOUBLE = struct.Struct("<d")


@dataclass(frozen=True)
class EncodedBody:
    data: bytes
    values: int  # field values (samples) the body carries


Encoder = Callable[[Sequence[Point]], EncodedBody]


@dataclass(frozen=True)
class WireFormat:
    name: str
    headers: tuple[tuple[str, str], ...]  # sent with every request
    encode: Encoder | None  # None: line protocol, which needs no re-encoding


def sample_name(measurement: str, field: str) -> str:
    return f"{measurement}_{field}"


def numeric(value: FieldValue) -> bool:
    return not isinstance(value, str)


def encode_json(points: Sequence[Point]) -> EncodedBody:
    items = [
        {
            "measurement": point.measurement,
            "tags": dict(point.tags),
            "fields": dict(point.fields),
            "timestamp": point.time_ns,
        }
        for point in points
    ]
    return EncodedBody(orjson.dumps(items), sum(len(point.fields) for point in points))


def _varint(value: int) -> bytes:
    if 0 <= value < 0x80:
        return bytes((value,))  # most lengths and tags: one byte
    value &= (1 << 64) - 1  # int64 travels as its two's complement
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(field_key: int, payload: bytes) -> bytes:
    return bytes((field_key,)) + _varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    # Label { string name = 1; string value = 2; } inside TimeSeries.labels (field 1)
    body = _length_delimited(0x0A, name.encode()) + _length_delimited(0x12, value.encode())
    return _length_delimited(0x0A, body)


class _LabelCache:
    """Encoded labels, built once per tag set and metric name of a body.

    Prometheus sends labels sorted by name; the tag set is encoded once in two parts,
    the labels that sort before ``__name__`` and those after, and each series' name
    label goes between them.
    """

    def __init__(self) -> None:
        self._tags: dict[tuple[tuple[str, str], ...], tuple[bytes, bytes]] = {}
        self._names: dict[str, bytes] = {}

    def labels(self, name: str, tags: tuple[tuple[str, str], ...]) -> bytes:
        parts = self._tags.get(tags)
        if parts is None:
            ordered = sorted(tags)
            before = b"".join(_label(k, v) for k, v in ordered if k < NAME_LABEL)
            after = b"".join(_label(k, v) for k, v in ordered if k >= NAME_LABEL)
            parts = self._tags[tags] = (before, after)
        name_label = self._names.get(name)
        if name_label is None:
            name_label = self._names[name] = _label(NAME_LABEL, name)
        return parts[0] + name_label + parts[1]


def encode_remote_write(points: Sequence[Point]) -> EncodedBody:
    """One ``TimeSeries`` per series of the body, its samples in arrival order."""
    series: dict[tuple[str, tuple[tuple[str, str], ...]], list[bytes]] = {}
    for point in points:
        time_ms = _varint(point.time_ns // 1_000_000)
        for field, value in point.fields:
            if numeric(value):
                key = (sample_name(point.measurement, field), point.tags)
                # Sample { double value = 1; int64 timestamp = 2; }, in TimeSeries field 2
                sample = b"\x09" + _DOUBLE.pack(float(value)) + b"\x10" + time_ms
                series.setdefault(key, []).append(_length_delimited(0x12, sample))
    cache = _LabelCache()
    request = b"".join(
        _length_delimited(0x0A, cache.labels(name, tags) + b"".join(samples))
        for (name, tags), samples in series.items()
    )
    data = bytes(cramjam.snappy.compress_raw(request))
    return EncodedBody(data, sum(len(samples) for samples in series.values()))


def encode_otlp(points: Sequence[Point]) -> EncodedBody:
    """Tags as resource attributes, one gauge per metric name under each resource.

    Points with the same tags share a resource, as an SDK or collector sends a host's
    metrics: its attributes travel once, not with every data point.
    """
    request = ExportMetricsServiceRequest()
    by_tags: dict[tuple[tuple[str, str], ...], dict[str, Metric]] = {}
    values = 0
    for point in points:
        metrics = by_tags.get(point.tags)
        if metrics is None:
            metrics = by_tags[point.tags] = {}
        for field, value in point.fields:
            if isinstance(value, str):
                continue
            name = sample_name(point.measurement, field)
            metric = metrics.get(name)
            if metric is None:
                metric = metrics[name] = Metric(name=name)
            data_point = metric.gauge.data_points.add(time_unix_nano=point.time_ns)
            if isinstance(value, int):
                data_point.as_int = value
            else:
                data_point.as_double = value
            values += 1
    for tags, metrics in by_tags.items():
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.extend(
            KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in tags
        )
        scope = resource_metrics.scope_metrics.add()
        scope.scope.name = SCOPE_NAME
        scope.metrics.extend(metrics.values())
    return EncodedBody(request.SerializeToString(), values)


FORMATS: dict[str, WireFormat] = {
    "lp": WireFormat("lp", tuple(LINE_PROTOCOL_HEADERS), None),
    "json": WireFormat("json", (("Content-Type", "application/json"),), encode_json),
    "remote-write": WireFormat(
        "remote-write",
        (
            ("Content-Type", PROTOBUF),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ),
        encode_remote_write,
    ),
    "otlp": WireFormat("otlp", (("Content-Type", PROTOBUF),), encode_otlp),
}
FORMAT_NAMES = tuple(FORMATS)


def wire_format(name: str) -> WireFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; one of {', '.join(FORMATS)}") from None
