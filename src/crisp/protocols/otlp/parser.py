"""OTLP/HTTP metrics export requests (protobuf or JSON) into a ``PointBatch``.

See ``points`` for the mapping; protobuf bodies of the common shape are read by
``columnar`` (vectorised, same points), the rest through protobuf. A body that
cannot be decoded in its declared encoding gives one ``LineError`` with
``line_number`` 0 and no points.
"""

from __future__ import annotations

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from crisp.core.batch import LineError, ParseResult, PointBatch
from crisp.protocols.otlp.attributes import attribute_tags
from crisp.protocols.otlp.columnar import read_points
from crisp.protocols.otlp.decode import PROTOBUF_TYPES, OtlpDecodeError, decode_request, media_type
from crisp.protocols.otlp.points import PointSink, add_metric


def parse_otlp_metrics(body: bytes, *, content_type: str) -> ParseResult:
    """Parse an ``ExportMetricsServiceRequest`` body.

    ``content_type`` is the request's Content-Type: ``application/x-protobuf`` (or
    ``application/protobuf``) or ``application/json``, parameters allowed; anything
    else is a wrong argument and raises ``ValueError``.
    """
    media = media_type(content_type)
    if media in PROTOBUF_TYPES:
        batch = read_points(body)
        if batch is not None:
            return ParseResult(batch, [])
    try:
        request = decode_request(body, media)
    except OtlpDecodeError as exc:
        return ParseResult(PointBatch(), [LineError(0, "", str(exc))])
    return result_from_request(request)


def result_from_request(request: ExportMetricsServiceRequest) -> ParseResult:
    """The points (and rejected data points) of a decoded request."""
    sink = PointSink()
    for resource_metrics in request.resource_metrics:
        resource_tags: dict[str, str] = {}
        attribute_tags(resource_metrics.resource.attributes, resource_tags)
        resource_set = sink.columns.tag_set(resource_tags)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                add_metric(sink, metric, resource_tags, resource_set)
    return ParseResult(sink.columns.to_point_batch(), sink.errors)
