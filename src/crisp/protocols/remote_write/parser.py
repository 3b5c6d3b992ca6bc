"""Prometheus remote-write 1.0 requests into a ``PointBatch``.

The body is a snappy *block* (not framed) compressed protobuf ``WriteRequest``
(see ``wire``). Mapping, as for the text format: ``__name__`` is the measurement,
the other labels are tags, and each sample is a point with one ``float`` field
``value`` at its millisecond timestamp (stored in ns). Stale markers (a special NaN)
are stored as NaN.

Errors: a body that is not snappy or not a ``WriteRequest`` gives one ``LineError``
with ``line_number`` 0 and no points, since nothing in it can be trusted. Otherwise
each rejected series gives one error naming its 1-based index in the request
(no ``__name__``, an empty or duplicate label name, a ``time``/``value`` label, a
timestamp out of range, a field type clash); the other series are kept.
"""

from __future__ import annotations

import cramjam

from crisp.core.batch import FieldType, LineError, ParseResult
from crisp.protocols.columns import PointColumns, clip
from crisp.protocols.remote_write.columnar import read_points
from crisp.protocols.remote_write.wire import Series, WireError, read_varint, read_write_request

NAME_LABEL = "__name__"
VALUE_FIELD = "value"
NS_PER_MS = 1_000_000
# The ms timestamps whose ns value fits int64.
MIN_TIMESTAMP_MS = -(2**63) // NS_PER_MS + 1
MAX_TIMESTAMP_MS = (2**63 - 1) // NS_PER_MS
# Snappy states the decoded size up front; refusing huge claims before decoding
# keeps a 20-byte body from asking for gigabytes.
MAX_DECODED_BYTES = 256 * 1024 * 1024
ECHO_LIMIT = 200


def parse_remote_write(body: bytes) -> ParseResult:
    """Parse a remote-write 1.0 body (snappy block compressed ``WriteRequest``)."""
    try:
        data = _decompress(body)
    except WireError as exc:
        return ParseResult(PointColumns().to_point_batch(), [LineError(0, "", str(exc))])
    batch = read_points(data)
    if batch is not None:
        return ParseResult(batch, [])
    return parse_write_request(data)


def parse_write_request(data: bytes) -> ParseResult:
    """The scalar reader, for every body: the decompressed ``WriteRequest`` as points."""
    try:
        all_series = read_write_request(data)
    except WireError as exc:
        return ParseResult(PointColumns().to_point_batch(), [LineError(0, "", str(exc))])
    columns = PointColumns()
    errors: list[LineError] = []
    for index, series in enumerate(all_series, start=1):
        reason = _add_series(columns, series)
        if reason is not None:
            errors.append(LineError(index, _render(series)[:ECHO_LIMIT], reason))
    return ParseResult(columns.to_point_batch(), errors)


def _decompress(body: bytes) -> bytes:
    try:
        claimed, _ = read_varint(body, 0, min(len(body), 10))
    except WireError:
        raise WireError("invalid snappy block: no length preamble") from None
    if claimed > MAX_DECODED_BYTES:
        raise WireError(
            f"snappy block claims {claimed} decoded bytes, over the {MAX_DECODED_BYTES} limit"
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise WireError(f"invalid snappy block: {exc}") from None


def _add_series(columns: PointColumns, series: Series) -> str | None:
    measurement = ""
    tags: dict[str, str] = {}
    for name, value in series.labels:
        if not name:
            return "empty label name"
        if name == NAME_LABEL:
            measurement = value
        elif name in tags:
            return f'duplicate label "{clip(name)}"'
        else:
            tags[name] = value
    if not measurement:
        return "series has no __name__ label"
    timestamps = series.timestamps_ms
    if timestamps and (min(timestamps) < MIN_TIMESTAMP_MS or max(timestamps) > MAX_TIMESTAMP_MS):
        return "sample timestamp is out of the int64 nanosecond range"
    times = [timestamp * NS_PER_MS for timestamp in timestamps]
    return columns.add_series(measurement, tags, VALUE_FIELD, FieldType.FLOAT, series.values, times)


def _render(series: Series) -> str:
    labels = ",".join(f"{name}={value!r}" for name, value in series.labels)
    return f"{{{labels}}} ({len(series.values)} samples)"
