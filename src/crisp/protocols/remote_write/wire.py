"""A minimal protobuf reader for the remote-write 1.0 ``WriteRequest``.

Remote-write 1.0 is small and frozen::

    WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated Metadata = 3; }
    TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
                   repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
    Label        { string name = 1; string value = 2; }
    Sample       { double value = 1; int64 timestamp = 2; }  // timestamp in ms

so reading it by hand avoids a generated-code dependency. Unknown fields of any wire
type are skipped, as protobuf requires; metadata, exemplars and native histograms are
skipped too (Crisp stores float samples only).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

WIRE_VARINT = 0
WIRE_I64 = 1
WIRE_LEN = 2
WIRE_I32 = 5
_DOUBLE = struct.Struct("<d")
_UINT64_LIMIT = 1 << 64


class WireError(Exception):
    """The bytes are not a valid protobuf message of the expected shape."""


@dataclass
class Series:
    labels: list[tuple[str, str]] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)


def read_varint(data: bytes, position: int, end: int) -> tuple[int, int]:
    """The unsigned varint at ``position`` and the position after it."""
    if position >= end:
        raise WireError("truncated varint")
    byte = data[position]
    if byte < 0x80:  # Most tags and lengths are one byte: skip the loop.
        return byte, position + 1
    result = byte & 0x7F
    shift = 7
    position += 1
    while True:
        if position >= end or shift > 63:
            raise WireError("truncated or over-long varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & (_UINT64_LIMIT - 1), position
        shift += 7


def _fields(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value or start, end) for each field in a message.

    For varints the third item is the value; for the other wire types it is where the
    payload starts, and the fourth is where it ends.
    """
    position = start
    while position < end:
        key, position = read_varint(data, position, end)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0 is invalid")
        if wire_type == WIRE_VARINT:
            value, position = read_varint(data, position, end)
            yield number, wire_type, value, position
            continue
        if wire_type == WIRE_LEN:
            length, position = read_varint(data, position, end)
            payload_end = position + length
        elif wire_type == WIRE_I64:
            payload_end = position + 8
        elif wire_type == WIRE_I32:
            payload_end = position + 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")
        if payload_end > end:
            raise WireError("field runs past the end of its message")
        yield number, wire_type, position, payload_end
        position = payload_end


def _expect(wire_type: int, wanted: int, what: str) -> None:
    if wire_type != wanted:
        raise WireError(f"{what} has wire type {wire_type}, expected {wanted}")


def read_write_request(data: bytes) -> list[Series]:
    """Every ``TimeSeries`` of a decompressed ``WriteRequest``; raises ``WireError``."""
    series: list[Series] = []
    for number, wire_type, start, end in _fields(data, 0, len(data)):
        if number == 1:
            _expect(wire_type, WIRE_LEN, "WriteRequest.timeseries")
            series.append(_read_series(data, start, end))
    return series


def _read_series(data: bytes, start: int, end: int) -> Series:
    series = Series()
    labels = series.labels
    values = series.values
    timestamps = series.timestamps_ms
    position = start
    # An inlined loop rather than _fields(): one generator step per sample would
    # double the cost of a request, which is mostly samples.
    while position < end:
        key = data[position]
        if key == 0x12 or key == 0x0A:  # samples or labels, length-delimited
            length, payload_start = read_varint(data, position + 1, end)
            payload_end = payload_start + length
            if payload_end > end:
                raise WireError("field runs past the end of its message")
            if key == 0x12:
                value, timestamp = _read_sample(data, payload_start, payload_end)
                values.append(value)
                timestamps.append(timestamp)
            else:
                labels.append(_read_label(data, payload_start, payload_end))
            position = payload_end
            continue
        # Anything else (exemplars, histograms, unknown fields, odd encodings):
        # hand the rest of the message to the general reader.
        for number, wire_type, payload_start, payload_end in _fields(data, position, end):
            if number == 1:
                _expect(wire_type, WIRE_LEN, "TimeSeries.labels")
                labels.append(_read_label(data, payload_start, payload_end))
            elif number == 2:
                _expect(wire_type, WIRE_LEN, "TimeSeries.samples")
                value, timestamp = _read_sample(data, payload_start, payload_end)
                values.append(value)
                timestamps.append(timestamp)
        break
    return series


def _read_label(data: bytes, start: int, end: int) -> tuple[str, str]:
    # Fast path: name (tag 0x0A) then value (tag 0x12), short lengths; 0x80 marks a
    # multi-byte length, left to the general reader.
    if end - start >= 4 and data[start] == 0x0A and data[start + 1] < 0x80:
        name_end = start + 2 + data[start + 1]
        if name_end + 2 <= end and data[name_end] == 0x12 and data[name_end + 1] < 0x80:
            value_end = name_end + 2 + data[name_end + 1]
            if value_end == end:
                try:
                    return (
                        data[start + 2 : name_end].decode("utf-8"),
                        data[name_end + 2 : value_end].decode("utf-8"),
                    )
                except UnicodeDecodeError:
                    raise WireError("label name or value is not valid UTF-8") from None
    name = value = ""
    for number, wire_type, payload_start, payload_end in _fields(data, start, end):
        if number in (1, 2):
            _expect(wire_type, WIRE_LEN, "Label.name/value")
            try:
                text = data[payload_start:payload_end].decode("utf-8")
            except UnicodeDecodeError:
                raise WireError("label name or value is not valid UTF-8") from None
            if number == 1:
                name = text
            else:
                value = text
    return name, value


def _read_sample(data: bytes, start: int, end: int) -> tuple[float, int]:
    # Fast path for the layout every encoder writes: value (tag 0x09), then
    # timestamp (tag 0x10); samples dominate a request, so this is the hot loop.
    if end - start > 10 and data[start] == 0x09 and data[start + 9] == 0x10:
        raw_timestamp, position = read_varint(data, start + 10, end)
        if position == end:
            return _DOUBLE.unpack_from(data, start + 1)[0], _signed(raw_timestamp)
    # Proto3 defaults: an absent value is 0.0, an absent timestamp 0.
    value = 0.0
    timestamp = 0
    for number, wire_type, payload, _end in _fields(data, start, end):
        if number == 1:
            _expect(wire_type, WIRE_I64, "Sample.value")
            value = _DOUBLE.unpack_from(data, payload)[0]
        elif number == 2:
            _expect(wire_type, WIRE_VARINT, "Sample.timestamp")
            timestamp = _signed(payload)
    return value, timestamp


def _signed(raw: int) -> int:
    # int64 travels as its two's complement in a 64-bit varint.
    return raw - _UINT64_LIMIT if raw >= 1 << 63 else raw
