"""OTLP/HTTP request bodies into an ``ExportMetricsServiceRequest`` message.

Both encodings OTLP/HTTP allows end as the same message, so the mapping to points
is written once. JSON goes through protobuf's proto3 JSON mapping, which OTLP's JSON
encoding follows (camelCase or original field names, int64 as strings or numbers,
enums as integers); unknown fields are ignored as the OTLP spec asks of receivers.
The common shape is read by ``json_fast`` first, which is several times faster.
"""

from __future__ import annotations

import orjson
from google.protobuf import json_format  # type: ignore[import-untyped]  # no stubs shipped
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from crisp.protocols.columns import clip
from crisp.protocols.otlp.json_fast import Fallback, request_from_json

PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
JSON_TYPE = "application/json"


class OtlpDecodeError(Exception):
    """The body is not a request in the declared encoding."""


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` → ``application/json``; ValueError if unknown."""
    if not isinstance(content_type, str):
        raise ValueError(f"content_type must be a str, not {type(content_type).__name__}")
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in PROTOBUF_TYPES and media != JSON_TYPE:
        raise ValueError(
            f"unsupported OTLP content type {content_type!r}: "
            "expected application/x-protobuf or application/json"
        )
    return media


def decode_request(body: bytes, media: str) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    if media == JSON_TYPE:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise OtlpDecodeError(f"invalid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise OtlpDecodeError("OTLP JSON body must be an object")
        try:
            return request_from_json(document)
        except (Fallback, ValueError, TypeError):
            pass  # Not the common shape: the general (slow) reader decides.
        try:
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
        except (
            json_format.ParseError,
            ValueError,
            TypeError,
            AttributeError,
            RecursionError,
        ) as exc:
            # protobuf's JSON parser reports some shape errors as plain Python errors.
            # Its messages nest one "Failed to parse" per level: keep the start.
            raise OtlpDecodeError(f"invalid OTLP JSON: {clip(str(exc), 300)}") from None
        return request
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError) as exc:
        raise OtlpDecodeError(f"invalid OTLP protobuf: {clip(str(exc), 300)}") from None
    return request
