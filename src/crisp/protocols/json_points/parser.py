"""JSON points, as the seed's ``POST /api/v1/metrics`` takes them.

The body is one object or an array of objects::

    {"measurement": "cpu", "tags": {"host": "a"}, "fields": {"usage": 0.5},
     "timestamp": 1700000000000000000}

Field typing follows the seed: a JSON integer is an ``integer`` field, any other
number ``float``, a bool ``boolean``, anything else ``string`` (Python ``str()``, so
``null`` becomes ``"None"``, as the seed stored it). Tag values are stringified the
same way; a ``null`` tag is no tag, and an object or array as a tag value is an error.
``timestamp`` is integer nanoseconds, as a number or a decimal string; absent or
``null`` means ``default_time_ns``.

Bodies whose items all pass are read by shape (``columnar``), with the same result;
the rest item by item. Errors name the item by its 1-based index in
``LineError.line_number`` (0 for a body that is not JSON at all); the good items
are kept.
"""

from __future__ import annotations

import orjson

from crisp.core.batch import FieldType, LineError, ParseResult
from crisp.protocols.columns import FieldValue, PointColumns, clip
from crisp.protocols.json_points.columnar import read_points

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MISSING_REQUIRED = "Missing required fields: measurement, tags, fields"
# Echoed items are cut so one huge bad item cannot bloat the error response.
ECHO_LIMIT = 200


class ItemError(Exception):
    """One item is unusable; caught per item, never escapes the parser."""


def parse_json_points(body: bytes, *, default_time_ns: int) -> ParseResult:
    """Parse a JSON points body into a batch plus one error per rejected item."""
    if isinstance(default_time_ns, bool) or not isinstance(default_time_ns, int):
        raise ValueError(f"default_time_ns must be an int, not {type(default_time_ns).__name__}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _body_error(body, f"invalid JSON: {exc}")
    if isinstance(document, dict):
        items: list[object] = [document]
    elif isinstance(document, list):
        items = document
    else:
        return _body_error(body, "body must be a JSON object or an array of objects")
    fast = read_points(items, default_time_ns)
    if fast is not None:
        return ParseResult(fast, [])
    return read_items(items, default_time_ns)


def read_items(items: list[object], default_time_ns: int) -> ParseResult:
    """The decoded items, one by one: every body can be read so."""
    columns = PointColumns()
    errors: list[LineError] = []
    for index, item in enumerate(items, start=1):
        try:
            measurement, tags, fields, time_ns = _read_item(item, default_time_ns)
        except ItemError as exc:
            errors.append(LineError(index, _echo(item), str(exc)))
            continue
        reason = columns.add(measurement, tags, fields, time_ns)
        if reason is not None:
            errors.append(LineError(index, _echo(item), reason))
    return ParseResult(columns.to_point_batch(), errors)


def _read_item(
    item: object, default_time_ns: int
) -> tuple[str, dict[str, str], dict[str, tuple[FieldType, FieldValue]], int]:
    if not isinstance(item, dict):
        raise ItemError("item must be a JSON object")
    measurement = item.get("measurement")
    raw_tags = item.get("tags")
    raw_fields = item.get("fields")
    if (
        not isinstance(measurement, str)
        or not measurement
        or not isinstance(raw_tags, dict)
        or not isinstance(raw_fields, dict)
        or not raw_fields
    ):
        raise ItemError(MISSING_REQUIRED)
    tags: dict[str, str] = {}
    for key, value in raw_tags.items():
        if not key:
            raise ItemError("tag keys must be non-empty")
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise ItemError(f'tag "{clip(key)}" must be a scalar, not {type(value).__name__}')
        tags[key] = str(value)
    fields: dict[str, tuple[FieldType, FieldValue]] = {}
    for key, value in raw_fields.items():
        if not key:
            raise ItemError("field keys must be non-empty")
        fields[key] = _typed(key, value)
    return measurement, tags, fields, _timestamp(item.get("timestamp"), default_time_ns)


def _typed(key: str, value: object) -> tuple[FieldType, FieldValue]:
    # bool before int: Python's bool is an int subclass.
    if isinstance(value, bool):
        return FieldType.BOOLEAN, value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ItemError(f'field "{clip(key)}": integer {value} is out of the int64 range')
        return FieldType.INTEGER, value
    if isinstance(value, float):
        return FieldType.FLOAT, value
    return FieldType.STRING, str(value)


def _timestamp(value: object, default_time_ns: int) -> int:
    if value is None:
        return default_time_ns
    if isinstance(value, str) and _is_decimal(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ItemError("timestamp must be integer nanoseconds (a number or a decimal string)")
    if not INT64_MIN <= value <= INT64_MAX:
        raise ItemError(f"timestamp {value} is out of the int64 nanosecond range")
    return value


def _is_decimal(text: str) -> bool:
    # int() alone would also take " 1", "1_000" and non-ASCII digits.
    digits = text[1:] if text[:1] == "-" else text
    return 0 < len(digits) <= 20 and digits.isascii() and digits.isdigit()


def _echo(item: object) -> str:
    try:
        text = orjson.dumps(item).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(item)
    return text[:ECHO_LIMIT]


def _body_error(body: bytes, reason: str) -> ParseResult:
    echo = body[:ECHO_LIMIT].decode("utf-8", "replace")
    return ParseResult(PointColumns().to_point_batch(), [LineError(0, echo, reason)])
