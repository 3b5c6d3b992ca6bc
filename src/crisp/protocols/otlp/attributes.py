"""OTLP attributes (``KeyValue`` lists of ``AnyValue``) as tag strings.

Tags are strings, so each ``AnyValue`` is rendered as text: strings as is, bools
``true``/``false`` (as OTLP's JSON spells them), numbers in their shortest form,
bytes as base64 (OTLP JSON's encoding of ``bytesValue``), arrays and key-value lists
as compact JSON.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def attribute_tags(attributes: Iterable[KeyValue], into: dict[str, str]) -> None:
    """Add each attribute to ``into``; a later key wins, so callers order layers."""
    for attribute in attributes:
        into[attribute.key] = render(attribute.value)


def render(value: AnyValue) -> str:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind is None:
        return ""  # An empty AnyValue: the builder drops empty tags.
    if kind in ("array_value", "kvlist_value"):
        return orjson.dumps(_plain(value)).decode()
    return _scalar(value, kind)


def _scalar(value: AnyValue, kind: str) -> str:
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return repr(float(value.double_value))
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return ""


def _plain(value: AnyValue) -> Any:
    """The value as plain JSON-able Python, for arrays and key-value lists."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _plain(item.value) for item in value.kvlist_value.values}
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind == "int_value":
        return int(value.int_value)
    if kind == "double_value":
        number = float(value.double_value)
        # JSON has no NaN/Inf; their text keeps the value visible in the tag.
        return number if number == number and abs(number) != float("inf") else repr(number)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None
